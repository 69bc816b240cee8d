// Reads systemd unit files the way systemd does: [Section] headers, Key=Value lines, # and ;
// comments, backslash continuations (with comment lines inside them skipped), and applies a
// fragment plus its drop-ins in order, where an empty assignment resets a list setting.

export interface UnitAssignment {
  section: string;
  key: string;
  value: string;
  file: string;
  line: number;
}

export interface UnitFileText {
  path: string;
  text: string;
}

export class UnitFileSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'UnitFileSyntaxError';
  }
}

export function parseUnitFile(text: string, file = '<unit>'): UnitAssignment[] {
  const out: UnitAssignment[] = [];
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i].replace(/\r$/, '');
    if (/^\s*([#;]|$)/.test(line)) {
      continue;
    }
    // Continuation: a trailing backslash joins the next line with a space; comments inside are skipped.
    while (/\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ';
      i++;
      const next = lines[i].replace(/\r$/, '');
      if (/^\s*[#;]/.test(next)) {
        line = line.replace(/ $/, '\\');
        continue;
      }
      line += next;
    }
    line = line.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new UnitFileSyntaxError(file, start, `"${line.slice(0, 80)}" is neither a [Section] nor a Key=Value assignment.`);
    }
    if (section === '') {
      throw new UnitFileSyntaxError(file, start, 'an assignment comes before any [Section] header.');
    }
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), file, line: start });
  }
  return out;
}

/** All assignments of the unit in the order systemd applies them: the fragment, then each drop-in. */
export function mergeUnitFiles(files: readonly UnitFileText[]): UnitAssignment[] {
  return files.flatMap((f) => parseUnitFile(f.text, f.path));
}

/** The values of a list setting (ExecStart, Environment, EnvironmentFile…) after empty resets. */
export function effectiveList(assignments: readonly UnitAssignment[], section: string, key: string): UnitAssignment[] {
  let values: UnitAssignment[] = [];
  for (const a of assignments) {
    if (a.section === section && a.key === key) {
      values = a.value === '' ? [] : [...values, a];
    }
  }
  return values;
}

/** A single-valued setting (User, WorkingDirectory, Type…): the last assignment wins. */
export function effectiveValue(assignments: readonly UnitAssignment[], section: string, key: string): string | undefined {
  let value: string | undefined;
  for (const a of assignments) {
    if (a.section === section && a.key === key) {
      value = a.value === '' ? undefined : a.value;
    }
  }
  return value;
}

export interface ExecLine {
  /** Special prefixes such as "-", "@", "+", "!", "!!", ":". */
  prefixes: string;
  /** The program as written (still quoted if it was). */
  program: string;
  /** With "@": the argv[0] word as written. */
  argv0?: string;
  /** Everything after the program (and argv0), verbatim, for systemd to expand as before. */
  rest: string;
}

/** Splits an ExecStart value into prefixes, program and the untouched rest. */
export function splitExecLine(value: string): ExecLine {
  const prefixMatch = /^[-@:+!]*/.exec(value);
  const prefixes = prefixMatch ? prefixMatch[0] : '';
  let remaining = value.slice(prefixes.length);
  const [program, afterProgram] = takeWord(remaining);
  if (program === '') {
    throw new Error(`ExecStart "${value}" names no program.`);
  }
  remaining = afterProgram;
  let argv0: string | undefined;
  if (prefixes.includes('@')) {
    [argv0, remaining] = takeWord(remaining);
  }
  return { prefixes, program, argv0, rest: remaining.trim() };
}

/** One word as systemd's extract_first_word sees it: quotes may wrap a word, backslash escapes. */
function takeWord(text: string): [string, string] {
  const s = text.replace(/^\s+/, '');
  let i = 0;
  let quote: string | undefined;
  while (i < s.length) {
    const c = s[i];
    if (quote) {
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === quote) {
        quote = undefined;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '\\') {
      i += 2;
      continue;
    } else if (/\s/.test(c)) {
      break;
    }
    i++;
  }
  return [s.slice(0, i), s.slice(i)];
}

/**
 * Quotes a word for a unit file: double quotes, C escapes, and % doubled so specifiers stay literal.
 * In ExecStart, $ is doubled too; Environment= does no $ expansion, so there it must stay single.
 */
export function quoteUnitWord(word: string, context: 'exec' | 'environment' = 'exec'): string {
  if (word.includes('\0')) {
    throw new Error('A unit file value cannot contain a NUL byte.');
  }
  // systemd ends a line at \r as well as \n: every control character must become an escape, or a
  // value could start a line of its own (say, an ExecStartPre= that runs as root).
  let escaped = word
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/[\x01-\x1f\x7f]/g, (c) => CONTROL_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/%/g, '%%');
  if (context === 'exec') {
    escaped = escaped.replace(/\$/g, '$$$$');
  }
  return `"${escaped}"`;
}

const CONTROL_ESCAPES: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
