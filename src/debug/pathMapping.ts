// Maps workspace files to the paths recorded in the binary, for any Go program: DBG=1 builds keep
// the build machine's absolute paths, Kubernetes' -trimpath builds keep relative ones
// (_output/local/go/src/k8s.io/kubernetes/…). The mapping is the root that the longest common
// suffix of the binary's own files and the workspace's files points at, agreed on by several files.
import * as fs from 'fs';

export interface PathMapping {
  from: string;
  to: string;
}

export type MappingOutcome =
  { kind: 'same' } | { kind: 'mapped'; mapping: PathMapping; agreeing: number; sampled: number } | { kind: 'none'; example?: string };

/** How many of the binary's files to test; enough to outvote a stray match, cheap in stat calls. */
const SAMPLE = 40;

/**
 * Finds where the binary's sources sit relative to the workspace. `exists` is asked about paths
 * relative to the workspace root (a few hundred calls at most).
 */
export function deriveMapping(
  binarySources: readonly string[],
  workspaceRoot: string,
  exists: (relativePath: string) => boolean,
): MappingOutcome {
  const own = ownSources(binarySources);
  if (own.length === 0) {
    return { kind: 'none' };
  }
  const sample = spread(own, SAMPLE);
  const votes = new Map<string, { count: number; deep: boolean }>();
  for (const source of sample) {
    const found = rootByLongestSuffix(source, exists);
    if (found) {
      const v = votes.get(found.root) ?? { count: 0, deep: false };
      votes.set(found.root, { count: v.count + 1, deep: v.deep || found.matchedParts >= 2 });
    }
  }
  const [best, vote] = [...votes.entries()].sort((a, b) => b[1].count - a[1].count)[0] ?? [undefined, undefined];
  // One stray match must not decide: two files must agree, and one of them by more than a bare file
  // name (a main.go the workspace happens to have proves nothing alone).
  if (best === undefined || !vote || vote.count < Math.min(2, sample.length) || !vote.deep) {
    return { kind: 'none', example: own[0] };
  }
  const count = vote.count;
  const localRoot = trimSlashes(workspaceRoot);
  if (best === localRoot) {
    return { kind: 'same' };
  }
  return { kind: 'mapped', mapping: { from: localRoot, to: best }, agreeing: count, sampled: sample.length };
}

/** The user's mappings first (Delve uses the first that matches), then the derived one. */
export function combineMappings(user: readonly PathMapping[], derived: MappingOutcome): PathMapping[] {
  const mappings = [...user];
  if (derived.kind === 'mapped' && !mappings.some((m) => m.to === derived.mapping.to)) {
    mappings.push(derived.mapping);
  }
  return mappings;
}

/** The program's own files: not the Go toolchain's, not vendored, not from the module cache. */
function ownSources(sources: readonly string[]): string[] {
  const goroots = new Set(sources.filter((s) => s.endsWith('/src/runtime/proc.go')).map((s) => s.slice(0, -'src/runtime/proc.go'.length)));
  return sources.filter(
    (s) =>
      s.endsWith('.go') &&
      !s.startsWith('<') &&
      !s.includes('/vendor/') &&
      !s.includes('/pkg/mod/') &&
      ![...goroots].some((g) => s.startsWith(g)),
  );
}

/** The binary-side root for one file: its path minus the longest tail that exists in the workspace. */
function rootByLongestSuffix(
  source: string,
  exists: (relativePath: string) => boolean,
): { root: string; matchedParts: number } | undefined {
  const parts = source.split('/');
  for (let i = 0; i <= parts.length - 1; i++) {
    const tail = parts.slice(i).join('/');
    if (tail !== '' && exists(tail)) {
      return { root: trimSlashes(parts.slice(0, i).join('/')) || (source.startsWith('/') ? '/' : '.'), matchedParts: parts.length - i };
    }
  }
  return undefined;
}

function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) {
    return [...items];
  }
  const step = items.length / n;
  return Array.from({ length: n }, (_, i) => items[Math.floor(i * step)]);
}

function trimSlashes(p: string): string {
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}

/**
 * `exists` for a local workspace: true only for a real file reached without a symlink, so a
 * Kubernetes tree's _output/local/go/src/k8s.io/kubernetes link back to itself is not taken for the
 * sources.
 */
export function localWorkspaceFiles(workspaceRoot: string, fs: { realpathSync(p: string): string }): (relativePath: string) => boolean {
  let root: string;
  try {
    root = fs.realpathSync(workspaceRoot);
  } catch {
    return () => false;
  }
  return (relativePath) => {
    try {
      return fs.realpathSync(`${root}/${relativePath}`) === `${root}/${relativePath}`;
    } catch {
      return false;
    }
  };
}

/** The mappings for a session: the user's, plus the derived one for a local workspace. */
export function mappingsFor(
  user: readonly PathMapping[],
  workspaceRoot: string | undefined,
  binarySources: readonly string[],
): { mappings: PathMapping[]; outcome?: MappingOutcome } {
  if (!workspaceRoot) {
    return { mappings: [...user] };
  }
  const outcome = deriveMapping(binarySources, workspaceRoot, localWorkspaceFiles(workspaceRoot, fs));
  return { mappings: combineMappings(user, outcome), outcome };
}
