// The dialogs an SSH connection may need: trusting a new host key, a key passphrase, a password.
// Secrets go straight to ssh2 and are never stored.
import * as vscode from 'vscode';
import type { ConnectPrompts } from '../ssh/connect';

export const connectPrompts: ConnectPrompts = {
  async trustHostKey({ host, port, keyType, fingerprint, knownHostsFile }) {
    const accept = vscode.l10n.t('Trust and Connect');
    const where = port === 22 ? host : vscode.l10n.t('{0} port {1}', host, port);
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t("The authenticity of {0} can't be established.", where),
      {
        modal: true,
        detail: vscode.l10n.t("{0} key fingerprint is {1}.\n\nCompare it with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it. Trusting adds it to {2}.", keyType, fingerprint, knownHostsFile),
      },
      accept,
    );
    return choice === accept;
  },
  async passphrase(keyFile) {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('SSH key passphrase'),
      prompt: vscode.l10n.t('Passphrase for {0}', keyFile),
      password: true,
      ignoreFocusOut: true,
    });
  },
  async password(user, host) {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('SSH password'),
      prompt: vscode.l10n.t('Password for {0}@{1} (no key was accepted)', user, host),
      password: true,
      ignoreFocusOut: true,
    });
  },
};
