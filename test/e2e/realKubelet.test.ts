// The real thing: Kubernetes v1.20.2's kubelet (from Debian's source package) on a node running
// containerd and a static pod, debugged through the extension's launcher and DAP proxy. Its builds are
// the ones that tree really gives: stripped by default, optimised without -N -l, and the debug build.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { readBinaryFacts } from '../../src/binary/binaryFacts';
import { withLocalReader } from '../../src/binary/fileReaders';
import { chooseDebugBuildCommand } from '../../src/kube/debugBuildCommand';
import { ErrorCode } from '../../src/common/errors';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { functionForStage } from '../../src/debug/startupStages';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { bootTestNode, TestNode } from '../node/testNode';
import { attachTestClient } from '../support/dapAttach';
import { expectUserError } from '../support/expectUserError';
import { firstStatementOf } from '../support/goSource';
import { launchConfig, testHooks, workspaceCopy } from '../support/launchHooks';
import { connect } from '../support/nodeClient';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { podState, RealKubernetes, realKubernetes } from '../support/realKubernetes';
import { rmSync } from 'fs';

describe('The real Kubernetes v1.20.2 kubelet (containerd, a running static pod)', function () {
  this.timeout(300_000);
  let node: TestNode;
  let conn: NodeConnection;
  let k8s: RealKubernetes;

  before(async function () {
    this.timeout(30 * 60 * 1000); // a fresh machine builds Kubernetes first
    k8s = realKubernetes();
    node = await bootTestNode({ kind: 'real', log: (line) => process.stdout.write(`    [real node] ${line}\n`) });
    conn = connect(node);
  });
  after(async function () {
    this.timeout(60_000);
    conn?.disconnect();
    await node?.stop();
  });

  /** The launch must fail with `code` and leave the kubelet and every container exactly as they were. */
  async function failsUntouched(binary: string, code: ErrorCode, extra: Record<string, unknown> = {}) {
    const [kubeletBefore, podsBefore] = [await kubeletState(node), await podState(node)];
    const hooks = testHooks();
    const err = await expectUserError(
      launchKubeletUnderDelve(conn, launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary }, ...extra }), k8s.src, hooks),
      code,
    );
    assert.ok(!hooks.steps.some((s) => /^(Uploading|Starting)/.test(s)), `nothing was sent or restarted: ${hooks.steps.join(' → ')}`);
    assert.deepStrictEqual(await kubeletState(node), kubeletBefore, 'the same kubelet process still runs');
    assert.strictEqual(await podState(node), podsBefore);
    return err;
  }

  it('picks the v1.20 debug build (GOLDFLAGS="" GOGCFLAGS="all=-N -l") from the tree, and the binaries it gives are judged as they are', async () => {
    const choice = chooseDebugBuildCommand(readFileSync(path.join(k8s.src, 'hack', 'lib', 'golang.sh'), 'utf8'));
    assert.strictEqual(choice.command, 'make WHAT=cmd/kubelet GOLDFLAGS="" GOGCFLAGS="all=-N -l" KUBE_BUILD_PLATFORMS=linux/${arch}');
    const [release, optimised, debug] = await Promise.all(
      [k8s.releaseKubelet, k8s.optimisedKubelet, k8s.debugKubelet].map((f) => withLocalReader(f, readBinaryFacts)),
    );
    assert.strictEqual(release.verdict.kind, 'stripped');
    assert.strictEqual(optimised.verdict.kind, 'optimised');
    assert.deepStrictEqual(debug.verdict, { kind: 'ok' });
    assert.match(debug.info.settings.get('-gcflags') ?? '', /^all=-N -l -trimpath=/);
    for (const facts of [release, optimised, debug]) {
      assert.strictEqual(facts.stampedVersion, 'v1.20.2');
    }
  });

  it('refuses the stripped kubelet that `make WHAT=cmd/kubelet DBG=1` gives in v1.20, before the node is touched', async () => {
    const err = await failsUntouched(k8s.releaseKubelet, ErrorCode.NotDebuggable);
    assert.match(err.message, /no debug information \(it was linked with -ldflags="-s -w …"\)/);
    assert.match(err.message, /GOLDFLAGS="" GOGCFLAGS="all=-N -l"/);
  });

  it('refuses the optimised kubelet (DWARF, but no -N -l), naming the way out', async () => {
    const err = await failsUntouched(k8s.optimisedKubelet, ErrorCode.NotDebuggable);
    assert.match(
      err.message,
      /built with optimisations \(it was compiled with -gcflags="-trimpath=[^"]+", which does not turn off optimisations/,
    );
    assert.match(err.message, /"allowOptimizedBinary": true/);
  });

  it('stops at syncLoop and at a source breakpoint in syncLoopIteration of the real kubelet.go, keeps the flags, the journal tag and every pod, and restores the node', async () => {
    const kubeletBefore = await kubeletState(node);
    const podsBefore = await podState(node);
    const argvBefore = (await node.ssh(`tr '\\0' '\\n' </proc/${kubeletBefore.pid}/cmdline | tail -n +2`)).stdout;
    const since = Math.floor(Date.now() / 1000);
    const hooks = testHooks();
    const target = await launchKubeletUnderDelve(
      conn,
      launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary: k8s.debugKubelet }, breakAt: ['syncLoop'] }),
      k8s.src,
      hooks,
    );
    assert.ok(target.timings.delveLoad > 0 && target.timings.launch > 0, JSON.stringify(target.timings));
    assert.ok(target.functions.includes(functionForStage('SyncPod', target.functions)!), 'v1.20 names the stage syncPod, and it is found');
    assert.strictEqual(functionForStage('SyncPod', target.functions), 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncPod');
    const { client, proxy, mappings, finished } = await attachTestClient(target, k8s.src);
    try {
      // -trimpath=$KUBE_ROOT leaves relative names; the mapping comes from the binary's own files.
      assert.deepStrictEqual(mappings, [{ from: k8s.src, to: '_output/local/go/src/k8s.io/kubernetes' }]);
      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', {});
      await client.waitEvent('initialized');
      const fbp = await client.request<DebugProtocol.SetFunctionBreakpointsResponse>('setFunctionBreakpoints', {
        breakpoints: [{ name: functionForStage('syncLoop', target.functions) }],
      });
      assert.ok(fbp.body.breakpoints[0].verified, JSON.stringify(fbp.body));
      const localFile = path.join(k8s.src, 'pkg', 'kubelet', 'kubelet.go');
      const bpLine = firstStatementOf(readFileSync(localFile, 'utf8').split('\n'), /^func \(kl \*Kubelet\) syncLoopIteration\(/);
      const bp = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
        source: { path: localFile },
        breakpoints: [{ line: bpLine }],
      });
      assert.ok(bp.body.breakpoints[0].verified, `source breakpoint verified: ${JSON.stringify(bp.body)}`);
      await client.request('configurationDone');

      const stop1 = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 120_000);
      const st1 = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
        threadId: stop1.body.threadId,
        startFrame: 0,
        levels: 3,
      });
      assert.match(st1.body.stackFrames[0].name, /\(\*Kubelet\)\.syncLoop$/);
      assert.strictEqual(st1.body.stackFrames[0].source?.path, localFile, 'the frame opens the workspace file');

      // Under Delve the kubelet got exactly the real one's arguments.
      const debugged = (
        await node.ssh(
          "pid=$(pgrep -f -x \"/var/lib/kubelet-debug/kubelet.*\" | head -n 1); tr '\\0' '\\n' </proc/$pid/cmdline | tail -n +2",
        )
      ).stdout;
      assert.strictEqual(debugged, argvBefore);
      assert.ok(argvBefore.split('\n').length > 5, argvBefore);

      await client.request('continue', { threadId: stop1.body.threadId });
      const stop2 = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 120_000);
      const st2 = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
        threadId: stop2.body.threadId,
        startFrame: 0,
        levels: 1,
      });
      assert.deepStrictEqual([st2.body.stackFrames[0].source?.path, st2.body.stackFrames[0].line], [localFile, bpLine]);

      // journalctl -t kubelet keeps seeing the kubelet while it runs under Delve.
      const tags = (
        await node.ssh(
          `journalctl -u kubelet --since=@${since} -o json --output-fields=SYSLOG_IDENTIFIER --no-pager | grep -o '"SYSLOG_IDENTIFIER":"[^"]*"' | sort | uniq -c`,
        )
      ).stdout;
      assert.match(tags, /"SYSLOG_IDENTIFIER":"kubelet"/);
      assert.doesNotMatch(tags, /"SYSLOG_IDENTIFIER":"dlv"/);

      await client.request('disconnect', { restart: false });
      assert.strictEqual(finished()?.restored, true, finished()?.message);
      await expectNodeRestored(node, kubeletBefore);
      assert.strictEqual(await podState(node), podsBefore, 'no container was restarted or recreated');
    } catch (err) {
      console.log(client.transcript.join('\n'));
      await proxy.dispose();
      throw err;
    }
  });

  it("keeps the safeguard's lease through the restart of a kubelet that takes seconds to stop (a session right after the last one), with a short grace", async () => {
    const podsBefore = await podState(node);
    // A kubelet in its first seconds handles SIGTERM only after its cloud credential lookup, about 5 s:
    // longer than this grace, so the grace must count from Delve's start, not from before the stop.
    await node.ssh('systemctl restart kubelet');
    const hooks = testHooks({ graceSeconds: 6 });
    const target = await launchKubeletUnderDelve(
      conn,
      launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary: k8s.debugKubelet } }),
      k8s.src,
      hooks,
    );
    const report = await target.restore();
    assert.deepStrictEqual([report.activeState, report.executable, report.leftovers], ['active', '/usr/bin/kubelet', []]);
    await expectNodeRestored(node);
    const guard = (await node.ssh('journalctl -u "krd-guard-*" --no-pager -o cat | grep "lease not renewed"; true')).stdout;
    assert.strictEqual(guard, '', 'the safeguard never had to restore');
    assert.strictEqual(await podState(node), podsBefore);
  });

  it("reports Delve's own last words and restores the node when Delve cannot launch the binary (no hang)", async () => {
    const podsBefore = await podState(node);
    await node.ssh('mkdir -p /run/krd-noexec && mount -t tmpfs -o noexec,size=400m tmpfs /run/krd-noexec');
    try {
      const err = await expectUserError(
        launchKubeletUnderDelve(
          conn,
          launchConfig({
            host: node.sshHosts.root,
            build: { where: 'none', binary: k8s.debugKubelet },
            remoteBinary: '/run/krd-noexec/kubelet',
          }),
          k8s.src,
          testHooks(),
        ),
        ErrorCode.DelveDidNotStart,
      );
      assert.match(err.message, /Delve on .* (exited|did not)/);
      assert.match(err.message, /could not launch process/);
    } finally {
      await node.ssh('umount /run/krd-noexec; rmdir /run/krd-noexec');
    }
    await expectNodeRestored(node);
    assert.strictEqual(await podState(node), podsBefore);
  });

  it("warns about version skew against the node's real kubelet, whose version it reads from the binary", async () => {
    const workspace = workspaceCopy();
    try {
      const hooks = testHooks({ acceptSkew: false });
      const before = await kubeletState(node);
      await expectUserError(
        launchKubeletUnderDelve(
          conn,
          launchConfig({
            host: node.sshHosts.root,
            build: { where: 'local', command: 'make WHAT=cmd/kubelet DBG=1 KUBE_GIT_VERSION=v1.31.0' },
          }),
          workspace,
          hooks,
        ),
        ErrorCode.VersionSkewDeclined,
      );
      assert.strictEqual(hooks.skewQuestions.length, 1);
      assert.match(hooks.skewQuestions[0], /runs kubelet v1\.20\.2, the debug build is v1\.31\.0/);
      assert.deepStrictEqual(await kubeletState(node), before);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
