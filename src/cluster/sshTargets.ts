// Which SSH target reaches a cluster node: a Host of ~/.ssh/config whose name or HostName is the
// node's name or one of its addresses, else the `kubelet.cluster.sshTarget` template (for example
// "root@${InternalIP}"), else none, which the view says.
import type { ClusterNode } from './clusterNodes';

export interface SshHostEntry {
  alias: string;
  /** HostName after resolution (the alias itself when the config sets none). */
  hostName: string;
}

export type SshTargetMatch =
  { spec: string; via: 'sshConfig' | 'template'; reason?: undefined } | { spec?: undefined; via?: undefined; reason: string };

const TEMPLATE_VARIABLES = ['NodeName', 'InternalIP', 'ExternalIP', 'Hostname'] as const;

export function matchSshTarget(node: ClusterNode, hosts: SshHostEntry[], template: string | undefined): SshTargetMatch {
  const names = new Set(
    [node.name, ...node.internalIPs, ...node.externalIPs, ...node.hostnames].filter(Boolean).map((n) => n.toLowerCase()),
  );
  const byAlias = hosts.find((h) => names.has(h.alias.toLowerCase()));
  const byHostName = byAlias ?? hosts.find((h) => names.has(h.hostName.toLowerCase()));
  if (byHostName) {
    return { spec: byHostName.alias, via: 'sshConfig' };
  }
  if (template && template.trim()) {
    const values: Record<(typeof TEMPLATE_VARIABLES)[number], string | undefined> = {
      NodeName: node.name,
      InternalIP: node.internalIPs[0],
      ExternalIP: node.externalIPs[0],
      Hostname: node.hostnames[0],
    };
    const missing: string[] = [];
    const spec = template.trim().replace(/\$\{(\w+)\}/g, (whole, name: string) => {
      const value = (values as Record<string, string | undefined>)[name];
      if (value === undefined) {
        missing.push(name);
        return whole;
      }
      return value;
    });
    if (missing.length === 0) {
      return { spec, via: 'template' };
    }
    return {
      reason: `the kubelet.cluster.sshTarget template "${template}" needs ${missing.map((m) => `\${${m}}`).join(', ')}, which ${node.name} does not have${missing.some((m) => !(TEMPLATE_VARIABLES as readonly string[]).includes(m)) ? ` (known: ${TEMPLATE_VARIABLES.map((v) => `\${${v}}`).join(', ')})` : ''}`,
    };
  }
  return {
    reason: `no Host in your SSH config is named ${node.name} or has it or one of its addresses (${[...node.internalIPs, ...node.externalIPs].join(', ') || 'none'}) as HostName, and kubelet.cluster.sshTarget is not set`,
  };
}
