// Decides, before the node is touched, whether Delve can debug a binary well: DWARF must be there
// (not stripped, no -w) and the compiler must have run with -N -l for every package. The facts come
// from the ELF section table and the build settings Go records in the binary.
import type { ElfSection } from './elfSections';

export type DebugBinaryVerdict =
  | { kind: 'ok' }
  /** No DWARF at all: Delve refuses to launch it. */
  | { kind: 'stripped'; evidence: string }
  /** DWARF present, but optimised and inlined: breakpoints and variables are unreliable. */
  | { kind: 'optimised'; evidence: string }
  /** The binary does not say how it was compiled (no recorded -gcflags and no build settings at all). */
  | { kind: 'unknown'; evidence: string };

export function judgeDebugBinary(sections: readonly ElfSection[], settings: ReadonlyMap<string, string>): DebugBinaryVerdict {
  const ldflags = settings.get('-ldflags') ?? '';
  const hasDwarf = sections.some((s) => s.name === '.debug_info' || s.name === '.zdebug_info');
  if (!hasDwarf) {
    const flags = ldflagWords(ldflags).filter((w) => w === '-s' || w === '-w');
    return {
      kind: 'stripped',
      evidence: flags.length > 0 ? `it was linked with -ldflags="${flags.join(' ')} …"` : 'it has no DWARF sections (it was stripped)',
    };
  }
  if (settings.size === 0) {
    return { kind: 'unknown', evidence: 'it records no build settings, so how it was compiled cannot be told' };
  }
  const gcflags = settings.get('-gcflags');
  if (gcflags === undefined) {
    return { kind: 'optimised', evidence: 'it was compiled without -gcflags, so with optimisations and inlining' };
  }
  if (!disablesOptimisationEverywhere(gcflags)) {
    return {
      kind: 'optimised',
      evidence: `it was compiled with -gcflags="${gcflags.trim()}", which does not turn off optimisations and inlining for all packages (all=-N -l)`,
    };
  }
  return { kind: 'ok' };
}

/**
 * True when the -gcflags value gives -N and -l to every package. `go build` reads the value as
 * [pattern=]flags: the pattern ("all") picks the packages, and without one the flags reach only the
 * packages named on the command line, so `-N -l` alone leaves every dependency optimised.
 */
export function disablesOptimisationEverywhere(gcflags: string): boolean {
  const value = gcflags.trim();
  const m = /^([^-=\s][^=\s]*)=(.*)$/s.exec(value);
  if (!m || m[1] !== 'all') {
    return false;
  }
  const words = m[2].split(/\s+/);
  return words.includes('-N') && words.includes('-l');
}

/** The words of an -ldflags value, ignoring the quoted values of -X. */
function ldflagWords(ldflags: string): string[] {
  return ldflags
    .replace(/'[^']*'/g, "''")
    .split(/\s+/)
    .filter(Boolean);
}
