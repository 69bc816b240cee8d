// Commands on a node's unit, from the Nodes view (contextValue menus) or the palette: new and delete
// drop-in, daemon-reload, start/stop/restart, and follow the journal.
import * as path from 'path';
import * as vscode from 'vscode';
import { DisposableList } from '../common/disposableList';
import type { Services } from '../services';
import { createDropIn, daemonReload, deleteDropIn, runUnitAction, UnitAction, validateDropInName } from '../systemd/unitActions';
import { showError } from '../ui/showError';
import { openJournalTerminal } from '../views/journalTerminal';
import { nodeFileUri } from '../views/nodeUri';
import { pickNode } from './pickNode';
import { validateWith } from '../ui/inputValidation';

/** A tree element (node, unit or file item), a node name, or nothing (palette: ask). */
type UnitArg = { spec?: string; path?: string } | string | undefined;

const ACTION_TITLES: Record<UnitAction, string> = { start: 'Starting', stop: 'Stopping', restart: 'Restarting' };

export function registerUnitCommands(context: vscode.ExtensionContext, services: Services): void {
  const { knownNodes, connections, nodesTree, logs } = services;
  const terminals = new DisposableList();
  const unitName = () => vscode.workspace.getConfiguration('kubelet').get<string>('unit', 'kubelet.service');
  const nodeOf = async (arg: UnitArg, title: string) => (typeof arg === 'string' ? arg : arg?.spec) ?? pickNode(knownNodes, title);

  /** Runs a command body with errors shown once, through showError, and the node's tree refreshed. */
  const guarded = (title: string, body: (spec: string, arg: UnitArg) => Promise<unknown>) => async (arg?: UnitArg) => {
    const spec = await nodeOf(arg, title);
    if (!spec) {
      return undefined;
    }
    try {
      return await body(spec, arg);
    } catch (err) {
      void showError(err, logs.ssh);
      return undefined;
    } finally {
      nodesTree.refresh(spec);
    }
  };

  const unitAction = (action: UnitAction) => guarded(`${action} ${unitName()} on which node?`, async (spec) => {
    const unit = unitName();
    // A stopped kubelet takes the node NotReady, so that one is asked about; the rest are undone by each other.
    if (action === 'stop' && (await vscode.window.showWarningMessage(`Stop ${unit} on ${spec}?`, { modal: true, detail: 'The node goes NotReady until the unit is started again.' }, 'Stop')) !== 'Stop') {
      return;
    }
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `${ACTION_TITLES[action]} ${unit} on ${spec}` },
      () => runUnitAction(connections.get(spec), action, unit));
  });

  context.subscriptions.push(
    terminals,
    vscode.commands.registerCommand('kubelet.newDropIn', guarded('Add a drop-in on which node?', async (spec) => {
      const unit = unitName();
      const name = await vscode.window.showInputBox({
        title: `New drop-in for ${unit} on ${spec}`,
        prompt: `Created in /etc/systemd/system/${unit}.d/; systemd applies drop-ins in name order.`,
        value: '20-override.conf',
        valueSelection: [0, 11],
        ignoreFocusOut: true,
        validateInput: validateWith(validateDropInName),
      });
      if (!name) {
        return undefined;
      }
      const file = await createDropIn(connections.get(spec), unit, name);
      await vscode.window.showTextDocument(nodeFileUri(spec, file), { preview: false });
      return file;
    })),
    vscode.commands.registerCommand('kubelet.deleteDropIn', guarded('Delete a drop-in on which node?', async (spec, arg) => {
      const file = typeof arg === 'object' ? arg.path : undefined;
      if (!file) {
        void vscode.window.showInformationMessage('Pick the drop-in to delete in the Nodes view.');
        return undefined;
      }
      const remove = 'Delete';
      const choice = await vscode.window.showWarningMessage(`Delete ${path.posix.basename(file)} on ${spec}?`, {
        modal: true,
        detail: `${file} is moved to a backup folder on the node, then systemd reloads. The running unit keeps its settings until it restarts.`,
      }, remove);
      if (choice !== remove) {
        return undefined;
      }
      const backup = await deleteDropIn(connections.get(spec), file);
      void vscode.window.showInformationMessage(`Deleted ${file} on ${spec} and reloaded systemd. A copy is in ${backup}.`);
      return backup;
    })),
    vscode.commands.registerCommand('kubelet.daemonReload', guarded('Reload systemd on which node?', async (spec) => {
      await daemonReload(connections.get(spec));
      // A reload alone changes nothing that runs: the unit takes the reloaded files when it restarts.
      const restart = `Restart ${unitName()}`;
      void vscode.window.showInformationMessage(`systemd on ${spec} reloaded its unit files. Restart ${unitName()} to apply them.`, restart).then((choice) => {
        if (choice === restart) {
          void vscode.commands.executeCommand('kubelet.restartUnit', spec);
        }
      });
    })),
    vscode.commands.registerCommand('kubelet.startUnit', unitAction('start')),
    vscode.commands.registerCommand('kubelet.stopUnit', unitAction('stop')),
    vscode.commands.registerCommand('kubelet.restartUnit', unitAction('restart')),
    vscode.commands.registerCommand('kubelet.followJournal', async (arg?: UnitArg) => {
      const spec = await nodeOf(arg, 'Follow the journal on which node?');
      if (spec) {
        terminals.add(openJournalTerminal(connections.get(spec), unitName(), (err) => void showError(err, logs.ssh)));
      }
    }),
  );
}
