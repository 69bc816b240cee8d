// A cluster's nodes as the Nodes view shows them: Ready condition, roles, kubelet version, addresses,
// taints, pod count, and whether the extension cordoned the node. Read from one context's API.
import type { KubeApi, RequestLimits } from './kubeApi';

/** The annotation our cordon leaves on the node, so "cordoned by us" survives a crashed VS Code. */
export const CORDON_ANNOTATION = 'kubelet-remote-debug/cordoned';

export interface CordonMark {
  /** Who cordoned: user@host (VS Code, pid N). */
  by: string;
  since: string;
  sessionId?: string;
}

export interface ReadyCondition {
  status: 'True' | 'False' | 'Unknown';
  /** When the condition last changed status. */
  since?: Date;
  reason?: string;
  message?: string;
}

export interface ClusterNode {
  context: string;
  name: string;
  ready: ReadyCondition;
  roles: string[];
  kubeletVersion: string;
  internalIPs: string[];
  externalIPs: string[];
  hostnames: string[];
  taints: string[];
  /** Pods bound to the node that have not finished. */
  podCount: number;
  unschedulable: boolean;
  cordonedByUs?: CordonMark;
}

export interface ClusterSnapshot {
  context: string;
  server: string;
  /** The API server's gitVersion, e.g. v1.20.2. */
  serverVersion?: string;
  nodes: ClusterNode[];
}

/** The parts of a v1 Node this file reads. */
export interface NodeObject {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] };
  status?: {
    conditions?: { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string }[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { kubeletVersion?: string };
  };
}

export interface PodObject {
  metadata?: { name?: string; namespace?: string; ownerReferences?: { kind: string }[] };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export function readyCondition(node: NodeObject): ReadyCondition {
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  if (!c) {
    return { status: 'Unknown', reason: 'no Ready condition yet' };
  }
  const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
  return { status, since: c.lastTransitionTime ? new Date(c.lastTransitionTime) : undefined, reason: c.reason, message: c.message };
}

/** Roles from the node-role.kubernetes.io/ROLE labels (and the older kubernetes.io/role). */
export function nodeRoles(labels: Record<string, string> = {}): string[] {
  const roles = Object.keys(labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  if (labels['kubernetes.io/role']) {
    roles.push(labels['kubernetes.io/role']);
  }
  return [...new Set(roles)].sort();
}

export function parseCordonMark(value: string | undefined): CordonMark | undefined {
  if (!value) {
    return undefined;
  }
  try {
    const mark = JSON.parse(value) as CordonMark;
    return typeof mark.by === 'string' ? mark : { by: value, since: '' };
  } catch {
    return { by: value, since: '' };
  }
}

export function summarizeNode(context: string, node: NodeObject, podCount: number): ClusterNode {
  const addresses = node.status?.addresses ?? [];
  const of = (type: string) => addresses.filter((a) => a.type === type).map((a) => a.address);
  return {
    context,
    name: node.metadata?.name ?? '',
    ready: readyCondition(node),
    roles: nodeRoles(node.metadata?.labels),
    kubeletVersion: node.status?.nodeInfo?.kubeletVersion ?? '',
    internalIPs: of('InternalIP'),
    externalIPs: of('ExternalIP'),
    hostnames: of('Hostname'),
    taints: (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
    podCount,
    unschedulable: node.spec?.unschedulable === true,
    cordonedByUs: parseCordonMark(node.metadata?.annotations?.[CORDON_ANNOTATION]),
  };
}

/** Pods still running or waiting (not Succeeded or Failed), by node name. */
export function countPodsByNode(pods: PodObject[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') {
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
  }
  return counts;
}

export async function readClusterSnapshot(api: KubeApi, limits?: RequestLimits): Promise<ClusterSnapshot> {
  // The nodes first: if the API cannot be reached, one clear error, not three.
  const nodes = ((await api.get('/api/v1/nodes', limits)) as { items?: NodeObject[] }).items ?? [];
  const [pods, version] = await Promise.all([
    api.get('/api/v1/pods?fieldSelector=' + encodeURIComponent('status.phase!=Succeeded,status.phase!=Failed'), limits),
    api.get('/version', limits).catch(() => undefined),
  ]);
  const counts = countPodsByNode((pods as { items?: PodObject[] }).items ?? []);
  return {
    context: api.context.name,
    server: api.context.server,
    serverVersion: (version as { gitVersion?: string } | undefined)?.gitVersion,
    nodes: nodes.map((n) => summarizeNode(api.context.name, n, counts.get(n.metadata?.name ?? '') ?? 0)),
  };
}

/** The pods bound to one node that have not finished, as namespace/name (kind), for the cordon question. */
export async function podsOnNode(api: KubeApi, node: string, limits?: RequestLimits): Promise<string[]> {
  const selector = `spec.nodeName=${node},status.phase!=Succeeded,status.phase!=Failed`;
  const list = (await api.get(`/api/v1/pods?fieldSelector=${encodeURIComponent(selector)}`, limits)) as { items?: PodObject[] };
  return (list.items ?? []).map((p) => {
    const kind = p.metadata?.ownerReferences?.[0]?.kind;
    return `${p.metadata?.namespace}/${p.metadata?.name}${kind ? ` (${kind})` : ''}`;
  });
}
