// The Nodes view's cluster rows: one per kubeconfig context, its nodes (Ready, roles, kubelet
// version, pods, cordon), and under each node its SSH target and the same unit rows as an
// SSH-configured node. A cluster node's row carries `spec` (its SSH target), so every node action
// works on it. Failures show as rows with the message, never as a failed tree.
import * as vscode from 'vscode';
import type { KubeContextRef } from '../cluster/kubeconfigs';
import type { UserError } from '../common/errors';
import type { ConnectionManager } from '../ssh/nodeConnection';
import type { ClusterInventory, ClusterNodeView } from '../ui/clusterInventory';

export type ClusterTreeItem =
  | { kind: 'cluster'; context: KubeContextRef }
  | { kind: 'clusterNode'; context: string; view: ClusterNodeView; spec?: string }
  | { kind: 'kubeconfigProblem'; file: string; error: UserError };

type Info = {
  kind: 'info';
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  warning?: boolean;
  command?: vscode.Command;
};

export function isClusterItem(item: { kind: string }): item is ClusterTreeItem {
  return item.kind === 'cluster' || item.kind === 'clusterNode' || item.kind === 'kubeconfigProblem';
}

export function clusterRoots(clusters: ClusterInventory): ClusterTreeItem[] {
  const { contexts, problems } = clusters.contexts();
  return [
    ...contexts.map((context) => ({ kind: 'cluster' as const, context })),
    ...problems.map((p) => ({ kind: 'kubeconfigProblem' as const, file: p.file, error: p.error })),
  ];
}

const refresh: vscode.Command = { command: 'kubelet.refreshNodes', title: vscode.l10n.t('Retry') };

export async function clusterChildren<T>(
  clusters: ClusterInventory,
  element: ClusterTreeItem,
  nodeChildren: (spec: string, scope: string) => Promise<T[]>,
): Promise<(T | ClusterTreeItem | Info)[]> {
  if (element.kind === 'cluster') {
    const view = await clusters.view(element.context);
    if ('error' in view) {
      return [{ kind: 'info', label: view.error.display, tooltip: view.error.display, icon: 'warning', warning: true, command: refresh }];
    }
    if (view.nodes.length === 0) {
      return [{ kind: 'info', label: vscode.l10n.t('No nodes'), icon: 'info' }];
    }
    return view.nodes.map((v) => ({ kind: 'clusterNode' as const, context: element.context.name, view: v, spec: v.target.spec }));
  }
  if (element.kind === 'clusterNode') {
    const { target } = element.view;
    if (!target.spec) {
      const message = vscode.l10n.t(
        'No SSH target for {0}: {1}. Add a Host to your SSH config, or set kubelet.cluster.sshTarget.',
        element.view.node.name,
        target.reason ?? '',
      );
      return [
        {
          kind: 'info',
          label: vscode.l10n.t('No SSH target'),
          description: target.reason,
          tooltip: `${message} [KRD1809]`,
          icon: 'warning',
          warning: true,
          command: {
            command: 'workbench.action.openSettings',
            title: vscode.l10n.t('Open Settings'),
            arguments: ['kubelet.cluster.sshTarget'],
          },
        },
      ];
    }
    const via = target.via === 'sshConfig' ? vscode.l10n.t('from SSH config') : vscode.l10n.t('from kubelet.cluster.sshTarget');
    const info: Info = { kind: 'info', label: vscode.l10n.t('SSH target'), description: `${target.spec} (${via})`, icon: 'remote' };
    return [info, ...(await nodeChildren(target.spec, `${element.context}/${element.view.node.name}`))];
  }
  return [];
}

export function clusterTreeItem(element: ClusterTreeItem, connections: ConnectionManager): vscode.TreeItem {
  switch (element.kind) {
    case 'cluster': {
      const item = new vscode.TreeItem(element.context.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `cluster:${element.context.file}:${element.context.name}`;
      item.description = element.context.server;
      item.tooltip = vscode.l10n.t(
        'Context {0} of {1}: cluster {2}, user {3}',
        element.context.name,
        element.context.file,
        element.context.cluster,
        element.context.user,
      );
      item.iconPath = new vscode.ThemeIcon('server-environment');
      item.contextValue = 'cluster';
      return item;
    }
    case 'kubeconfigProblem': {
      const item = new vscode.TreeItem(element.error.display, vscode.TreeItemCollapsibleState.None);
      item.id = `kubeconfig:${element.file}`;
      item.tooltip = element.error.display;
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
      item.command = refresh;
      return item;
    }
    case 'clusterNode': {
      const n = element.view.node;
      const item = new vscode.TreeItem(n.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `clusterNode:${element.context}:${n.name}`;
      const ready =
        n.ready.status === 'True'
          ? vscode.l10n.t('Ready')
          : n.ready.status === 'False'
            ? vscode.l10n.t('NotReady')
            : vscode.l10n.t('Unknown');
      const parts = [
        ready,
        n.roles.length ? n.roles.join(',') : undefined,
        n.kubeletVersion,
        n.podCount === 1 ? vscode.l10n.t('1 pod') : vscode.l10n.t('{0} pods', n.podCount),
        n.cordonedByUs ? vscode.l10n.t('cordoned by Kubelet Remote Debug') : n.unschedulable ? vscode.l10n.t('cordoned') : undefined,
      ];
      item.description = parts.filter(Boolean).join(' · ');
      const state = element.spec ? connections.get(element.spec).state : undefined;
      item.tooltip = [
        `${n.name} (context ${element.context})`,
        `Ready: ${n.ready.status}${n.ready.reason ? ` (${n.ready.reason})` : ''}${n.ready.since ? ` since ${n.ready.since.toISOString()}` : ''}`,
        `Roles: ${n.roles.join(', ') || 'none'}`,
        `Kubelet: ${n.kubeletVersion}`,
        `InternalIP: ${n.internalIPs.join(', ') || '-'}; ExternalIP: ${n.externalIPs.join(', ') || '-'}`,
        `Taints: ${n.taints.join(', ') || 'none'}`,
        `Pods: ${n.podCount}`,
        ...(n.cordonedByUs
          ? [`Cordoned by Kubelet Remote Debug: ${n.cordonedByUs.by}${n.cordonedByUs.since ? ` since ${n.cordonedByUs.since}` : ''}`]
          : []),
        element.spec ? `SSH: ${element.spec}${state?.kind === 'ready' ? ' (connected)' : ''}` : `SSH: none (${element.view.target.reason})`,
      ].join('\n');
      item.iconPath = n.cordonedByUs
        ? new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : n.ready.status === 'True'
          ? new vscode.ThemeIcon('vm-active', new vscode.ThemeColor('testing.iconPassed'))
          : new vscode.ThemeIcon('vm-outline', new vscode.ThemeColor('testing.iconFailed'));
      // "node…" makes every node action (debug, restore, disconnect, journal) apply; without an SSH target there is nothing to act on.
      item.contextValue = element.spec ? (state?.kind === 'ready' ? 'node.connected.cluster' : 'node.cluster') : 'clusterNode.unreachable';
      return item;
    }
  }
}
