// Keeps "Kubelet" out of the F5 debugger picker of Go projects that have nothing to do with it:
// package.json hides the debugger unless the context key set here is true (or nodes are configured).
// Activation in a Kubernetes tree comes from workspaceContains, so this costs two stat calls.
import * as vscode from 'vscode';
import { hasKubeletLaunchConfiguration, isKubernetesTree } from './kubeletWorkspace';

export const OFFER_DEBUGGER_CONTEXT_KEY = 'kubelet.offerDebugger';

/** Whether a folder is a Kubernetes tree or already has a `kubelet` launch configuration. */
export async function folderWantsKubeletDebugger(folder: vscode.Uri): Promise<boolean> {
  const launch = vscode.workspace.getConfiguration('launch', folder).get<unknown[]>('configurations');
  if (hasKubeletLaunchConfiguration(launch)) {
    return true;
  }
  return isKubernetesTree(async (relativePath) => {
    await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, relativePath));
    return true;
  });
}

/**
 * Sets the context key now and whenever the folders or launch configurations change. Returns the
 * value last set, for tests: VS Code has no API to read a context key back.
 */
export function registerDebuggerPickerContext(context: vscode.ExtensionContext): () => Promise<boolean> {
  let latest = Promise.resolve(false);
  const update = () => {
    latest = (async () => {
      const folders = vscode.workspace.workspaceFolders ?? [];
      const offer = (await Promise.all(folders.map((f) => folderWantsKubeletDebugger(f.uri)))).includes(true);
      await vscode.commands.executeCommand('setContext', OFFER_DEBUGGER_CONTEXT_KEY, offer);
      return offer;
    })();
    latest.catch(() => undefined);
  };
  update();
  context.subscriptions.push(
    vscode.workspace.onDidChangeWorkspaceFolders(update),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('launch') && update()),
  );
  return () => latest;
}
