// The dialogs an SSH connection may need: trusting a new host key, a key passphrase, a password,
// the server's keyboard-interactive questions.
// Secrets go straight to ssh2 and are never stored. One dialog at a time, across all connections.
import * as vscode from 'vscode';
import type { ConnectPrompts, KeyboardInteractiveRequest } from '../ssh/connect';

let lastTurn: Promise<unknown> = Promise.resolve();

/**
 * Waits for the dialog before it: a second input box would replace the one a person is answering,
 * which VS Code reports as a cancel, failing that login (two nodes connecting at once both ask).
 */
function oneAtATime<T>(ask: () => Thenable<T>): Promise<T> {
  const turn = lastTurn.then(ask);
  lastTurn = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

export const connectPrompts: ConnectPrompts = {
  trustHostKey: (request) => oneAtATime(() => trustHostKey(request)),
  passphrase: (keyFile) =>
    oneAtATime(() =>
      vscode.window.showInputBox({
        title: vscode.l10n.t('SSH key passphrase'),
        prompt: vscode.l10n.t('Passphrase for {0}', keyFile),
        password: true,
        ignoreFocusOut: true,
      }),
    ),
  password: (user, host) =>
    oneAtATime(() =>
      vscode.window.showInputBox({
        title: vscode.l10n.t('SSH password'),
        prompt: vscode.l10n.t('Password for {0}@{1} (no key was accepted)', user, host),
        password: true,
        ignoreFocusOut: true,
      }),
    ),
  keyboardInteractive: (request) => oneAtATime(() => keyboardInteractive(request)),
};

async function trustHostKey({
  host,
  port,
  keyType,
  fingerprint,
  knownHostsFile,
}: Parameters<ConnectPrompts['trustHostKey']>[0]): Promise<boolean> {
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
}

/** One round of the server's questions, one input box per question, in order; undefined once one is cancelled. */
async function keyboardInteractive({ user, host, name, instructions, prompts }: KeyboardInteractiveRequest): Promise<string[] | undefined> {
  const answers: string[] = [];
  for (const [index, { prompt, echo }] of prompts.entries()) {
    const answer = await vscode.window.showInputBox({
      // The server's name for the round, if any, and always which login asks: two nodes may ask alike.
      title: name.trim() ? vscode.l10n.t('{0} ({1}@{2})', name.trim(), user, host) : vscode.l10n.t('SSH login to {0}@{1}', user, host),
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
}
