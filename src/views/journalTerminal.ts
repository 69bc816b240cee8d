// "Follow Journal": `journalctl -u UNIT -f` streamed into a terminal; closing the terminal closes
// the remote channel, which ends journalctl on the node.
import * as vscode from 'vscode';
import type { NodeConnection } from '../ssh/nodeConnection';
import { followJournal } from '../systemd/unitActions';

export function openJournalTerminal(node: NodeConnection, unit: string, onError: (err: unknown) => void): vscode.Terminal {
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<void>();
  const abort = new AbortController();
  const toTerminal = (chunk: Buffer) => write.fire(chunk.toString('utf8').replace(/\r?\n/g, '\r\n'));
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: () => {
      write.fire(`${vscode.l10n.t('journalctl -u {0} -f on {1}', unit, node.spec)}\r\n`);
      followJournal(node, unit, { onStdout: toTerminal, onStderr: toTerminal, signal: abort.signal })
        .then(() => write.fire(`\r\n[${vscode.l10n.t('journalctl ended')}]\r\n`))
        .catch((err) => {
          if (!abort.signal.aborted) {
            write.fire(`\r\n[${vscode.l10n.t('journalctl stopped')}]\r\n`);
            onError(err);
          }
        });
    },
    close: () => {
      abort.abort();
      write.dispose();
      close.dispose();
    },
  };
  const terminal = vscode.window.createTerminal({ name: `Journal: ${unit} @ ${node.spec}`, pty, iconPath: new vscode.ThemeIcon('output') });
  terminal.show();
  return terminal;
}
