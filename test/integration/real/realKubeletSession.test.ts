// The mission on the real thing, in real VS Code: "Debug kubelet on node…" on the Kubernetes v1.20.2
// tree and a node running the real kubelet with containerd and a pod. The extension picks the tree's
// debug build, runs it as a task, stops in syncLoop and at a source breakpoint in the real
// syncLoopIteration, shows the kubelet's log, and puts the node back with every container untouched.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { firstStatementOf } from '../../support/goSource';
import { nodeSsh, testNode, until, untilOriginalKubelet, watchKubeletSessions } from '../testNodeAccess';

function asFsPath(p: string): string {
  return /^[a-z-]+:\/\//.test(p) ? vscode.Uri.parse(p).path : p;
}

const pods = async () => (await nodeSsh('ctr -n k8s.io tasks ls | tail -n +2 | sort')).trim();

describe('Debug the real kubelet v1.20.2 (real VS Code, real node with containerd and a pod)', function () {
  this.timeout(600_000);

  it('builds with the flags the tree needs, stops in syncLoop and in syncLoopIteration of the real kubelet.go, and restores the node with the pod untouched', async () => {
    const node = testNode();
    const folder = vscode.workspace.workspaceFolders![0];
    const kubeletGo = vscode.Uri.file(path.join(folder.uri.fsPath, 'pkg', 'kubelet', 'kubelet.go'));
    const bpLine = firstStatementOf(
      (await vscode.workspace.openTextDocument(kubeletGo)).getText().split('\n'),
      /^func \(kl \*Kubelet\) syncLoopIteration\(/,
    );
    vscode.debug.addBreakpoints([new vscode.SourceBreakpoint(new vscode.Location(kubeletGo, new vscode.Position(bpLine - 1, 0)))]);
    const podsBefore = await pods();
    assert.match(podsBefore, /RUNNING[\s\S]*RUNNING/, 'the pod sandbox and its container run before the session');

    const tasks: string[] = [];
    const taskSub = vscode.tasks.onDidStartTask((e) => tasks.push(e.execution.task.name));
    const watch = watchKubeletSessions();
    const { stops } = watch;
    try {
      // The command palette's "Kubelet: Debug kubelet on node…", with the node chosen.
      const started = await vscode.commands.executeCommand<boolean>('kubelet.debugOnNode', node.alias);
      assert.strictEqual(started, true, 'the session started');
      assert.deepStrictEqual(tasks, [
        'Build for debugging: make WHAT=cmd/kubelet GOLDFLAGS="" GOGCFLAGS="all=-N -l" KUBE_BUILD_PLATFORMS=linux/amd64',
      ]);
      const session = vscode.debug.activeDebugSession!;

      const first = await until('the stop in syncLoop', () => stops[0], 180_000);
      const st1 = await session.customRequest('stackTrace', { threadId: first.threadId, startFrame: 0, levels: 1 });
      assert.match(st1.stackFrames[0].name, /\(\*Kubelet\)\.syncLoop$/);
      assert.strictEqual(
        asFsPath(st1.stackFrames[0].source.path),
        kubeletGo.fsPath,
        'the trimmed path in the binary maps to the workspace file',
      );

      await session.customRequest('continue', { threadId: first.threadId });
      const second = await until('the stop at the source breakpoint', () => stops[1], 120_000);
      const st2 = await session.customRequest('stackTrace', { threadId: second.threadId, startFrame: 0, levels: 1 });
      assert.deepStrictEqual(
        [st2.stackFrames[0].name.replace(/^.*\./, ''), asFsPath(st2.stackFrames[0].source.path), st2.stackFrames[0].line],
        ['syncLoopIteration', kubeletGo.fsPath, bpLine],
      );
      await until(
        "the real kubelet's log in the Debug Console",
        () => (/^I\d{4} .* kubelet\.go:\d+\]/m.test(watch.debuggeeOutput()) ? true : undefined),
        60_000,
      );

      await vscode.debug.stopDebugging(session);
      await watch.ended;
      await untilOriginalKubelet(60_000);
      assert.strictEqual(await pods(), podsBefore, 'no container was restarted or recreated');
    } finally {
      taskSub.dispose();
      watch.dispose();
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    }
  });
});
