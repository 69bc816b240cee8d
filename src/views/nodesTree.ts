// The "Nodes" tree: each node, its unit's state, version, unit file, drop-ins in the order systemd
// applies them, environment files, ExecStart, the client certificate's expiry and unit files changed
// since the process started. Unit data is cached per node and re-read only on Refresh (and after an
// action); the node's one shared connection is reused, never opened per refresh. A failure is cached
// too: a connection attempt may ask a person (a password, a one-time code), so it is retried only when
// the person asks for it, never because the view redrew.
import * as path from 'path';
import * as vscode from 'vscode';
import { ErrorCode, UserError } from '../common/errors';
import type { ConnectionManager, ConnectionState } from '../ssh/nodeConnection';
import { EffectiveCommand, readEffectiveCommand, UnitWouldNotStartError } from '../systemd/effectiveCommand';
import {
  describeDrift,
  detectStaleProcess,
  KUBELET_CLIENT_CERT,
  readCertificateExpiry,
  readManagerEnvironmentNames,
  readProcessArgv,
  readProcessEnviron,
  StaleProcess,
} from '../systemd/unitHealth';
import { shellQuote } from '../ssh/shellQuote';
import { readNodeBinaryVersion } from '../binary/nodeBinaryVersion';
import { readUnitStatus, UnitStatus } from '../systemd/unitStatus';
import type { KnownNodes } from '../ui/knownNodes';
import type { ClusterInventory } from '../ui/clusterInventory';
import { clusterChildren, clusterRoots, ClusterTreeItem, clusterTreeItem, isClusterItem } from './clusterTree';
import { nodeFileUri } from '../files/nodeUri';

/** `scope` keeps ids apart when one SSH target shows twice: at the top and under its cluster node. */
type NodeTreeItem =
  | { kind: 'node'; spec: string }
  | { kind: 'unit'; spec: string; scope?: string }
  | { kind: 'file'; spec: string; path: string; role: string; contextValue: 'file.unit' | 'file.dropIn' | 'file.env'; scope?: string }
  | { kind: 'info'; label: string; description?: string; tooltip?: string; icon: string; warning?: boolean; command?: vscode.Command }
  | { kind: 'error'; spec: string; error: string }
  | ClusterTreeItem;

interface UnitSnapshot {
  status: UnitStatus;
  version: string;
  certificateExpiry?: Date;
  stale?: StaleProcess;
  /** What systemd passes when the unit starts, or why it could not be worked out (or would not start at all). */
  effective?: EffectiveCommand | { error: string; wouldNotStart: boolean };
  /** The login user's sudo asks for a password, so nothing that needs root can be read. */
  sudoNeedsPassword?: { error: UserError; user: string };
}

const CERT_WARNING_DAYS = 30;

export class NodesTreeProvider implements vscode.TreeDataProvider<NodeTreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<NodeTreeItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly snapshots = new Map<string, Promise<UnitSnapshot>>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly nodes: KnownNodes,
    private readonly connections: ConnectionManager,
    private readonly clusters: ClusterInventory,
  ) {
    this.subscriptions.push(
      nodes.onDidChange(() => this.refresh()),
      clusters.onDidChange(() => this.changed.fire(undefined)),
      connections.onDidChangeState((spec, state) => this.onConnectionState(spec, state)),
    );
  }

  refresh(spec?: string): void {
    if (spec) {
      this.snapshots.delete(spec);
    } else {
      this.snapshots.clear();
      this.clusters.refresh();
    }
    this.changed.fire(undefined);
  }

  private onConnectionState(spec: string, state: ConnectionState): void {
    if (state.kind === 'lost' || state.kind === 'idle') {
      this.snapshots.delete(spec);
    }
    if (state.kind !== 'connecting') {
      this.changed.fire(undefined);
    }
  }

  private unitName(): string {
    return vscode.workspace.getConfiguration('kubelet').get<string>('unit', 'kubelet.service');
  }

  private snapshot(spec: string): Promise<UnitSnapshot> {
    let snapshot = this.snapshots.get(spec);
    if (!snapshot) {
      const node = this.connections.get(spec);
      snapshot = (async () => {
        const status = await readUnitStatus(node, this.unitName());
        const binary = status.execStart[0]?.path;
        // Extras need root (PKI, /proc of a root process); without sudo they are simply not shown.
        const [version, certificateExpiry, stale, effective, runningArgv, runningEnviron, managerNames] = await Promise.all([
          binary ? readNodeBinaryVersion(node, binary).catch(() => '') : '',
          // The client certificate is the kubelet's; another unit (containerd) has none to show.
          status.unit.startsWith('kubelet') ? readCertificateExpiry(node).catch(() => undefined) : undefined,
          detectStaleProcess(node, status).catch(() => undefined),
          readEffectiveCommand(node, status).catch((err: Error) => ({
            error: err.message,
            wouldNotStart: err instanceof UnitWouldNotStartError,
            sudo: isSudoNeedsPassword(err) ? err : undefined,
          })),
          readProcessArgv(node, status.mainPid).catch(() => undefined),
          readProcessEnviron(node, status.mainPid).catch(() => undefined),
          readManagerEnvironmentNames(node).catch(() => new Set<string>()),
        ]);
        if ('sudo' in effective && effective.sudo) {
          // Everything else that needs root failed for the same reason; one row with the fix says it all.
          return {
            status,
            version,
            certificateExpiry,
            stale,
            sudoNeedsPassword: { error: effective.sudo, user: node.user ?? 'the login user' },
          };
        }
        // The unit files say one thing, the running process another: edited but not restarted (or reloaded).
        const drift = 'argv' in effective ? describeDrift(effective, { argv: runningArgv, environ: runningEnviron }, managerNames) : [];
        const reasons = [...drift, ...(stale?.reasons ?? [])];
        return { status, version, certificateExpiry, stale: reasons.length ? { reasons } : undefined, effective };
      })();
      this.snapshots.set(spec, snapshot);
      // A failure stays until Refresh or the error row's Retry: the failed connection's state change
      // redraws the view, which must not try (and ask the person) again by itself. (A collapsed node
      // keeps its rows in the workbench, so expanding it again does not ask for them.)
      snapshot.catch(() => undefined);
    }
    return snapshot;
  }

  async getChildren(element?: NodeTreeItem): Promise<NodeTreeItem[]> {
    if (!element) {
      const nodes: NodeTreeItem[] = (await this.nodes.list()).map((n) => ({ kind: 'node', spec: n.spec }));
      // The clusters come after the SSH-configured nodes, and whatever fails there stays in its own rows.
      return [...nodes, ...clusterRoots(this.clusters)];
    }
    if (element.kind === 'node') {
      return this.nodeChildren(element.spec);
    }
    if (element.kind === 'unit') {
      return unitChildren(element.spec, await this.snapshot(element.spec)).map((c) =>
        c.kind === 'file' ? { ...c, scope: element.scope } : c,
      );
    }
    if (isClusterItem(element)) {
      return clusterChildren(this.clusters, element, (spec, scope) => this.nodeChildren(spec, scope));
    }
    return [];
  }

  private async nodeChildren(spec: string, scope?: string): Promise<NodeTreeItem[]> {
    try {
      await this.snapshot(spec);
      return [{ kind: 'unit', spec, scope }];
    } catch (err) {
      return [{ kind: 'error', spec, error: err instanceof UserError ? err.display : (err as Error).message }];
    }
  }

  async getTreeItem(element: NodeTreeItem): Promise<vscode.TreeItem> {
    switch (element.kind) {
      case 'node': {
        const state = this.connections.get(element.spec).state;
        const item = new vscode.TreeItem(element.spec, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `node:${element.spec}`;
        item.contextValue = state.kind === 'ready' ? 'node.connected' : 'node';
        item.iconPath = new vscode.ThemeIcon(
          state.kind === 'ready' ? 'vm-active' : state.kind === 'failed' || state.kind === 'lost' ? 'vm-outline' : 'vm',
        );
        item.description = describeState(state);
        item.tooltip = state.kind === 'failed' || state.kind === 'lost' ? state.error.display : element.spec;
        return item;
      }
      case 'unit': {
        const { status } = await this.snapshot(element.spec);
        const item = new vscode.TreeItem(status.unit, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `unit:${element.scope ?? ''}:${element.spec}`;
        item.contextValue = 'unit';
        const running = status.activeState === 'active';
        item.iconPath = new vscode.ThemeIcon(
          running ? 'pass-filled' : status.activeState === 'failed' ? 'error' : 'circle-large-outline',
          new vscode.ThemeColor(
            running ? 'testing.iconPassed' : status.activeState === 'failed' ? 'testing.iconFailed' : 'disabledForeground',
          ),
        );
        item.description = `${status.activeState} (${status.subState})${status.mainPid ? ` · PID ${status.mainPid}` : ''}`;
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(path.basename(element.path), vscode.TreeItemCollapsibleState.None);
        item.id = `file:${element.scope ?? ''}:${element.spec}:${element.role}:${element.path}`;
        item.description = `${element.role} · ${path.dirname(element.path)}`;
        item.tooltip = `${element.path} on ${element.spec}`;
        item.resourceUri = nodeFileUri(element.spec, element.path);
        item.contextValue = element.contextValue;
        item.iconPath = new vscode.ThemeIcon(element.contextValue === 'file.env' ? 'symbol-variable' : 'file-code');
        item.command = { command: 'kubelet.openNodeFile', title: vscode.l10n.t('Open File'), arguments: [item.resourceUri] };
        return item;
      }
      case 'info': {
        const item = new vscode.TreeItem(element.label, vscode.TreeItemCollapsibleState.None);
        item.description = element.description;
        item.tooltip = element.tooltip ?? element.description;
        item.iconPath = element.warning
          ? new vscode.ThemeIcon(element.icon, new vscode.ThemeColor('problemsWarningIcon.foreground'))
          : new vscode.ThemeIcon(element.icon);
        item.command = element.command;
        return item;
      }
      case 'cluster':
      case 'clusterNode':
      case 'kubeconfigProblem':
        return clusterTreeItem(element, this.connections);
      case 'error': {
        const item = new vscode.TreeItem(element.error, vscode.TreeItemCollapsibleState.None);
        item.tooltip = element.error;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.command = {
          command: 'kubelet.refreshNodes',
          title: vscode.l10n.t('Retry'),
          arguments: [{ kind: 'node', spec: element.spec }],
        };
        return item;
      }
    }
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}

function unitChildren(
  spec: string,
  { status, version, certificateExpiry, stale, effective, sudoNeedsPassword }: UnitSnapshot,
  now = Date.now(),
): NodeTreeItem[] {
  const items: NodeTreeItem[] = [];
  if (sudoNeedsPassword) {
    items.push({
      kind: 'info',
      label: vscode.l10n.t('sudo needs a password'),
      description: sudoFix(sudoNeedsPassword.user),
      tooltip: `${sudoNeedsPassword.error.display}\n\n${vscode.l10n.t('The command line, version and other details need root, so they are not shown. Click to open your SSH config.')}`,
      icon: 'lock',
      warning: true,
      command: { command: 'kubelet.openSshConfig', title: vscode.l10n.t('Open SSH Config') },
    });
  }
  if (status.needDaemonReload) {
    // systemd has not read the edited files yet: a restart alone would run the old settings again.
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Reload to apply'),
      description: vscode.l10n.t('unit files changed on disk: Daemon Reload, then Restart') + (stale ? ` (${stale.reasons[0]})` : ''),
      tooltip: `${vscode.l10n.t('systemd still runs {0} from the unit files as they were at its last daemon-reload (NeedDaemonReload=yes).', status.unit)}${stale ? `\n\n${stale.reasons.join('\n')}` : ''}\n\n${vscode.l10n.t('Click to run Daemon Reload; then restart {0} to apply the files.', status.unit)}`,
      icon: 'warning',
      warning: true,
      command: { command: 'kubelet.daemonReload', title: vscode.l10n.t('Daemon Reload'), arguments: [spec] },
    });
  } else if (stale) {
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Restart to apply'),
      description: stale.reasons[0],
      tooltip: `${stale.reasons.join('\n')}\n\n${vscode.l10n.t('Restart {0} (its context menu) to apply the unit files.', status.unit)}`,
      icon: 'warning',
      warning: true,
    });
  }
  if (effective && 'error' in effective && effective.wouldNotStart) {
    // As important as the unit's state: the next restart (or reboot) leaves the node without it.
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Cannot start'),
      description: effective.error,
      tooltip: `${effective.error}\n\n${vscode.l10n.t('The running process (if any) is unaffected until {0} restarts.', status.unit)}`,
      icon: 'error',
      warning: true,
    });
  }
  if (version) {
    items.push({ kind: 'info', label: vscode.l10n.t('Version'), description: version, icon: 'tag' });
  }
  if (certificateExpiry) {
    const days = Math.floor((certificateExpiry.getTime() - now) / 86_400_000);
    const soon = days < CERT_WARNING_DAYS;
    const date = certificateExpiry.toISOString().slice(0, 10);
    const description = !soon
      ? vscode.l10n.t('expires {0}', date)
      : days < 0
        ? vscode.l10n.t('expires {0} (expired)', date)
        : vscode.l10n.t('expires {0} (in {1} days)', date, days);
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Client certificate'),
      description,
      tooltip: `${KUBELET_CLIENT_CERT}: notAfter ${certificateExpiry.toISOString()}`,
      icon: soon ? 'warning' : 'workspace-trusted',
      warning: soon,
    });
  }
  if (status.fragmentPath) {
    items.push({ kind: 'file', spec, path: status.fragmentPath, role: vscode.l10n.t('unit file'), contextValue: 'file.unit' });
  }
  status.dropInPaths.forEach((p, i) =>
    items.push({ kind: 'file', spec, path: p, role: vscode.l10n.t('drop-in {0}', i + 1), contextValue: 'file.dropIn' }),
  );
  for (const env of status.environmentFiles) {
    const role = env.optional ? vscode.l10n.t('environment file, optional') : vscode.l10n.t('environment file');
    items.push({ kind: 'file', spec, path: env.path, role, contextValue: 'file.env' });
  }
  for (const env of effective && 'argv' in effective ? effective.environmentFiles.filter((e) => e.ignored) : []) {
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Ignored by systemd'),
      description: `${env.path}: ${env.ignored}`,
      tooltip: vscode.l10n.t(
        'systemd cannot load {0} ({1}). As the file is optional ("-"), systemd skips it whole: none of its variables are set.',
        env.path,
        env.ignored ?? '',
      ),
      icon: 'warning',
      warning: true,
    });
  }
  const exec = status.execStart[0];
  if (effective && 'argv' in effective) {
    const written = effective.execStartAsWritten;
    items.push({
      kind: 'info',
      label: 'ExecStart',
      description: written.text,
      tooltip: `ExecStart=${written.text}\n\n${vscode.l10n.t('As written at {0}:{1}; see "Command line" for what systemd makes of it.', written.file, written.line)}`,
      icon: 'terminal',
    });
  } else if (exec) {
    // The unit files could not be read as systemd does; systemctl's parsed argv is what is left.
    items.push({
      kind: 'info',
      label: vscode.l10n.t('ExecStart (parsed)'),
      description: exec.argvText,
      tooltip: `${exec.argvText}\n\n${vscode.l10n.t('systemd\'s parsed argv from systemctl show: prefixes such as "-" and quotes are not shown.')}`,
      icon: 'terminal',
    });
  }
  if (effective && 'argv' in effective) {
    const shown = effective.argv.map(shellQuote).join(' ');
    const env = Object.entries(effective.env).map(([k, v]) => `${k}=${v}`);
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Command line'),
      description: shown,
      tooltip: [
        vscode.l10n.t('What systemd runs, variables expanded:'),
        ...effective.argv.map((a, i) => `  argv[${i}] ${a}`),
        '',
        vscode.l10n.t('Environment from the unit:'),
        ...env.map((e) => `  ${e}`),
        ...(effective.unknownVariables.length
          ? ['', vscode.l10n.t('Not defined by the unit (empty here): {0}', effective.unknownVariables.join(', '))]
          : []),
      ].join('\n'),
      icon: 'symbol-event',
    });
  } else if (effective && !effective.wouldNotStart) {
    items.push({
      kind: 'info',
      label: vscode.l10n.t('Command line'),
      description: vscode.l10n.t('cannot be worked out'),
      tooltip: effective.error,
      icon: 'warning',
      warning: true,
    });
  }
  return items;
}

function isSudoNeedsPassword(err: unknown): err is UserError {
  return err instanceof UserError && err.code === ErrorCode.SudoNeedsPassword;
}

/** The fix in a line the tree can show: a NOPASSWD rule for the login user, or logging in as root. */
function sudoFix(user: string): string {
  return `add "${user} ALL=(ALL) NOPASSWD: ALL" to a file in /etc/sudoers.d/ on the node, or log in as root`;
}

function describeState(state: ConnectionState): string {
  switch (state.kind) {
    case 'idle':
      return '';
    case 'connecting':
      return vscode.l10n.t('connecting…');
    case 'ready':
      return vscode.l10n.t('connected as {0}', state.user);
    case 'lost':
      return vscode.l10n.t('connection lost');
    case 'failed':
      return vscode.l10n.t('cannot connect');
  }
}

export function registerNodesView(
  context: vscode.ExtensionContext,
  nodes: KnownNodes,
  connections: ConnectionManager,
  clusters: ClusterInventory,
): NodesTreeProvider {
  const provider = new NodesTreeProvider(nodes, connections, clusters);
  const view = vscode.window.createTreeView('kubelet.nodes', { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(provider, view);
  return provider;
}
