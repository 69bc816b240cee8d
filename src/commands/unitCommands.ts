// Commands on a node's unit, from the Nodes view (contextValue menus) or the palette: new and delete
// drop-in, daemon-reload, start/stop/restart, and follow the journal.
import * as path from 'path';
import * as vscode from 'vscode';
import { DisposableList } from '../common/disposableList';
import type { Services } from '../services';
import { createDropIn, daemonReload, deleteDropIn, runUnitAction, UnitAction, validateDropInName } from '../systemd/unitActions';
import { showError } from '../ui/showError';
import { openJournalTerminal } from '../views/journalTerminal';
import { nodeFileUri } from '../files/nodeUri';
import { pickNode } from './pickNode';
import { validateWith } from '../ui/inputValidation';
import { assertTrusted } from '../ui/workspaceTrust';

/** A tree element (node, unit or file item), a node name, or nothing (palette: ask). */
type UnitArg = { spec?: string; path?: string } | string | undefined;

/** Whole sentences per action, so each translates as one. */
const ACTION_TEXTS: Record<
  UnitAction,
  { doing: () => string; which: (unit: string) => string; progress: (unit: string, node: string) => string }
> = {
  start: {
    doing: () => vscode.l10n.t('Starting a unit'),
    which: (u) => vscode.l10n.t('Start {0} on which node?', u),
    progress: (u, n) => vscode.l10n.t('Starting {0} on {1}', u, n),
  },
  stop: {
    doing: () => vscode.l10n.t('Stopping a unit'),
    which: (u) => vscode.l10n.t('Stop {0} on which node?', u),
    progress: (u, n) => vscode.l10n.t('Stopping {0} on {1}', u, n),
  },
  restart: {
    doing: () => vscode.l10n.t('Restarting a unit'),
    which: (u) => vscode.l10n.t('Restart {0} on which node?', u),
    progress: (u, n) => vscode.l10n.t('Restarting {0} on {1}', u, n),
  },
};

export function registerUnitCommands(context: vscode.ExtensionContext, services: Services): void {
  const { knownNodes, connections, nodesTree, logs } = services;
  const terminals = new DisposableList();
  const unitName = () => vscode.workspace.getConfiguration('kubelet').get<string>('unit', 'kubelet.service');
  const nodeOf = async (arg: UnitArg, title: string) => (typeof arg === 'string' ? arg : arg?.spec) ?? pickNode(knownNodes, title);

  /**
   * Runs a command body that changes the node: refused in Restricted Mode, errors shown once through
   * showError, and the node's tree refreshed.
   */
  const guarded = (action: string, title: string, body: (spec: string, arg: UnitArg) => Promise<unknown>) => async (arg?: UnitArg) => {
    try {
      assertTrusted(action);
    } catch (err) {
      void showError(err, logs.ssh);
      return undefined;
    }
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

  const unitAction = (action: UnitAction) =>
    guarded(ACTION_TEXTS[action].doing(), ACTION_TEXTS[action].which(unitName()), async (spec) => {
      const unit = unitName();
      // A stopped kubelet takes the node NotReady, so that one is asked about; the rest are undone by each other.
      const stop = vscode.l10n.t('Stop');
      if (
        action === 'stop' &&
        (await vscode.window.showWarningMessage(
          vscode.l10n.t('Stop {0} on {1}?', unit, spec),
          { modal: true, detail: vscode.l10n.t('The node goes NotReady until the unit is started again.') },
          stop,
        )) !== stop
      ) {
        return;
      }
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: ACTION_TEXTS[action].progress(unit, spec) },
        () => runUnitAction(connections.get(spec), action, unit),
      );
    });

  context.subscriptions.push(
    terminals,
    vscode.commands.registerCommand(
      'kubelet.newDropIn',
      guarded(vscode.l10n.t('Creating a drop-in'), vscode.l10n.t('Add a drop-in on which node?'), async (spec) => {
        const unit = unitName();
        const name = await vscode.window.showInputBox({
          title: vscode.l10n.t('New drop-in for {0} on {1}', unit, spec),
          prompt: vscode.l10n.t('Created in /etc/systemd/system/{0}.d/; systemd applies drop-ins in name order.', unit),
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
      }),
    ),
    vscode.commands.registerCommand(
      'kubelet.deleteDropIn',
      guarded(vscode.l10n.t('Deleting a drop-in'), vscode.l10n.t('Delete a drop-in on which node?'), async (spec, arg) => {
        const file = typeof arg === 'object' ? arg.path : undefined;
        if (!file) {
          void vscode.window.showInformationMessage(vscode.l10n.t('Pick the drop-in to delete in the Nodes view.'));
          return undefined;
        }
        const remove = vscode.l10n.t('Delete');
        const choice = await vscode.window.showWarningMessage(
          vscode.l10n.t('Delete {0} on {1}?', path.posix.basename(file), spec),
          {
            modal: true,
            detail: vscode.l10n.t(
              '{0} is moved to a backup folder on the node, then systemd reloads. The running unit keeps its settings until it restarts.',
              file,
            ),
          },
          remove,
        );
        if (choice !== remove) {
          return undefined;
        }
        const backup = await deleteDropIn(connections.get(spec), file);
        void vscode.window.showInformationMessage(
          vscode.l10n.t('Deleted {0} on {1} and reloaded systemd. A copy is in {2}.', file, spec, backup),
        );
        return backup;
      }),
    ),
    vscode.commands.registerCommand(
      'kubelet.daemonReload',
      guarded(vscode.l10n.t('Reloading systemd'), vscode.l10n.t('Reload systemd on which node?'), async (spec) => {
        await daemonReload(connections.get(spec));
        // A reload alone changes nothing that runs: the unit takes the reloaded files when it restarts.
        const restart = vscode.l10n.t('Restart {0}', unitName());
        void vscode.window
          .showInformationMessage(
            vscode.l10n.t('systemd on {0} reloaded its unit files. Restart {1} to apply them.', spec, unitName()),
            restart,
          )
          .then((choice) => {
            if (choice === restart) {
              void vscode.commands.executeCommand('kubelet.restartUnit', spec);
            }
          });
      }),
    ),
    vscode.commands.registerCommand('kubelet.startUnit', unitAction('start')),
    vscode.commands.registerCommand('kubelet.stopUnit', unitAction('stop')),
    vscode.commands.registerCommand('kubelet.restartUnit', unitAction('restart')),
    vscode.commands.registerCommand('kubelet.followJournal', async (arg?: UnitArg) => {
      const spec = await nodeOf(arg, vscode.l10n.t('Follow the journal on which node?'));
      if (spec) {
        terminals.add(openJournalTerminal(connections.get(spec), unitName(), (err) => void showError(err, logs.ssh)));
      }
    }),
  );
}
