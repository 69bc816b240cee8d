// Defaults and validation of `kubelet` launch configurations.
import * as assert from 'assert';
import { STARTUP_STAGES, validateLaunchConfig, withDefaults } from '../../src/debug/launchConfig';

describe('launch configuration', () => {
  it('fills defaults without overriding what the user wrote', () => {
    const c = withDefaults({ host: 'node-1', build: { where: 'node', sourceDir: '/src' }, breakAt: ['syncLoop'] });
    assert.strictEqual(c.unit, 'kubelet.service');
    assert.deepStrictEqual(c.build, { where: 'node', sourceDir: '/src', command: 'make WHAT=cmd/kubelet DBG=1 KUBE_BUILD_PLATFORMS=linux/${arch}', output: '_output/local/bin/linux/${arch}/kubelet' });
    assert.deepStrictEqual(c.breakAt, ['syncLoop']);
    assert.deepStrictEqual(validateLaunchConfig(c).problems, []);
  });

  it('names every problem at once', () => {
    const { problems, config } = validateLaunchConfig(withDefaults({
      unit: 'kubelet', build: { where: 'none' }, remoteBinary: '/usr/bin/kubelet', breakAt: ['syncloop'], substitutePath: [{ from: 1 }], args: [3],
    }));
    assert.strictEqual(config, undefined);
    assert.strictEqual(problems.length, 7, problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('"host" is required')));
    assert.ok(problems.some((p) => p.includes("node's own kubelet")));
    assert.ok(problems.some((p) => p.includes('unknown stage "syncloop"')));
  });

  it('lists the startup chain in the kubelet\'s order', () => {
    assert.strictEqual(STARTUP_STAGES.length, 12);
    assert.strictEqual(STARTUP_STAGES.indexOf('syncLoop'), 9);
    assert.ok(STARTUP_STAGES.indexOf('NewKubeletCommand') < STARTUP_STAGES.indexOf('RunKubelet'));
  });
});
