// Notices a node left in the debug state by a crashed window (the safeguard restores it after its
// grace period; this offers to do it now). It checks once per node when this window first connects
// to it, so it never opens a connection of its own.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { debugStateOf } from './kubeletLauncher';

export function watchForLeftoverSessions(context: vscode.ExtensionContext, services: Services, activeHosts: () => Set<string>): void {
  const checked = new Set<string>();
  context.subscriptions.push(
    services.connections.onDidChangeState((spec, state) => {
      if (state.kind !== 'ready' || checked.has(spec)) {
        return;
      }
      checked.add(spec);
      const unit = vscode.workspace.getConfiguration('kubelet').get<string>('unit', 'kubelet.service');
      void debugStateOf(services.connections.get(spec), unit).then(
        async (found) => {
          // A session of this window is not a leftover; one held by another window is that window's.
          if (found !== 'stale' || activeHosts().has(spec)) {
            return;
          }
          const restore = 'Restore Now';
          const choice = await vscode.window.showWarningMessage(
            `${unit} on ${spec} was left in the debug state by an earlier session. Its safeguard restores it once the lease runs out; restore it now?`,
            restore,
          );
          if (choice === restore) {
            await vscode.commands.executeCommand('kubelet.restoreNode', spec);
          }
        },
        (err: Error) => services.logs.debug.warn(`Could not check ${spec} for a leftover debug session: ${err.message}`),
      );
    }),
  );
}
