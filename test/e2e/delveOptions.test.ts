// vscode-go's Delve options against the test node's real Delve 1.20.2: dlvFlags, showLog and logOutput
// on the `dlv exec` line, and Delve's DAP attach options passed through.
import * as assert from 'assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { functionForStage } from '../../src/debug/startupStages';
import { withAttachedClient } from '../support/dapAttach';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { sharedNode } from './hooks';

const INIT_FLAG = '--init=/no such dir/$HOME/%n "quoted"';

describe('vscode-go\'s Delve options (launcher + DAP proxy + real Delve)', function () {
  this.timeout(240_000);
  const suite = useConnectionAndWorkspace(sharedNode);

  it('puts dlvFlags, showLog and logOutput on the dlv exec line word for word, and passes Delve\'s DAP options through', async () => {
    const node = sharedNode();
    const before = await kubeletState(node);
    const config = launchConfig({
      host: node.sshHosts.root, build: { where: 'local' }, breakAt: ['syncLoop'],
      dlvFlags: ['--check-go-version=false', INIT_FLAG], showLog: true, logOutput: 'debugger,dap',
    });
    const target = await launchKubeletUnderDelve(suite.conn(), config, suite.workspace(), testHooks());
    await withAttachedClient(suite.conn(), target, suite.workspace(), async (client) => {
      // systemd parsed the drop-in back into exactly these words: nothing expanded, nothing split.
      const argv = (await node.ssh('tr "\\0" "\\n" </proc/$(pgrep -x dlv)/cmdline')).stdout.split('\n');
      const ours = argv.slice(argv.indexOf('--accept-multiclient') + 1, argv.indexOf(target.remoteBinary));
      assert.deepStrictEqual(ours, ['--log', '--log-output=debugger,dap', '--check-go-version=false', INIT_FLAG]);

      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', {
        ...config, hideSystemGoroutines: true, showGlobalVariables: true, showRegisters: true, stackTraceDepth: 2, goroutineFilters: '-with userloc pkg/kubelet',
      });
      await client.waitEvent('initialized');
      await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionForStage('syncLoop') }] });
      await client.request('configurationDone');
      const stop = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);

      // Delve reports the options as it holds them.
      const settings = await client.request<DebugProtocol.EvaluateResponse>('evaluate', { expression: 'dlv config -list', context: 'repl' });
      for (const line of ['stackTraceDepth\t2', 'showGlobalVariables\ttrue', 'showRegisters\ttrue', 'goroutineFilters\t"-with userloc pkg/kubelet"', 'hideSystemGoroutines\ttrue']) {
        assert.ok(settings.body.result.split('\n').includes(line), `Delve holds ${line}: ${settings.body.result}`);
      }
      // stackTraceDepth caps what Delve loads when no number of frames is asked for.
      const capped = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: stop.body.threadId, startFrame: 0 });
      const full = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId: stop.body.threadId, startFrame: 0, levels: 50 });
      assert.strictEqual(capped.body.stackFrames.length, 2);
      assert.ok(full.body.stackFrames.length > 2, `the stack is deeper: ${full.body.stackFrames.map((f) => f.name).join(' < ')}`);
      // showGlobalVariables and showRegisters add their scopes.
      const scopes = (await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: capped.body.stackFrames[0].id })).body.scopes.map((s) => s.name);
      assert.ok(scopes.some((s) => s.startsWith('Globals')), `a Globals scope: ${scopes.join(', ')}`);
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
});
