// Checks a just-written unit file or drop-in with systemd's own parser before anything reloads it.
// `systemd-analyze verify` exits 0 on most parse problems and complains about unrelated units on real
// nodes (and in containers), so only its diagnostics about the written file, or new ones about its unit, count.
import * as path from 'path';
import type { NodeConnection } from '../ssh/nodeConnection';
import { writeNodeFile, WriteOptions, WriteResult } from '../node/nodeFileWrite';
import { daemonReload } from './unitActions';
import { checkUnitName } from './unitStatus';

export interface UnitFileProblem {
  file: string;
  /** 1-based; 0 when systemd named no line. */
  line: number;
  message: string;
}

const UNIT_DIRS = /^\/(etc|run|lib|usr\/lib|usr\/local\/lib)\/systemd\/system(\/|$)/;

/** The unit a file belongs to: `X` for a unit file `.../systemd/system/X` or a drop-in `.../X.d/*.conf`. */
export function unitOfFile(file: string): string | undefined {
  const dir = path.posix.dirname(file);
  const base = path.posix.basename(file);
  const parent = path.posix.basename(dir);
  const candidate = parent.endsWith('.d') && base.endsWith('.conf') ? parent.slice(0, -2) : UNIT_DIRS.test(dir) ? base : undefined;
  if (!candidate || !UNIT_DIRS.test(dir + '/')) {
    return undefined;
  }
  try {
    return checkUnitName(candidate);
  } catch {
    return undefined;
  }
}

/** A template (`foo@.service`) cannot be verified as such; an instance of it can. */
function verifiableName(unit: string): string {
  return unit.replace(/@(\.[a-z]+)$/, '@krd-check$1');
}

/** Raw diagnostics of `systemd-analyze verify` for the unit, one per line. */
export async function verifyDiagnostics(node: NodeConnection, unit: string): Promise<string[]> {
  const result = await node.execAsRoot(['systemd-analyze', 'verify', '--no-pager', '--man=no', '--', verifiableName(unit)]);
  return `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * The problems systemd reports in `file`: lines it prefixes with "FILE:LINE:", plus lines about the
 * unit itself ("kubelet.service: …") that were not there before the write (`baseline`).
 */
export function problemsInFile(
  diagnostics: readonly string[],
  file: string,
  unit: string,
  baseline: readonly string[] = [],
): UnitFileProblem[] {
  const before = new Set(baseline);
  const problems: UnitFileProblem[] = [];
  const unitPrefix = `${verifiableName(unit)}: `;
  for (const line of diagnostics) {
    if (line.startsWith(`${file}:`)) {
      const m = /^:(\d+): ?(.*)$/.exec(line.slice(file.length));
      problems.push(m ? { file, line: Number(m[1]), message: m[2] } : { file, line: 0, message: line.slice(file.length + 1).trim() });
    } else if (line.startsWith(unitPrefix) && !before.has(line)) {
      problems.push({ file, line: 0, message: line.slice(unitPrefix.length) });
    }
  }
  return problems;
}

export function describeProblems(problems: readonly UnitFileProblem[]): string {
  return problems.map((p) => `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`).join('; ');
}

export interface CheckedWrite extends WriteResult {
  /** The unit the file belongs to, when it is a unit file or drop-in. */
  unit?: string;
  /** What systemd rejects in the written file; non-empty means systemd was not reloaded. */
  problems: UnitFileProblem[];
  reloaded: boolean;
}

/**
 * Writes a node file; when it belongs to a unit, checks it with systemd's parser and only then runs
 * daemon-reload. A rejected file stays as written (nothing the user typed is lost) and systemd keeps
 * the configuration it had.
 */
export async function writeUnitAwareFile(
  node: NodeConnection,
  file: string,
  content: Uint8Array,
  options: WriteOptions,
): Promise<CheckedWrite> {
  const unit = unitOfFile(file);
  const baseline = unit ? await verifyDiagnostics(node, unit) : [];
  const written = await writeNodeFile(node, file, content, options);
  if (!unit) {
    return { ...written, problems: [], reloaded: false };
  }
  const problems = problemsInFile(await verifyDiagnostics(node, unit), written.path, unit, baseline);
  if (problems.length > 0) {
    return { ...written, unit, problems, reloaded: false };
  }
  await daemonReload(node);
  return { ...written, unit, problems, reloaded: true };
}
