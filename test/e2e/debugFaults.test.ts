// Every way "Debug kubelet on node" can fail or be cut short, against the real test node: errors
// before the kubelet is touched leave it running as it was; after, the node is always restored.
import * as assert from 'assert';
import { ErrorCode, UserError } from '../../src/common/errors';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { debugStateOf, launchKubeletUnderDelve, restoreUnitOnNode } from '../../src/debug/kubeletLauncher';
import { functionForStage } from '../../src/debug/startupStages';
import { DapBridge } from '../../src/debug/dapBridge';
import { openDelveStream } from '../../src/debug/delveStream';
import { attachTestClient } from '../support/dapAttach';
import { DapTestClient } from '../support/dapClient';
import { expectUserError } from '../support/expectUserError';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { connect } from '../support/nodeClient';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { sharedNode } from './hooks';

describe('Debug kubelet on node: faults', function () {
  this.timeout(240_000);
  const suite = useConnectionAndWorkspace(sharedNode);

  /** Runs a launch that must fail before anything on the node changed. */
  async function failsUntouched(raw: Record<string, unknown>, code: ErrorCode, hooks = testHooks()): Promise<UserError> {
    const node = sharedNode();
    const before = await kubeletState(node);
    const err = await expectUserError(
      launchKubeletUnderDelve(suite.conn(), launchConfig({ host: node.sshHosts.root, ...raw }), suite.workspace(), hooks),
      code,
    );
    assert.deepStrictEqual(await kubeletState(node), before, 'the kubelet was not touched');
    await expectNodeRestored(node, before, 1000);
    return err;
  }

  it('catches a build failure before the kubelet is stopped', async () => {
    const err = await failsUntouched(
      { build: { where: 'local', command: 'make WHAT=cmd/kubelet GOFLAGS=-this-flag-does-not-exist' } },
      ErrorCode.BuildFailed,
    );
    assert.match(err.message, /build failed/);
  });

  it('catches a build failure on the node, too', async () => {
    const hooks = testHooks();
    const err = await failsUntouched(
      { build: { where: 'node', sourceDir: '/root/src/k8s.io/kubernetes', command: 'make WHAT=cmd/no-such-command' } },
      ErrorCode.BuildFailed,
      hooks,
    );
    assert.match(err.message, /was not touched/);
  });

  it('says which Delve to install when the node has none', async () => {
    const err = await failsUntouched({ dlvPath: '/opt/no-such/dlv' }, ErrorCode.DelveMissing);
    assert.match(err.message, /Install a Delve/);
  });

  it("catches a Delve too old for the binary's Go before the kubelet is stopped", async () => {
    const node = sharedNode();
    // Delve 1.8.3 is the last release for Go 1.16-1.18; the node's Go (1.19) needs 1.9.0 or later.
    await node.ssh(
      `printf '#!/bin/sh\\necho "Delve Debugger"\\necho "Version: 1.8.3"\\n' > /usr/local/bin/old-dlv && chmod +x /usr/local/bin/old-dlv`,
    );
    try {
      const err = await failsUntouched({ dlvPath: '/usr/local/bin/old-dlv' }, ErrorCode.DelveTooOld);
      assert.match(
        err.message,
        /Delve 1\.8\.3 on the node debugs binaries built by Go 1\.16 to 1\.18, but this binary was built by go1\.19\.\d+/,
      );
      assert.match(err.message, /go install github\.com\/go-delve\/delve\/cmd\/dlv@v1\.21\.2/);
      assert.match(err.message, /--check-go-version=false/);
    } finally {
      await node.ssh('rm -f /usr/local/bin/old-dlv');
    }
  });

  it('stops on a full disk before sending, leaving nothing behind', async () => {
    const node = sharedNode();
    await node.ssh('mkdir -p /mnt/tiny && mount -t tmpfs -o size=2m tmpfs /mnt/tiny');
    try {
      const err = await failsUntouched({ build: { where: 'local' }, remoteBinary: '/mnt/tiny/kubelet' }, ErrorCode.NodeDiskFull);
      assert.match(err.message, /MiB free/);
      assert.strictEqual((await node.ssh('ls -A /mnt/tiny')).stdout.trim(), '', 'no partial upload left');
    } finally {
      await node.ssh('umount /mnt/tiny; rmdir /mnt/tiny');
    }
  });

  it('warns about version skew and stops when the user declines', async () => {
    const hooks = testHooks({ acceptSkew: false });
    await failsUntouched(
      { build: { where: 'local', command: 'make WHAT=cmd/kubelet DBG=1 KUBE_GIT_VERSION=v1.31.0' } },
      ErrorCode.VersionSkewDeclined,
      hooks,
    );
    assert.strictEqual(hooks.skewQuestions.length, 1);
    assert.match(hooks.skewQuestions[0], /v1\.30\.\d+.*v1\.31\.0.*1\.31/);
  });

  it('refuses a second session on the same node, naming the holder', async () => {
    const node = sharedNode();
    const first = await launchKubeletUnderDelve(
      suite.conn(),
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
      suite.workspace(),
      testHooks(),
    );
    const other = connect(node, 'sudo');
    try {
      const err = await expectUserError(
        launchKubeletUnderDelve(
          other,
          launchConfig({ host: node.sshHosts.sudo, build: { where: 'local' } }),
          suite.workspace(),
          testHooks(),
        ),
        ErrorCode.SessionHeld,
      );
      assert.match(err.message, /already being debugged by .*@.*\(VS Code, pid \d+\), since/);
    } finally {
      other.disconnect();
      const report = await first.restore();
      assert.deepStrictEqual(report.leftovers, []);
    }
    await expectNodeRestored(node);
  });

  it('restores the node when Delve is killed', async () => {
    const node = sharedNode();
    const target = await launchKubeletUnderDelve(
      suite.conn(),
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
      suite.workspace(),
      testHooks({ graceSeconds: 60 }),
    );
    assert.strictEqual((await node.ssh('pgrep -x dlv >/dev/null && echo running')).stdout.trim(), 'running');
    await node.ssh('pkill -KILL -x dlv');
    // Nobody calls restore: the safeguard on the node sees the unit die and puts it back.
    await expectNodeRestored(node, undefined, 30_000);
    void target;
  });

  it('restores the node when VS Code dies while the kubelet is halted at a breakpoint (the lease runs out)', async () => {
    const node = sharedNode();
    const own = connect(node);
    const target = await launchKubeletUnderDelve(
      own,
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
      suite.workspace(),
      testHooks({ graceSeconds: 6 }),
    );
    assert.strictEqual((await kubeletState(node)).exe.endsWith('/dlv'), true, 'the unit runs Delve now');
    // A bare DAP client, no proxy: when VS Code dies, nothing of ours is left to restore anything.
    const client = new DapTestClient((m) => bridge.send(m));
    const bridge = new DapBridge(await openDelveStream(own, target.port), { message: client.receive, closed: () => undefined });
    await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    await client.request('attach', { mode: 'remote' });
    await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionForStage('syncLoop') }] });
    await client.request('configurationDone');
    await client.waitEvent('stopped', 60_000);
    const started = Date.now();
    own.disconnect();
    await expectNodeRestored(node, undefined, 30_000);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= 5, `the safeguard waited for the lease (${seconds.toFixed(1)} s), it did not restore early`);
  });

  it('restores the node when the SSH connection is cut while the kubelet is halted at a breakpoint', async () => {
    const node = sharedNode();
    const own = connect(node);
    const target = await launchKubeletUnderDelve(
      own,
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
      suite.workspace(),
      testHooks({ graceSeconds: 6 }),
    );
    const { client } = await attachTestClient(target, suite.workspace());
    await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
    await client.request('launch', {});
    await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionForStage('syncLoopIteration') }] });
    await client.request('configurationDone');
    await client.waitEvent('stopped', 60_000);
    try {
      // Delve's child is the debug kubelet; halted, its threads sit in tracing stop.
      const state = await node.ssh('for p in $(pgrep -P $(pgrep -x dlv)); do grep State: /proc/$p/status; done');
      assert.match(state.stdout, /t \(tracing stop\)/, `the kubelet is halted: ${state.stdout}`);
      // Cut the network path: kill this connection's sshd on the node. The proxy sees the stream die and
      // restores over a fresh connection; were that impossible, the node-side safeguard would.
      const killOwnSshd = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';
      await own.exec(['/bin/sh', '-c', killOwnSshd]).catch(() => undefined);
      await expectNodeRestored(node, undefined, 30_000);
    } finally {
      own.disconnect();
      await restoreUnitOnNode(suite.conn(), 'kubelet.service');
    }
  });

  it('uses a Delve uploaded from this machine when the node has none (kubelet.debug.localDlvPath)', async () => {
    const node = sharedNode();
    const dir = tempDir('dlv');
    const localDlv = path.join(dir, 'dlv');
    execFileSync('scp', ['-q', '-F', node.sshConfigPath, `${node.sshHosts.root}:/usr/bin/dlv`, localDlv]);
    const hooks = { ...testHooks(), localDlvPath: localDlv };
    const target = await launchKubeletUnderDelve(
      suite.conn(),
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' }, dlvPath: '/opt/no-such/dlv' }),
      suite.workspace(),
      hooks,
    );
    try {
      assert.match((await kubeletState(node)).exe, /^\/var\/lib\/kubelet-debug\/dlv$/, 'the unit runs the uploaded Delve');
    } finally {
      assert.deepStrictEqual((await target.restore()).leftovers, []);
      await node.ssh('rm -f /var/lib/kubelet-debug/dlv');
      removeTempDir(dir);
    }
    await expectNodeRestored(node);
  });

  it('finds a session left behind and restores it on request', async () => {
    const node = sharedNode();
    const target = await launchKubeletUnderDelve(
      suite.conn(),
      launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
      suite.workspace(),
      testHooks({ graceSeconds: 600 }),
    );
    assert.strictEqual(await debugStateOf(suite.conn(), 'kubelet.service'), 'held');
    // As if the safeguard itself were gone (the window crashed and someone stopped the guard).
    await node.ssh(`systemctl stop ${target.paths.guardUnit}`);
    assert.strictEqual(await debugStateOf(suite.conn(), 'kubelet.service'), 'stale');
    const report = await restoreUnitOnNode(suite.conn(), 'kubelet.service');
    assert.deepStrictEqual([report.activeState, report.executable, report.leftovers], ['active', '/usr/bin/kubelet', []]);
    assert.strictEqual(await debugStateOf(suite.conn(), 'kubelet.service'), 'free');
    await expectNodeRestored(node);
  });
});
