// Shows any error to the user: UserErrors with their code and remedy buttons, anything else with
// a pointer to the log. Cancellation is silent, as the user asked for it.
import * as vscode from 'vscode';
import { isCancelled, Remedy, UserError } from '../common/errors';

const REMEDY_LABELS: Record<Remedy, string> = {
  retry: vscode.l10n.t('Retry'),
  openSshConfig: vscode.l10n.t('Open SSH Config'),
  openKnownHosts: vscode.l10n.t('Open known_hosts'),
  openSettings: vscode.l10n.t('Open Settings'),
  showLog: vscode.l10n.t('Show Log'),
  restore: vscode.l10n.t('Restore kubelet on node'),
  manageTrust: vscode.l10n.t('Manage Workspace Trust'),
};

/** Shows the error; resolves to true when the user chose Retry. */
export async function showError(err: unknown, log: vscode.LogOutputChannel): Promise<boolean> {
  if (isCancelled(err)) {
    return false;
  }
  if (!(err instanceof UserError)) {
    const message = err instanceof Error ? err.message : String(err);
    log.error(message);
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Kubelet: {0}', message), REMEDY_LABELS.showLog);
    if (choice) {
      log.show();
    }
    return false;
  }
  log.error(err.display);
  if (err.detail) {
    log.debug(err.detail);
  }
  const labels = err.remedies.map((r) => REMEDY_LABELS[r]);
  const choice = await vscode.window.showErrorMessage(err.display, ...labels);
  const remedy = err.remedies.find((r) => REMEDY_LABELS[r] === choice);
  if (!remedy) {
    return false;
  }
  switch (remedy) {
    case 'retry':
      return true;
    case 'openSshConfig':
      await vscode.commands.executeCommand('kubelet.openSshConfig');
      break;
    case 'openKnownHosts':
      await vscode.commands.executeCommand('kubelet.openSshConfig', 'known_hosts');
      break;
    case 'openSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'kubelet.');
      break;
    case 'showLog':
      log.show();
      break;
    case 'restore':
      await vscode.commands.executeCommand('kubelet.restoreNode');
      break;
    case 'manageTrust':
      await vscode.commands.executeCommand('workbench.trust.manage');
      break;
  }
  return false;
}
