// Not only the kubelet: a small Go daemon under its own unit (demo.service) that parses no flags and
// stamps no version, built in another folder than the one open in VS Code. The launch must not run it
// to ask its version, the path mapping must come from the binary's own files, and the words must
// name the unit.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { attachTestClient } from '../support/dapAttach';
import { firstStatementOf } from '../support/goSource';
import { launchConfig, testHooks } from '../support/launchHooks';
import { connect } from '../support/nodeClient';
import { sharedNode } from './hooks';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'demo-daemon');

describe('Debug any Go daemon under systemd (demo.service)', function () {
  this.timeout(240_000);
  let conn: NodeConnection;
  let workspace: string;
  let buildDir: string;

  const goBuild = (dir: string, out: string, ...flags: string[]) =>
    execFileSync('go', ['build', ...flags, '-o', out, '.'], {
      cwd: dir,
      env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off', CGO_ENABLED: '0' },
    });

  before(async function () {
    this.timeout(180_000);
    const node = sharedNode();
    workspace = mkdtempSync(path.join(tmpdir(), 'krd-demo-ws-'));
    buildDir = mkdtempSync(path.join(tmpdir(), 'krd-demo-build-'));
    cpSync(FIXTURE, workspace, { recursive: true });
    cpSync(FIXTURE, buildDir, { recursive: true });
    // The installed daemon: an ordinary release build. The debug build is made in another folder, as on a build machine.
    goBuild(buildDir, 'demo-release', '-ldflags=-s -w');
    goBuild(buildDir, 'demo-debug', '-gcflags=all=-N -l');
    execFileSync('scp', ['-F', node.sshConfigPath, '-q', path.join(buildDir, 'demo-release'), `${node.sshHosts.root}:/usr/local/bin/demo`]);
    await node.ssh(
      [
        'rm -f /run/demo-starts',
        "printf '[Unit]\\nDescription=A demo daemon that is not the kubelet\\n\\n[Service]\\nExecStart=/usr/local/bin/demo\\n' > /etc/systemd/system/demo.service",
        'systemctl daemon-reload && systemctl start demo',
      ].join(' && '),
    );
    conn = connect(node);
  });

  after(async () => {
    conn?.disconnect();
    await sharedNode().ssh(
      'systemctl stop demo; rm -f /etc/systemd/system/demo.service /usr/local/bin/demo /run/demo-starts /var/lib/kubelet-debug/demo*; systemctl daemon-reload',
    );
    rmSync(workspace, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });

  it('launches without running the daemon to ask its version, maps its sources from the binary, stops at a breakpoint, and restores demo.service', async () => {
    const node = sharedNode();
    const pidBefore = (await node.ssh('systemctl show -p MainPID --value demo')).stdout.trim();
    const hooks = testHooks();
    const target = await launchKubeletUnderDelve(
      conn,
      launchConfig({
        host: node.sshHosts.root,
        unit: 'demo.service',
        build: { where: 'none', binary: path.join(buildDir, 'demo-debug') },
      }),
      workspace,
      hooks,
    );
    assert.strictEqual(target.remoteBinary, '/var/lib/kubelet-debug/demo', 'named after the unit, not "kubelet"');
    const { client, proxy, mappings, finished } = await attachTestClient(target, workspace);
    try {
      assert.deepStrictEqual(mappings, [{ from: workspace, to: buildDir }], "derived from the binary's own files, not from a kubelet file");
      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', {});
      await client.waitEvent('initialized');
      const file = path.join(workspace, 'internal', 'ticker', 'ticker.go');
      const line = firstStatementOf(readFileSync(file, 'utf8').split('\n'), /^func \(t \*Ticker\) Next\(/);
      const bp = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
        source: { path: file },
        breakpoints: [{ line }],
      });
      assert.ok(bp.body.breakpoints[0].verified, JSON.stringify(bp.body));
      await client.request('configurationDone');
      const stop = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
      const st = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
        threadId: stop.body.threadId,
        startFrame: 0,
        levels: 1,
      });
      assert.deepStrictEqual([st.body.stackFrames[0].source?.path, st.body.stackFrames[0].line], [file, line]);

      await client.request('disconnect', {});
      assert.strictEqual(finished()?.restored, true, finished()?.message);
      assert.match(client.outputText(), /Restoring demo\.service on the node/);
    } catch (err) {
      console.log(client.transcript.join('\n'));
      await proxy.dispose();
      throw err;
    }
    const after = (
      await node.ssh('pid=$(systemctl show -p MainPID --value demo); echo "$(systemctl is-active demo) $(readlink /proc/$pid/exe) $pid"')
    ).stdout
      .trim()
      .split(' ');
    assert.deepStrictEqual(after.slice(0, 2), ['active', '/usr/local/bin/demo']);
    assert.notStrictEqual(after[2], pidBefore, 'restarted as the real daemon after the session');
    const starts = (await node.ssh('cat /run/demo-starts')).stdout;
    assert.doesNotMatch(starts, /--version/, `nothing ran the daemon to ask its version:\n${starts}`);
    assert.match(starts, /^\/var\/lib\/kubelet-debug\/demo$/m, 'the debug build ran under Delve');
  });
});
