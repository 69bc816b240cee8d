// The mission, in a real VS Code against the real test node: start a `kubelet` debug session, stop
// in syncLoop (a startup stage) and at a source breakpoint in syncLoopIteration, with frames mapped to
// workspace files and locals readable; end it, and the node runs its original kubelet again.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { firstStatementOf } from '../support/goSource';
import { testNode, until, untilOriginalKubelet, watchKubeletSessions } from './testNodeAccess';

/** In a remote window VS Code hands DAP paths back as vscode-remote URIs. */
function asFsPath(p: string): string {
  return /^[a-z-]+:\/\//.test(p) ? vscode.Uri.parse(p).path : p;
}

describe('Debug kubelet on node (real VS Code, real node)', function () {
  this.timeout(300_000);

  it('stops in syncLoop and syncLoopIteration, then restores the node', async () => {
    const node = testNode();
    const folder = vscode.workspace.workspaceFolders![0];
    const kubeletGo = vscode.Uri.file(path.join(folder.uri.fsPath, 'pkg', 'kubelet', 'kubelet.go'));
    const text = (await vscode.workspace.openTextDocument(kubeletGo)).getText().split('\n');
    const bpLine = firstStatementOf(text, /^func \(kl \*Kubelet\) syncLoopIteration\(/);
    const sourceBp = new vscode.SourceBreakpoint(new vscode.Location(kubeletGo, new vscode.Position(bpLine - 1, 0)));
    vscode.debug.addBreakpoints([sourceBp]);

    const watch = watchKubeletSessions();
    const { stops } = watch;
    try {
      const started = await vscode.debug.startDebugging(folder, {
        type: 'kubelet',
        request: 'launch',
        name: 'integration',
        host: node.alias,
        build: { where: 'local' },
        breakAt: ['syncLoop'],
      });
      assert.ok(started, 'the session started');
      const session = vscode.debug.activeDebugSession!;
      assert.strictEqual(session.type, 'kubelet');

      const first = await until('the stop in syncLoop', () => stops[0], 120_000);
      const st1 = await session.customRequest('stackTrace', { threadId: first.threadId, startFrame: 0, levels: 3 });
      assert.match(st1.stackFrames[0].name, /\(\*Kubelet\)\.syncLoop$/);
      assert.strictEqual(asFsPath(st1.stackFrames[0].source.path), kubeletGo.fsPath, 'the frame maps to the workspace file');
      const scopes = await session.customRequest('scopes', { frameId: st1.stackFrames[0].id });
      const vars = await session.customRequest('variables', { variablesReference: scopes.scopes[0].variablesReference });
      assert.ok(vars.variables.length > 0, 'locals are readable');
      assert.ok(
        vscode.debug.breakpoints.some((b) => b instanceof vscode.FunctionBreakpoint && b.functionName.endsWith('(*Kubelet).syncLoop')),
        'the stage shows as a function breakpoint',
      );

      await session.customRequest('continue', { threadId: first.threadId });
      const second = await until('the stop at the source breakpoint', () => stops[1], 60_000);
      const st2 = await session.customRequest('stackTrace', { threadId: second.threadId, startFrame: 0, levels: 1 });
      assert.match(st2.stackFrames[0].name, /syncLoopIteration$/);
      assert.strictEqual(st2.stackFrames[0].line, bpLine);

      // The debugged kubelet's own log (klog lines from the unit's journal) reaches the Debug Console.
      await until(
        "the kubelet's log in the Debug Console",
        () => (/^[IWE]\d{4} \d\d:\d\d:\d\d/m.test(watch.debuggeeOutput()) ? true : undefined),
        30_000,
      );

      await vscode.debug.stopDebugging(session);
      await watch.ended;
      await untilOriginalKubelet(30_000);
    } finally {
      watch.dispose();
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    }
  });
});
