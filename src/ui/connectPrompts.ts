// The dialogs an SSH connection may need: trusting a new host key, a key passphrase, a password,
// the server's keyboard-interactive questions.
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
        detail: vscode.l10n.t(
          "{0} key fingerprint is {1}.\n\nCompare it with the node's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it. Trusting adds it to {2}.",
          keyType,
          fingerprint,
          knownHostsFile,
        ),
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
  async keyboardInteractive({ user, host, name, instructions, prompts }) {
    const answers: string[] = [];
    for (const [index, { prompt, echo }] of prompts.entries()) {
      const answer = await vscode.window.showInputBox({
        title: name || vscode.l10n.t('SSH login to {0}@{1}', user, host),
        // The server's own words: PAM says "Password: ", an authenticator "Verification code: ".
        prompt: [instructions.trim(), prompt.trim()].filter(Boolean).join(' '),
        placeHolder: prompts.length > 1 ? vscode.l10n.t('Answer {0} of {1}', index + 1, prompts.length) : undefined,
        password: !echo,
        ignoreFocusOut: true,
      });
      if (answer === undefined) {
        return undefined;
      }
      answers.push(answer);
    }
    return answers;
  },
};
