// The nodes the extension knows: the `kubelet.nodes` setting first, then literal Host entries of
// the SSH config. Shared by the Nodes view, the node picker and the debug configuration provider.
import * as vscode from 'vscode';
import type { SshConfigResolver } from '../ssh/sshConfig';

export interface KnownNode {
  spec: string;
  source: 'settings' | 'sshConfig';
}

export class KnownNodes implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly watcher: vscode.Disposable;

  constructor(private readonly resolver: SshConfigResolver) {
    this.watcher = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kubelet')) {
        this.changed.fire();
      }
    });
  }

  async list(): Promise<KnownNode[]> {
    const config = vscode.workspace.getConfiguration('kubelet');
    const fromSettings = config.get<string[]>('nodes', []).filter((s) => typeof s === 'string' && s.trim() !== '');
    const nodes: KnownNode[] = fromSettings.map((spec) => ({ spec: spec.trim(), source: 'settings' }));
    if (config.get<boolean>('showSshConfigHosts', true)) {
      const seen = new Set(nodes.map((n) => n.spec));
      for (const alias of await this.resolver.listHostAliases().catch(() => [])) {
        if (!seen.has(alias)) {
          nodes.push({ spec: alias, source: 'sshConfig' });
        }
      }
    }
    return nodes;
  }

  /** Adds a node to the user's `kubelet.nodes` setting. */
  async add(spec: string): Promise<void> {
    const config = vscode.workspace.getConfiguration('kubelet');
    const current = config.get<string[]>('nodes', []);
    if (!current.includes(spec)) {
      await config.update('nodes', [...current, spec], vscode.ConfigurationTarget.Global);
    }
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}
