// Maps workspace files to the paths recorded in the binary. DBG=1 builds keep the build machine's
// absolute paths, so the mapping is derived from where a known file of the module sits in each.

export interface PathMapping {
  from: string;
  to: string;
}

/** A file every Kubernetes tree (and our sample) has, relative to the module root. */
export const ANCHOR_FILE = 'pkg/kubelet/kubelet.go';

/**
 * The user's mappings first (Delve uses the first that matches), then the derived one when the
 * binary's module root differs from the workspace's.
 */
export function derivePathMappings(user: readonly PathMapping[], workspaceRoot: string | undefined, binaryAnchorPath: string | undefined): PathMapping[] {
  const mappings = [...user];
  if (!workspaceRoot || !binaryAnchorPath || !binaryAnchorPath.endsWith('/' + ANCHOR_FILE)) {
    return mappings;
  }
  const remoteRoot = binaryAnchorPath.slice(0, -ANCHOR_FILE.length - 1);
  const localRoot = workspaceRoot.replace(/[\\/]+$/, '');
  if (remoteRoot !== localRoot && !mappings.some((m) => m.to === remoteRoot)) {
    mappings.push({ from: localRoot, to: remoteRoot });
  }
  return mappings;
}

/** Picks the binary's copy of the anchor file out of Delve's source list. */
export function findAnchor(sources: readonly string[]): string | undefined {
  const candidates = sources.filter((s) => s.endsWith('/' + ANCHOR_FILE) && !s.includes('/vendor/'));
  return candidates.sort((a, b) => a.length - b.length)[0];
}

