// Defaults and validation of `kubelet` launch configurations.
import * as assert from 'assert';
import { validateLaunchConfig, withDefaults } from '../../src/debug/launchConfig';
import { leaseRenewMs } from '../../src/debug/nodeSafeguard';
import { availableStages, functionForStage, STAGE_NAMES } from '../../src/debug/startupStages';

describe('launch configuration', () => {
  it('fills defaults without overriding what the user wrote', () => {
    const c = withDefaults({ host: 'node-1', build: { where: 'node', sourceDir: '/src' }, breakAt: ['syncLoop'] });
    assert.strictEqual(c.unit, 'kubelet.service');
    // No command: the launcher picks the debug build that fits the tree.
    assert.deepStrictEqual(c.build, { where: 'node', sourceDir: '/src', output: '_output/local/bin/linux/${arch}/kubelet' });
    assert.deepStrictEqual(withDefaults({ host: 'n', build: { command: 'make dbg' } }).build, {
      where: 'local',
      command: 'make dbg',
      output: '_output/local/bin/linux/${arch}/kubelet',
    });
    assert.deepStrictEqual(c.breakAt, ['syncLoop']);
    assert.deepStrictEqual(validateLaunchConfig(c).problems, []);
  });

  it('names every problem at once', () => {
    const { problems, config } = validateLaunchConfig(
      withDefaults({
        unit: 'kubelet',
        build: { where: 'none' },
        remoteBinary: '/usr/bin/kubelet',
        breakAt: ['syncloop'],
        substitutePath: [{ from: 1 }],
        args: [3],
      }),
    );
    assert.strictEqual(config, undefined);
    assert.strictEqual(problems.length, 7, problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"host" is required')));
    assert.ok(problems.some((p) => p.includes("node's own kubelet")));
    assert.ok(problems.some((p) => p.includes('unknown stage "syncloop"')));
  });

  it("lists the startup chain in the kubelet's order", () => {
    assert.strictEqual(STAGE_NAMES.length, 12);
    assert.strictEqual(STAGE_NAMES.indexOf('syncLoop'), 9);
    assert.ok(STAGE_NAMES.indexOf('NewKubeletCommand') < STAGE_NAMES.indexOf('RunKubelet'));
  });

  it('offers only the stages whose functions the binary has', () => {
    const stages = availableStages([
      'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoop',
      'k8s.io/kubernetes/cmd/kubelet/app.Run',
      'main.main',
    ]);
    assert.deepStrictEqual(
      stages.map((s) => s.stage),
      ['Run', 'syncLoop'],
    );
  });

  it('arms SyncPod under the name each Kubernetes version gives it', () => {
    const v120 = ['k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncPod', 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoop'];
    const v130 = ['k8s.io/kubernetes/pkg/kubelet.(*Kubelet).SyncPod', 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoop'];
    assert.strictEqual(functionForStage('SyncPod', v120), 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncPod');
    assert.strictEqual(functionForStage('SyncPod', v130), 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).SyncPod');
    assert.strictEqual(
      functionForStage('syncPod', v130),
      'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).SyncPod',
      'the old spelling is an alias',
    );
    assert.strictEqual(functionForStage('SyncPod', ['main.main']), undefined);
    assert.deepStrictEqual(validateLaunchConfig(withDefaults({ host: 'n', breakAt: ['syncPod'] })).problems, []);
  });

  it("fills vscode-go's attributes with Delve's defaults, and leaves Delve's DAP options to Delve", () => {
    const c = withDefaults({ host: 'n' });
    assert.deepStrictEqual([c.dlvFlags, c.showLog, c.logOutput, c.haltFree, c.trace], [[], false, 'debugger', false, undefined]);
    for (const key of ['hideSystemGoroutines', 'goroutineFilters', 'showGlobalVariables', 'stackTraceDepth', 'showRegisters']) {
      assert.ok(!(key in c), `${key} is only sent when written`);
    }
    const full = withDefaults({
      host: 'n',
      dlvFlags: ['--check-go-version=false'],
      showLog: true,
      logOutput: 'dap',
      trace: 'verbose',
      hideSystemGoroutines: true,
      goroutineFilters: '-with user',
      showGlobalVariables: true,
      stackTraceDepth: 20,
      showRegisters: false,
    });
    assert.deepStrictEqual(validateLaunchConfig(full).problems, []);
  });

  it('names each wrong vscode-go attribute', () => {
    const { problems } = validateLaunchConfig(
      withDefaults({
        host: 'n',
        dlvFlags: ['--listen=:1'],
        showLog: 'yes',
        logOutput: 'debuger',
        trace: 'loud',
        hideSystemGoroutines: 1,
        goroutineFilters: ['-with user'],
        showGlobalVariables: 'true',
        stackTraceDepth: 0,
        showRegisters: null,
      }),
    );
    for (const attribute of [
      'dlvFlags',
      'showLog',
      'logOutput',
      'trace',
      'hideSystemGoroutines',
      'goroutineFilters',
      'showGlobalVariables',
      'stackTraceDepth',
      'showRegisters',
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(`"${attribute}"`)),
        `${attribute}: ${problems.join('\n')}`,
      );
    }
    assert.strictEqual(problems.length, 9, problems.join('\n'));
    assert.match(validateLaunchConfig(withDefaults({ host: 'n', stackTraceDepth: 2.5 })).problems[0], /whole number/);
  });

  it('refuses what would halt the program in a haltFree session', () => {
    assert.deepStrictEqual(validateLaunchConfig(withDefaults({ host: 'n', haltFree: true })).problems, []);
    const { problems } = validateLaunchConfig(withDefaults({ host: 'n', haltFree: true, stopOnEntry: true, breakAt: ['syncLoop'] }));
    assert.strictEqual(problems.length, 2, problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"stopOnEntry" halts')) && problems.some((p) => p.includes('"breakAt" halts')));
    assert.match(validateLaunchConfig(withDefaults({ host: 'n', haltFree: 'on' })).problems[0], /"haltFree" must be true or false/);
  });
});

describe('safeguard lease', () => {
  it('is renewed three times within any grace, at most every 5 s and at least every second', () => {
    assert.strictEqual(leaseRenewMs(20), 5000);
    assert.strictEqual(leaseRenewMs(6), 2000);
    assert.strictEqual(leaseRenewMs(5), 1666);
    assert.strictEqual(leaseRenewMs(1), 1000);
    for (const grace of [5, 6, 10, 20, 600]) {
      assert.ok(3 * leaseRenewMs(grace) <= Math.max(grace * 1000, 3000), `grace ${grace}`);
    }
  });
});
