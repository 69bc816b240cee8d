// "Debug kubelet on node…", "Break at startup stage…" and "Restore kubelet on node".
import * as vscode from 'vscode';
import { restoreUnitOnNode } from '../debug/kubeletLauncher';
import { availableStages, STAGE_NAMES, STARTUP_STAGES } from '../debug/startupStages';
import type { Services } from '../services';
import { showError } from '../ui/showError';
import { uncordonForHost } from '../ui/clusterDebug';
import { assertTrusted } from '../ui/workspaceTrust';
import { pickNode } from './pickNode';

type NodeArg = { spec?: string } | string | undefined;

export function registerDebugCommands(context: vscode.ExtensionContext, services: Services): void {
  const { knownNodes, connections, logs } = services;
  const specOf = async (arg: NodeArg, title: string) => (typeof arg === 'string' ? arg : arg?.spec) ?? pickNode(knownNodes, title);

  context.subscriptions.push(
    vscode.commands.registerCommand('kubelet.debugOnNode', async (arg?: NodeArg) => {
      try {
        assertTrusted(vscode.l10n.t('Debugging the kubelet'));
      } catch (err) {
        void showError(err, logs.debug);
        return false;
      }
      const host = await specOf(arg, vscode.l10n.t('Debug the kubelet on which node?'));
      if (!host) {
        return false;
      }
      const folder = vscode.workspace.workspaceFolders?.[0];
      const saved = findSavedConfiguration(folder, host);
      const config: vscode.DebugConfiguration = saved ?? {
        type: 'kubelet',
        request: 'launch',
        name: vscode.l10n.t('Debug kubelet on {0}', host),
        host,
        breakAt: ['syncLoop'],
      };
      const started = await vscode.debug.startDebugging(folder, config);
      if (started && !saved && folder) {
        void offerToSave(folder, config);
      }
      return started;
    }),

    vscode.commands.registerCommand('kubelet.breakAtStage', async () => {
      // In a live session, offer only the stages this binary has: names move between versions.
      const have = services.debugSessions.functionsOf(vscode.debug.activeDebugSession?.id);
      const stages = have ? availableStages(have) : STARTUP_STAGES.map((s) => ({ stage: s.stage, func: s.funcs[0] }));
      const picks = stages.map((s) => ({ label: `${STAGE_NAMES.indexOf(s.stage) + 1}. ${s.stage}`, description: s.func, func: s.func }));
      const chosen = await vscode.window.showQuickPick(picks, {
        title: have ? vscode.l10n.t('Break at startup stage (stages in this kubelet)') : vscode.l10n.t('Break at startup stage'),
        placeHolder: vscode.l10n.t(
          'The kubelet runs these in this order; stages that run once at start-up are hit on the next debug start',
        ),
        canPickMany: true,
      });
      if (chosen && chosen.length > 0) {
        const existing = new Set(
          vscode.debug.breakpoints
            .filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint)
            .map((b) => b.functionName),
        );
        vscode.debug.addBreakpoints(chosen.filter((c) => !existing.has(c.func)).map((c) => new vscode.FunctionBreakpoint(c.func, true)));
      }
    }),

    vscode.commands.registerCommand('kubelet.restoreNode', async (arg?: NodeArg) => {
      const host = await specOf(arg, vscode.l10n.t('Restore the kubelet on which node?'));
      if (!host) {
        return undefined;
      }
      const unit = vscode.workspace.getConfiguration('kubelet').get<string>('unit', 'kubelet.service');
      try {
        const report = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Restoring {0} on {1}', unit, host) },
          async () => {
            const restored = await restoreUnitOnNode(connections.get(host), unit);
            // The cordon a session of this machine left on the node is undone with it.
            return { ...restored, notes: [...(restored.notes ?? []), ...(await uncordonForHost(host, services))] };
          },
        );
        const ok = report.activeState === 'active' && report.leftovers.length === 0;
        const message = ok
          ? vscode.l10n.t('{0} on {1} is active again (PID {2}, {3}).', unit, host, report.mainPid, report.executable)
          : report.leftovers.length
            ? vscode.l10n.t('{0} on {1}: {2}; still there: {3}.', unit, host, report.activeState, report.leftovers.join(', '))
            : vscode.l10n.t('{0} on {1}: {2}.', unit, host, report.activeState);
        const notes = (report.notes ?? []).map((n) => ` ${n}`).join('');
        void (ok ? vscode.window.showInformationMessage(message + notes) : vscode.window.showWarningMessage(message + notes));
        services.nodesTree.refresh(host);
        return report;
      } catch (err) {
        void showError(err, logs.debug);
        return undefined;
      }
    }),
  );
}

function findSavedConfiguration(folder: vscode.WorkspaceFolder | undefined, host: string): vscode.DebugConfiguration | undefined {
  const configs = vscode.workspace.getConfiguration('launch', folder).get<vscode.DebugConfiguration[]>('configurations', []);
  return configs.find((c) => c.type === 'kubelet' && c.host === host);
}

async function offerToSave(folder: vscode.WorkspaceFolder, config: vscode.DebugConfiguration): Promise<void> {
  const save = vscode.l10n.t('Save to launch.json');
  if (
    (await vscode.window.showInformationMessage(
      vscode.l10n.t('Save "{0}" to launch.json, so F5 starts it next time?', config.name),
      save,
    )) !== save
  ) {
    return;
  }
  const launch = vscode.workspace.getConfiguration('launch', folder);
  const configs = launch.get<vscode.DebugConfiguration[]>('configurations', []);
  await launch.update('configurations', [...configs, config], vscode.ConfigurationTarget.WorkspaceFolder);
}
