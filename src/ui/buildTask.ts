// Runs the local kubelet build as a VS Code task, so its output lands in a terminal and Go compiler
// errors land in the Problems view through our problem matcher.
import * as vscode from 'vscode';
import { errors, ErrorCode, UserError } from '../common/errors';

export async function runBuildTask(command: string, cwd: string, signal: AbortSignal): Promise<void> {
  const task = new vscode.Task(
    { type: 'shell', krdBuild: true },
    vscode.TaskScope.Workspace,
    // The command in the name: the task list and terminal tab show which debug build was chosen.
    vscode.l10n.t('Build for debugging: {0}', command),
    'Kubelet',
    new vscode.ShellExecution(command, { cwd }),
    '$kubelet-go',
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, clear: true, showReuseMessage: false };
  const execution = await vscode.tasks.executeTask(task);
  const exitCode = await new Promise<number | undefined>((resolve) => {
    const subscriptions: vscode.Disposable[] = [];
    const done = (code: number | undefined) => {
      subscriptions.forEach((d) => d.dispose());
      signal.removeEventListener('abort', onAbort);
      resolve(code);
    };
    const onAbort = () => {
      execution.terminate();
      done(undefined);
    };
    signal.addEventListener('abort', onAbort);
    subscriptions.push(
      vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution === execution) {
          done(e.exitCode ?? 1);
        }
      }),
      vscode.tasks.onDidEndTask((e) => {
        // A task that could not start its process ends without an exit code.
        if (e.execution === execution) {
          setTimeout(() => done(1), 500);
        }
      }),
    );
  });
  if (signal.aborted) {
    throw errors.cancelled();
  }
  if (exitCode !== 0) {
    throw new UserError(
      ErrorCode.BuildFailed,
      vscode.l10n.t(
        'The kubelet build failed (exit {0}): {1}. The kubelet on the node was not touched; see the Problems view and the build terminal.',
        String(exitCode),
        command,
      ),
      ['showLog'],
    );
  }
}
