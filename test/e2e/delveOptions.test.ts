// vscode-go's Delve options against the test node's real Delve 1.20.2: dlvFlags, showLog and logOutput
// on the `dlv exec` line, Delve's DAP attach options passed through, and haltFree sessions in which
// logpoints print while the kubelet keeps running and every halting breakpoint is refused.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DelveRpc } from '../../src/debug/delveRpc';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { functionForStage } from '../../src/debug/startupStages';
import { withAttachedClient } from '../support/dapAttach';
import { firstStatementOf } from '../support/goSource';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { until } from '../support/until';
import { sharedNode } from './hooks';

const INIT_FLAG = '--init=/no such dir/$HOME/%n "quoted"';

describe("vscode-go's Delve options (launcher + DAP proxy + real Delve)", function () {
  this.timeout(240_000);
  const suite = useConnectionAndWorkspace(sharedNode);
  const kubeletGo = () => path.join(suite.workspace(), 'pkg', 'kubelet', 'kubelet.go');
  const lineOf = (signature: RegExp) => firstStatementOf(readFileSync(kubeletGo(), 'utf8').split('\n'), signature);

  it("puts dlvFlags, showLog and logOutput on the dlv exec line word for word, and passes Delve's DAP options through", async () => {
    const node = sharedNode();
    const before = await kubeletState(node);
    const config = launchConfig({
      host: node.sshHosts.root,
      build: { where: 'local' },
      breakAt: ['syncLoop'],
      dlvFlags: ['--check-go-version=false', INIT_FLAG],
      showLog: true,
      logOutput: 'debugger,dap',
    });
    const target = await launchKubeletUnderDelve(suite.conn(), config, suite.workspace(), testHooks());
    await withAttachedClient(target, suite.workspace(), async (client) => {
      // systemd parsed the drop-in back into exactly these words: nothing expanded, nothing split.
      const argv = (await node.ssh('tr "\\0" "\\n" </proc/$(pgrep -x dlv)/cmdline')).stdout.split('\n');
      const ours = argv.slice(argv.indexOf('--accept-multiclient') + 1, argv.indexOf(target.remoteBinary));
      assert.deepStrictEqual(ours, ['--log', '--log-output=debugger,dap', '--check-go-version=false', INIT_FLAG]);

      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', {
        ...config,
        hideSystemGoroutines: true,
        showGlobalVariables: true,
        showRegisters: true,
        stackTraceDepth: 2,
        goroutineFilters: '-with userloc pkg/kubelet',
      });
      await client.waitEvent('initialized');
      await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionForStage('syncLoop') }] });
      await client.request('configurationDone');
      const stop = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);

      // Delve reports the options as it holds them.
      const settings = await client.request<DebugProtocol.EvaluateResponse>('evaluate', {
        expression: 'dlv config -list',
        context: 'repl',
      });
      for (const line of [
        'stackTraceDepth\t2',
        'showGlobalVariables\ttrue',
        'showRegisters\ttrue',
        'goroutineFilters\t"-with userloc pkg/kubelet"',
        'hideSystemGoroutines\ttrue',
      ]) {
        assert.ok(settings.body.result.split('\n').includes(line), `Delve holds ${line}: ${settings.body.result}`);
      }
      // stackTraceDepth caps what Delve loads when no number of frames is asked for.
      const capped = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: stop.body.threadId, startFrame: 0 });
      const full = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
        threadId: stop.body.threadId,
        startFrame: 0,
        levels: 50,
      });
      assert.strictEqual(capped.body.stackFrames.length, 2);
      assert.ok(full.body.stackFrames.length > 2, `the stack is deeper: ${full.body.stackFrames.map((f) => f.name).join(' < ')}`);
      // showGlobalVariables and showRegisters add their scopes.
      const scopes = (
        await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: capped.body.stackFrames[0].id })
      ).body.scopes.map((s) => s.name);
      assert.ok(
        scopes.some((s) => s.startsWith('Globals')),
        `a Globals scope: ${scopes.join(', ')}`,
      );
      assert.ok(scopes.includes('Registers'), `a Registers scope: ${scopes.join(', ')}`);
      // goroutineFilters and hideSystemGoroutines shape the threads; undoing both brings the runtime's back.
      const filtered = (await client.request<DebugProtocol.ThreadsResponse>('threads')).body.threads.map((t) => t.name);
      assert.ok(filtered.length > 0 && filtered.every((t) => t.includes('pkg/kubelet')), filtered.join('\n'));
      await client.request('evaluate', { expression: 'dlv config goroutineFilters', context: 'repl' });
      await client.request('evaluate', { expression: 'dlv config hideSystemGoroutines false', context: 'repl' });
      const all = (await client.request<DebugProtocol.ThreadsResponse>('threads')).body.threads.map((t) => t.name);
      assert.ok(all.some((t) => / runtime\./.test(t)) && !filtered.some((t) => / runtime\./.test(t)), all.join('\n'));

      // showLog: Delve's own log went to the unit's journal.
      const journal = (await node.ssh('journalctl -u kubelet -o cat --no-pager -n 400')).stdout;
      assert.match(journal, /^\S+Z debug layer=dap \[<- from client\]/m);

      await client.request('disconnect', {});
      await expectNodeRestored(node, before);
    });
  });

  it('haltFree: logpoints in syncLoopIteration print while the kubelet runs on; halting breakpoints and pause are refused', async () => {
    const node = sharedNode();
    const before = await kubeletState(node);
    const config = launchConfig({ host: node.sshHosts.root, build: { where: 'local' }, haltFree: true });
    const target = await launchKubeletUnderDelve(suite.conn(), config, suite.workspace(), testHooks());
    await withAttachedClient(target, suite.workspace(), async (client) => {
      const logLine = lineOf(/^func \(kl \*Kubelet\) syncLoopIteration\(/);
      const haltLine = lineOf(/^func \(kl \*Kubelet\) syncLoop\(/);
      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', config);
      await client.waitEvent('initialized');
      const source = { path: kubeletGo() };
      const set = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
        source,
        breakpoints: [
          { line: haltLine },
          { line: logLine, logMessage: 'iteration, sources seen: {len(kl.sourcesSeen)}' },
          { line: haltLine + 1, condition: 'true' },
        ],
      });
      const [plain, logpoint, conditional] = set.body.breakpoints;
      assert.ok(logpoint.verified, `the logpoint is set: ${JSON.stringify(logpoint)}`);
      for (const refused of [plain, conditional]) {
        assert.strictEqual(refused.verified, false);
        assert.match(refused.message ?? '', /"haltFree" is on.*would halt kubelet\.service.*NotReady after about 40 s/);
      }
      const fbp = await client.request<DebugProtocol.SetFunctionBreakpointsResponse>('setFunctionBreakpoints', {
        breakpoints: [{ name: functionForStage('syncLoop') }],
      });
      assert.strictEqual(fbp.body.breakpoints.length, 1);
      assert.strictEqual(fbp.body.breakpoints[0].verified, false);
      assert.match(fbp.body.breakpoints[0].message ?? '', /haltFree/);
      await client.request('configurationDone');

      // The logpoint prints at each iteration (once a second), and nothing halts.
      const printed = () => (client.outputText().match(/iteration, sources seen: \d+/g) ?? []).length;
      await until('three logpoint messages', () => (printed() >= 3 ? true : undefined), 60_000);
      await assert.rejects(client.request('pause', { threadId: 1 }), /pausing would halt kubelet\.service/);

      // Live: a halting breakpoint set while the kubelet runs is refused too, and the logpoint keeps printing.
      const live = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints', {
        source,
        breakpoints: [
          { line: logLine, logMessage: 'live {len(kl.sourcesSeen)}' },
          { line: logLine, hitCondition: '2' },
        ],
      });
      assert.deepStrictEqual(
        live.body.breakpoints.map((b) => b.verified),
        [true, false],
      );
      await until(
        "the new logpoint's messages",
        () => ((client.outputText().match(/live \d+/g) ?? []).length >= 2 ? true : undefined),
        60_000,
      );

      // Delve itself holds only the logpoint: not the refused ones, nor its stops on a fatal panic.
      const rpc = new DelveRpc(await target.openStream());
      // Delve's JSON calls a tracepoint "continue": it goes on after printing.
      const { Breakpoints } = await rpc.call<{ Breakpoints: { line: number; continue: boolean }[] }>(
        'ListBreakpoints',
        { All: true },
        { timeoutMs: 30_000 },
      );
      rpc.close();
      assert.deepStrictEqual(
        Breakpoints.map((b) => [b.line, b.continue]),
        [[logLine, true]],
        JSON.stringify(Breakpoints),
      );
      assert.ok(!client.transcript.some((l) => l.includes('"event":"stopped"')), 'no stopped event');
      assert.strictEqual((await kubeletState(node)).active, 'active');

      await client.request('disconnect', {});
      await expectNodeRestored(node, before);
    });
  });
});
