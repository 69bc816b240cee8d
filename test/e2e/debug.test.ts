// "Debug kubelet on node" end to end, in plain Node: the extension's launcher and DAP proxy against
// the test node's real systemd, the real sample kubelet, and the node's real Delve; over both
// transports (ssh2, and the system's OpenSSH with `ssh -W` as the DAP stream).
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { functionForStage } from '../../src/debug/startupStages';
import { attachTestClient } from '../support/dapAttach';
import { firstStatementOf } from '../support/goSource';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { TRANSPORTS } from '../support/nodeClient';
import { sharedNode } from './hooks';

for (const transport of TRANSPORTS) {
  describe(`Debug kubelet on node (launcher + DAP proxy + real Delve) over ${transport}`, function () {
    this.timeout(240_000);
    const suite = useConnectionAndWorkspace(sharedNode, transport);

    it('connects with the transport under test', async () => {
      await suite.conn().connect();
      assert.strictEqual(suite.conn().transportKind, transport);
    });

    it('builds locally, uploads, stops in syncLoop and syncLoopIteration with mapped sources, and restores the node', async function () {
      const node = sharedNode();
      const before = await kubeletState(node);
      assert.strictEqual(before.active, 'active');
      const hooks = testHooks();
      const target = await launchKubeletUnderDelve(
        suite.conn(),
        launchConfig({ host: node.sshHosts.root, build: { where: 'local' }, breakAt: ['syncLoop'] }),
        suite.workspace(),
        hooks,
      );
      const { client, proxy, finished } = await attachTestClient(target, suite.workspace());
      try {
        await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
        await client.request('launch', { host: node.sshHosts.root });
        await client.waitEvent('initialized');
        const fbp = await client.request<DebugProtocol.SetFunctionBreakpointsResponse>('setFunctionBreakpoints', {
          breakpoints: [{ name: functionForStage('syncLoop') }],
        });
        assert.ok(fbp.body.breakpoints[0].verified, JSON.stringify(fbp.body));
        // A source breakpoint on the first statement of syncLoopIteration, by its suite.workspace() path.
        const localFile = path.join(suite.workspace(), 'pkg', 'kubelet', 'kubelet.go');
        const lines = readFileSync(localFile, 'utf8').split('\n');
        const bpLine = firstStatementOf(lines, /^func \(kl \*Kubelet\) syncLoopIteration\(/);
        const bp = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
          source: { path: localFile },
          breakpoints: [{ line: bpLine }],
        });
        assert.ok(bp.body.breakpoints[0].verified, `source breakpoint verified: ${JSON.stringify(bp.body)}`);
        await client.request('configurationDone');

        const stop1 = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
        const st1 = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
          threadId: stop1.body.threadId,
          startFrame: 0,
          levels: 5,
        });
        const top = st1.body.stackFrames[0];
        assert.match(top.name, /syncLoop$/);
        assert.strictEqual(top.source?.path, localFile, 'the frame maps to the suite.workspace() file');
        const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: top.id });
        const vars = await client.request<DebugProtocol.VariablesResponse>('variables', {
          variablesReference: scopes.body.scopes[0].variablesReference,
        });
        assert.ok(
          vars.body.variables.some((v) => v.name === 'kl'),
          `locals readable: ${vars.body.variables.map((v) => v.name).join(',')}`,
        );

        await client.request('continue', { threadId: stop1.body.threadId });
        const stop2 = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
        const st2 = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
          threadId: stop2.body.threadId,
          startFrame: 0,
          levels: 1,
        });
        assert.match(st2.body.stackFrames[0].name, /syncLoopIteration$/);
        assert.strictEqual(st2.body.stackFrames[0].source?.path, localFile);

        await client.request('disconnect', { restart: false });
        assert.deepStrictEqual(finished(), { restored: true, message: finished()!.message }, finished()?.message);
        await expectNodeRestored(node, before);
      } catch (err) {
        console.log(client.transcript.join('\n'));
        await proxy.dispose();
        throw err;
      }
    });

    it('maps a binary built on the node to the suite.workspace(), so source breakpoints verify and frames open local files', async () => {
      const node = sharedNode();
      const before = await kubeletState(node);
      const target = await launchKubeletUnderDelve(
        suite.conn(),
        launchConfig({
          host: node.sshHosts.root,
          build: { where: 'node', sourceDir: '/root/src/k8s.io/kubernetes' },
        }),
        suite.workspace(),
        testHooks(),
      );
      const { client, proxy, mappings } = await attachTestClient(target, suite.workspace());
      try {
        assert.deepStrictEqual(
          mappings,
          [{ from: suite.workspace(), to: '/root/src/k8s.io/kubernetes' }],
          'derived from where the binary says its sources are',
        );
        await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
        await client.request('launch', {});
        const localFile = path.join(suite.workspace(), 'pkg', 'kubelet', 'kubelet.go');
        const bpLine = firstStatementOf(readFileSync(localFile, 'utf8').split('\n'), /^func \(kl \*Kubelet\) syncLoopIteration\(/);
        const bp = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
          source: { path: localFile },
          breakpoints: [{ line: bpLine }],
        });
        assert.ok(bp.body.breakpoints[0].verified, JSON.stringify(bp.body));
        await client.request('configurationDone');
        const stop = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);
        const st = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
          threadId: stop.body.threadId,
          startFrame: 0,
          levels: 1,
        });
        assert.deepStrictEqual([st.body.stackFrames[0].source?.path, st.body.stackFrames[0].line], [localFile, bpLine]);
        await client.request('disconnect', {});
        await expectNodeRestored(node, before);
      } catch (err) {
        console.log(client.transcript.join('\n'));
        await proxy.dispose();
        throw err;
      }
    });
  });
}
