// The debug toolbar's Restart (Ctrl+Shift+F5) in real VS Code: the session ends (the node is
// restored), the launch runs again (build, upload only if the binary changed, Delve), and the new
// session stops at the same breakpoint.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { firstStatementOf } from '../support/goSource';
import { nodeSsh, testNode, until, untilOriginalKubelet } from './testNodeAccess';

describe('Restart a kubelet debug session (real VS Code, real node)', function () {
  this.timeout(300_000);

  it('relaunches under Delve and stops at the same breakpoint, without uploading an unchanged binary again', async () => {
    const node = testNode();
    const folder = vscode.workspace.workspaceFolders![0];
    const kubeletGo = vscode.Uri.file(path.join(folder.uri.fsPath, 'pkg', 'kubelet', 'kubelet.go'));
    const bpLine = firstStatementOf(
      (await vscode.workspace.openTextDocument(kubeletGo)).getText().split('\n'),
      /^func \(kl \*Kubelet\) syncLoopIteration\(/,
    );
    vscode.debug.addBreakpoints([new vscode.SourceBreakpoint(new vscode.Location(kubeletGo, new vscode.Position(bpLine - 1, 0)))]);

    // VS Code restarts a session in place: same session object, a new adapter from our factory.
    const adapters: { stops: { threadId: number }[] }[] = [];
    const builds: string[] = [];
    const subs = [
      vscode.tasks.onDidStartTask((e) => builds.push(e.execution.task.name)),
      vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
        createDebugAdapterTracker: () => {
          const adapter = { stops: [] as { threadId: number }[] };
          adapters.push(adapter);
          return {
            onDidSendMessage: (m: { type: string; event?: string; body?: { threadId: number } }) => {
              if (m.type === 'event' && m.event === 'stopped' && m.body) {
                adapter.stops.push(m.body);
              }
            },
          };
        },
      }),
    ];
    const ctime = async () => (await nodeSsh('stat -c %Z /var/lib/kubelet-debug/kubelet')).trim();
    try {
      assert.ok(
        await vscode.debug.startDebugging(folder, {
          type: 'kubelet',
          request: 'launch',
          name: 'restart test',
          host: node.alias,
          build: { where: 'local' },
        }),
      );
      const session = vscode.debug.activeDebugSession!;
      const stopA = await until("the first session's stop", () => adapters[0]?.stops[0], 120_000);
      const stA = await session.customRequest('stackTrace', { threadId: stopA.threadId, startFrame: 0, levels: 1 });
      assert.strictEqual(stA.stackFrames[0].line, bpLine);
      const uploadedAt = await ctime();
      const dlvBefore = (await nodeSsh('pgrep -x dlv')).trim();

      await vscode.commands.executeCommand('workbench.action.debug.restart');
      const stopB = await until("the restarted session's stop", () => adapters[1]?.stops[0], 180_000);
      const restarted = vscode.debug.activeDebugSession!;
      const stB = await restarted.customRequest('stackTrace', { threadId: stopB.threadId, startFrame: 0, levels: 1 });
      assert.deepStrictEqual([stB.stackFrames[0].name.replace(/^.*\./, ''), stB.stackFrames[0].line], ['syncLoopIteration', bpLine]);

      const dlvAfter = (await nodeSsh('pgrep -x dlv')).trim();
      assert.ok(dlvAfter !== '' && dlvAfter !== dlvBefore, `a new Delve runs the kubelet (before ${dlvBefore}, after ${dlvAfter})`);
      assert.strictEqual(builds.length, 2, `the restart rebuilt: ${builds.join(' | ')}`);
      assert.strictEqual(await ctime(), uploadedAt, 'the rebuilt binary was the same, so it was not uploaded again');

      await vscode.debug.stopDebugging(restarted);
      await untilOriginalKubelet(60_000);
    } finally {
      subs.forEach((d) => d.dispose());
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    }
  });
});
