// The dialogs an SSH connection may need: trusting a new host key, a key passphrase, a password.
// Secrets go straight to ssh2 and are never stored.
import * as vscode from 'vscode';
import type { ConnectPrompts } from '../ssh/connect';

export const connectPrompts: ConnectPrompts = {
  async trustHostKey({ host, port, keyType, fingerprint, knownHostsFile }) {
    const accept = 'Trust and Connect';
    const where = port === 22 ? host : `${host} port ${port}`;
    const choice = await vscode.window.showWarningMessage(
      `The authenticity of ${where} can't be established.`,
      {
        modal: true,
        detail: `${keyType} key fingerprint is ${fingerprint}.\n\nCompare it with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it. Trusting adds it to ${knownHostsFile}.`,
      },
      accept,
    );
    return choice === accept;
  },
  async passphrase(keyFile) {
    return vscode.window.showInputBox({
      title: 'SSH key passphrase',
      prompt: `Passphrase for ${keyFile}`,
      password: true,
      ignoreFocusOut: true,
    });
  },
  async password(user, host) {
    return vscode.window.showInputBox({
      title: 'SSH password',
      prompt: `Password for ${user}@${host} (no key was accepted)`,
      password: true,
      ignoreFocusOut: true,
    });
  },
};
