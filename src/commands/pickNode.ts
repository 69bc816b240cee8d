// A quick pick of the known nodes, with a way to type a new user@host:port.
import * as vscode from 'vscode';
import { parseHostSpec } from '../ssh/sshConfig';
import { validateWith } from '../ui/inputValidation';
import type { KnownNodes } from '../ui/knownNodes';

export async function pickNode(nodes: KnownNodes, title: string): Promise<string | undefined> {
  const known = await nodes.list();
  const quickPick = vscode.window.createQuickPick<vscode.QuickPickItem & { spec?: string }>();
  try {
    quickPick.title = title;
    quickPick.placeholder = vscode.l10n.t('Pick a node, or type user@host:port');
    quickPick.ignoreFocusOut = true;
    const base = known.map((n) => ({
      label: n.spec,
      description: n.source === 'sshConfig' ? vscode.l10n.t('from SSH config') : vscode.l10n.t('from settings'),
      spec: n.spec,
    }));
    quickPick.items = base;
    quickPick.onDidChangeValue((value) => {
      const typed = value.trim();
      const valid = typed !== '' && !known.some((n) => n.spec === typed) && isValidSpec(typed);
      quickPick.items = valid ? [{ label: typed, description: vscode.l10n.t('connect to this address'), spec: typed }, ...base] : base;
    });
    return await new Promise<string | undefined>((resolve) => {
      quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]?.spec));
      quickPick.onDidHide(() => resolve(undefined));
      quickPick.show();
    });
  } finally {
    quickPick.dispose();
  }
}

function isValidSpec(spec: string): boolean {
  return validateWith(parseHostSpec)(spec) === undefined;
}
