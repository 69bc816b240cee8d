// The clusters the Nodes view shows: the contexts of the kubeconfig files, each context's nodes
// (read once, and again on Refresh), and the SSH target of each node. A context that fails holds
// its error for the view to show; it never hides the SSH-configured nodes. Also the cordon records
// in global state, and the lookup from an SSH target back to its cluster node for debug sessions.
import * as vscode from 'vscode';
import { ClusterNode, ClusterSnapshot, readClusterSnapshot } from '../cluster/clusterNodes';
import type { CordonRecord, CordonRecordStore } from '../cluster/cordonRecords';
import { KubeApi } from '../cluster/kubeApi';
import { kubeconfigFiles, kubeconfigInvalid, KubeconfigProblem, KubeContextRef, loadContexts } from '../cluster/kubeconfigs';
import { matchSshTarget, SshHostEntry, SshTargetMatch } from '../cluster/sshTargets';
import { ErrorCode, UserError } from '../common/errors';
import type { SshConfigResolver } from '../ssh/sshConfig';

export interface ClusterNodeView {
  node: ClusterNode;
  target: SshTargetMatch;
}

export type ContextView = { snapshot: ClusterSnapshot; nodes: ClusterNodeView[] } | { error: UserError };

const RECORDS_KEY = 'kubelet.cluster.cordons';

export class ClusterInventory implements vscode.Disposable, CordonRecordStore {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private contextList?: { contexts: KubeContextRef[]; problems: KubeconfigProblem[] };
  private readonly views = new Map<string, Promise<ContextView>>();
  private readonly apis = new Map<string, KubeApi>();
  private readonly watcher: vscode.Disposable;

  constructor(
    private readonly resolver: SshConfigResolver,
    private readonly state: vscode.Memento,
  ) {
    this.watcher = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kubelet.cluster') || e.affectsConfiguration('kubelet.ssh')) {
        this.refresh();
      }
    });
  }

  get enabled(): boolean {
    return vscode.workspace.getConfiguration('kubelet').get<boolean>('cluster.enabled', true);
  }

  /** The contexts of every kubeconfig file, and the files that could not be read. */
  contexts(): { contexts: KubeContextRef[]; problems: KubeconfigProblem[] } {
    if (!this.enabled) {
      return { contexts: [], problems: [] };
    }
    if (!this.contextList) {
      try {
        this.contextList = loadContexts(kubeconfigFiles());
      } catch (err) {
        // The library itself failed to load: say so where the clusters would be.
        this.contextList = {
          contexts: [],
          problems: [{ file: '@kubernetes/client-node', error: kubeconfigInvalid('@kubernetes/client-node', (err as Error).message) }],
        };
      }
    }
    return this.contextList;
  }

  api(context: KubeContextRef): KubeApi {
    const key = `${context.file}\n${context.name}`;
    let api = this.apis.get(key);
    if (!api) {
      api = KubeApi.forContext(context);
      this.apis.set(key, api);
    }
    return api;
  }

  /** A context's nodes with their SSH targets, or the error that says why there are none. */
  view(context: KubeContextRef): Promise<ContextView> {
    let view = this.views.get(context.name);
    if (!view) {
      view = (async (): Promise<ContextView> => {
        try {
          const snapshot = await readClusterSnapshot(this.api(context), { timeoutMs: 15_000 });
          const hosts = await this.sshHosts();
          const template = vscode.workspace.getConfiguration('kubelet').get<string>('cluster.sshTarget', '');
          return { snapshot, nodes: snapshot.nodes.map((node) => ({ node, target: matchSshTarget(node, hosts, template) })) };
        } catch (err) {
          return {
            error:
              err instanceof UserError
                ? err
                : new UserError(
                    ErrorCode.ClusterRequestFailed,
                    `Reading the nodes of context "${context.name}" failed: ${(err as Error).message}.`,
                    ['retry'],
                  ),
          };
        }
      })();
      this.views.set(context.name, view);
    }
    return view;
  }

  /** The cluster node a debug session's SSH target reaches, if a known cluster has one. */
  async findByHost(host: string): Promise<{ context: KubeContextRef; view: ClusterNodeView; serverVersion?: string } | undefined> {
    for (const context of this.contexts().contexts) {
      const view = await this.view(context);
      if ('error' in view) {
        continue;
      }
      const found = view.nodes.find((n) => n.target.spec === host);
      if (found) {
        return { context, view: found, serverVersion: view.snapshot.serverVersion };
      }
    }
    return undefined;
  }

  contextByName(name: string, file?: string): KubeContextRef | undefined {
    return this.contexts().contexts.find((c) => c.name === name && (!file || c.file === file));
  }

  private async sshHosts(): Promise<SshHostEntry[]> {
    const aliases = await this.resolver.listHostAliases().catch(() => []);
    return Promise.all(
      aliases.map(async (alias) => ({
        alias,
        hostName: await this.resolver.resolve(alias).then(
          (h) => h.hostName,
          () => alias,
        ),
      })),
    );
  }

  refresh(): void {
    this.contextList = undefined;
    this.views.clear();
    this.apis.clear();
    this.changed.fire();
  }

  // CordonRecordStore, in global state: it outlives the window, and every window of this machine sees it.
  all(): CordonRecord[] {
    return this.state.get<CordonRecord[]>(RECORDS_KEY, []);
  }

  async add(record: CordonRecord): Promise<void> {
    await this.state.update(RECORDS_KEY, [...this.all().filter((r) => r.sessionId !== record.sessionId), record]);
  }

  async remove(sessionId: string): Promise<void> {
    await this.state.update(
      RECORDS_KEY,
      this.all().filter((r) => r.sessionId !== sessionId),
    );
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}
