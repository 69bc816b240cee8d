// The UI around saving a node file: systemd's complaints as Problems (file:line), the "Restart unit"
// offer after a reload, and Compare/Overwrite when the node's file changed under the editor. Nothing
// here is awaited by a save, so a notification never holds up the editor (or a test).
import * as vscode from 'vscode';
import { errors } from '../common/errors';
import type { Services } from '../services';
import { runUnitAction } from '../systemd/unitActions';
import { CheckedWrite, describeProblems } from '../systemd/unitFileCheck';
import { showError } from '../ui/showError';
import type { NodeFileSystem, SaveFeedback } from './nodeFileSystem';
import { parseNodeFileUri } from './nodeUri';

/** Read-only views of a node file as it is on the node now, for the left side of a Compare. */
const CURRENT_SCHEME = 'kubelet-node-current';

export class NodeFileSaves implements SaveFeedback, vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('systemd');
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly services: Services,
    private readonly provider: () => NodeFileSystem,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(CURRENT_SCHEME, {
      provideTextDocumentContent: async (uri) =>
        Buffer.from(await this.provider().readCurrent(uri.with({ scheme: uri.fragment }))).toString('utf8'),
    });
  }

  saved(uri: vscode.Uri, result: CheckedWrite): void {
    if (!result.unit) {
      return;
    }
    const { node } = parseNodeFileUri(uri);
    if (result.problems.length > 0) {
      this.diagnostics.set(
        uri,
        result.problems.map((p) => {
          const line = Math.max(p.line - 1, 0);
          const diagnostic = new vscode.Diagnostic(
            new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
            p.message,
            vscode.DiagnosticSeverity.Error,
          );
          diagnostic.source = 'systemd-analyze verify';
          return diagnostic;
        }),
      );
      void showError(errors.unitFileCheckFailed(node, result.unit, describeProblems(result.problems)), this.services.logs.ssh);
      return;
    }
    this.diagnostics.delete(uri);
    this.services.nodesTree.refresh(node);
    void this.offerRestart(node, result.unit);
  }

  private async offerRestart(node: string, unit: string): Promise<void> {
    const restart = vscode.l10n.t('Restart {0}', unit);
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Saved and reloaded systemd on {0}. {1} uses the change after a restart.', node, unit),
      restart,
    );
    if (choice !== restart) {
      return;
    }
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Restarting {0} on {1}', unit, node) },
        () => runUnitAction(this.services.connections.get(node), 'restart', unit),
      );
      this.services.nodesTree.refresh(node);
    } catch (err) {
      void showError(err, this.services.logs.ssh);
    }
  }

  conflict(uri: vscode.Uri): void {
    void this.offerConflictChoices(uri);
  }

  private async offerConflictChoices(uri: vscode.Uri): Promise<void> {
    const compare = vscode.l10n.t('Compare');
    const overwrite = vscode.l10n.t('Overwrite');
    const { node, path } = parseNodeFileUri(uri);
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('{0} changed on {1} since you opened it; your version was not saved.', path, node),
      compare,
      overwrite,
    );
    if (choice === compare) {
      // A fresh query each time, as VS Code caches content-provider documents by URI.
      const current = uri.with({ scheme: CURRENT_SCHEME, fragment: uri.scheme, query: String(Date.now()) });
      await vscode.commands.executeCommand('vscode.diff', current, uri, vscode.l10n.t('{0} (on {1}) ↔ yours', path, node));
    } else if (choice === overwrite) {
      this.provider().allowOverwrite(uri);
      await vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.save();
    }
  }

  dispose(): void {
    this.diagnostics.dispose();
    this.registration.dispose();
  }
}
