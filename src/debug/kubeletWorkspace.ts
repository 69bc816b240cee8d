// Whether a workspace is one where "Kubelet" belongs in the debugger picker: a Kubernetes tree, or a
// folder whose launch.json already has a `kubelet` configuration. No VS Code imports.

/** Files every Kubernetes tree has; package.json's workspaceContains activation events name them too. */
export const KUBERNETES_TREE_MARKERS = ['cmd/kubelet/kubelet.go', 'pkg/kubelet/kubelet.go'] as const;

/** True when any marker exists; `exists` is asked about paths relative to the folder. */
export async function isKubernetesTree(exists: (relativePath: string) => Promise<boolean>): Promise<boolean> {
  const found = await Promise.all(KUBERNETES_TREE_MARKERS.map((m) => exists(m).catch(() => false)));
  return found.includes(true);
}

/** True when launch.json's `configurations` (or a compound's) hold a `kubelet` one. */
export function hasKubeletLaunchConfiguration(configurations: unknown): boolean {
  return Array.isArray(configurations) && configurations.some((c) => (c as { type?: unknown } | null)?.type === 'kubelet');
}
