// Commands on nodes: add, refresh, disconnect, open a node file, open the SSH config, show the log.
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { parseHostSpec } from '../ssh/sshConfig';
import type { Services } from '../services';
import { pickNode } from './pickNode';
import { validateWith } from '../ui/inputValidation';

type NodeArg = { spec?: string } | string | undefined;

function specOf(arg: NodeArg): string | undefined {
  return typeof arg === 'string' ? arg : arg?.spec;
}

export function registerNodeCommands(context: vscode.ExtensionContext, services: Services): void {
  const { knownNodes, connections, nodesTree, resolver, logs } = services;
  context.subscriptions.push(
    vscode.commands.registerCommand('kubelet.addNode', async () => {
      const spec = await vscode.window.showInputBox({
        title: vscode.l10n.t('Add Node'),
        prompt: vscode.l10n.t('A Host alias from your SSH config, or user@host:port'),
        placeHolder: vscode.l10n.t('root@10.0.0.12 or my-node'),
        ignoreFocusOut: true,
        validateInput: validateWith(parseHostSpec),
      });
      if (spec) {
        await knownNodes.add(spec.trim());
      }
    }),
    vscode.commands.registerCommand('kubelet.refreshNodes', (arg?: NodeArg) => nodesTree.refresh(specOf(arg))),
    vscode.commands.registerCommand('kubelet.disconnectNode', async (arg?: NodeArg) => {
      const spec = specOf(arg) ?? (await pickNode(knownNodes, vscode.l10n.t('Disconnect from which node?')));
      if (spec) {
        connections.get(spec).disconnect();
      }
    }),
    vscode.commands.registerCommand('kubelet.openNodeFile', async (uri?: vscode.Uri) => {
      if (uri) {
        await vscode.window.showTextDocument(uri, { preview: false });
      }
    }),
    vscode.commands.registerCommand('kubelet.openSshConfig', async (which?: 'known_hosts') => {
      const file = which === 'known_hosts' ? path.join(os.homedir(), '.ssh', 'known_hosts') : resolver.userConfigFile;
      await vscode.window.showTextDocument(vscode.Uri.file(file)).then(undefined, async () => {
        // A missing config is normal on a fresh machine: offer an empty one to start from.
        await vscode.window.showTextDocument(vscode.Uri.file(file).with({ scheme: 'untitled' }));
      });
    }),
    vscode.commands.registerCommand('kubelet.showLog', () => logs.ssh.show()),
    vscode.commands.registerCommand('kubelet.pickNode', () => pickNode(knownNodes, vscode.l10n.t('Debug the kubelet on which node?'))),
  );
}
