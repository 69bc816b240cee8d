// Resolves `kubelet` launch configurations in two steps, as VS Code intends: fill in defaults (and
// ask for a node when none is set), then validate once variables are substituted.
import * as vscode from 'vscode';
import { pickNode } from '../commands/pickNode';
import type { KnownNodes } from '../ui/knownNodes';
import { KubeletLaunchConfig, validateLaunchConfig, withDefaults } from './launchConfig';

/** Does the launch work on the node; returns the prepared target's id, or undefined to stop quietly. */
export type PrepareTarget = (config: KubeletLaunchConfig, folder: vscode.WorkspaceFolder | undefined) => Promise<string | undefined>;

export class KubeletConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(
    private readonly nodes: KnownNodes,
    private readonly prepare: PrepareTarget,
  ) {}

  /** One ready-to-run entry per known node, shown under "Kubelet" in the Run and Debug picker. */
  async provideDebugConfigurations(): Promise<vscode.DebugConfiguration[]> {
    return (await this.nodes.list()).map((n) => ({
      type: 'kubelet',
      request: 'launch',
      name: `Debug kubelet on ${n.spec}`,
      host: n.spec,
      breakAt: ['syncLoop'],
    }));
  }

  async resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    // F5 with no launch.json arrives as an empty configuration.
    if (!config.type && !config.request && !config.name) {
      config = { type: 'kubelet', request: 'launch', name: 'Debug kubelet on node' } as vscode.DebugConfiguration;
    }
    if (!config.host) {
      const host = await pickNode(this.nodes, 'Debug the kubelet on which node?');
      if (!host) {
        return undefined;
      }
      config.host = host;
    }
    return withDefaults(config) as vscode.DebugConfiguration;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    const { problems, config: valid } = validateLaunchConfig(config);
    if (problems.length > 0) {
      const open = 'Open launch.json';
      const choice = await vscode.window.showErrorMessage(
        `The kubelet launch configuration "${config.name}" has problems: ${problems.join(' ')}`,
        open,
      );
      if (choice === open) {
        await vscode.commands.executeCommand('debug.addConfiguration');
      }
      return undefined;
    }
    const id = await this.prepare(valid!, folder);
    return id ? { ...config, __krdTarget: id } : undefined;
  }
}
