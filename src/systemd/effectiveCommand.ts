// The command line and environment systemd 252 really gives a service's ExecStart, computed from the
// unit's files and environment files, so a debug launch can reproduce it. Every rule here was checked
// against real systemd on the test node (test/e2e/effectiveCommand.test.ts).
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellQuote } from '../ssh/shellQuote';
import { EnvironmentFileError, isValidEnvName, parseEnvironmentFile } from './environmentFile';
import { effectiveList, effectiveValue, mergeUnitFiles, UnitAssignment, UnitFileText } from './unitFile';
import type { UnitStatus } from './unitStatus';

export interface EffectiveCommand {
  /** argv as the process receives it; argv[0] is the `@` word when there is one, else the program. */
  argv: string[];
  /** The file systemd executes, as written: systemd searches PATH for a bare name. */
  program: string;
  /**
   * Only what the unit defines: Environment=, then EnvironmentFile= (which wins), less
   * UnsetEnvironment=. systemd also adds PATH, LANG, INVOCATION_ID, JOURNAL_STREAM, SYSTEMD_EXEC_PID
   * and, with User=, HOME/USER/LOGNAME/SHELL; those belong to the node, not the unit, so they are left
   * out. PassEnvironment= (the manager's own environment) is ignored for the same reason.
   */
  env: Record<string, string>;
  /** WorkingDirectory= without its "-" (missing is not fatal); "~" means the user's home, as written. */
  workingDirectory?: string;
  /** User= as written (a name or a UID); undefined runs as root. */
  user?: string;
  /** ExecStart prefixes as written: "-", "@", ":", "+", "!", "!!". */
  prefixes: string;
  /** The effective ExecStart= value exactly as written (continuation lines joined), and where. */
  execStartAsWritten: { text: string; file: string; line: number };
  /**
   * In the order systemd reads them; `missing` only for optional files that were not there, and
   * `ignored` for an optional file systemd skips whole because it cannot load it (why, with the line).
   */
  environmentFiles: { path: string; optional: boolean; missing: boolean; ignored?: string }[];
  /** Variables ExecStart refers to that the unit does not define (e.g. $PATH): expanded as empty here. */
  unknownVariables: string[];
}

/** Reads one environment file from the node, as bytes (or text); undefined when it does not exist. */
export type EnvironmentFileReader = (path: string) => Promise<Uint8Array | string | undefined>;

export class EffectiveCommandError extends Error {
  override name = 'EffectiveCommandError';
}

/** systemd itself would refuse to start the unit as its files stand, for the reason in the message. */
export class UnitWouldNotStartError extends EffectiveCommandError {
  override name = 'UnitWouldNotStartError';
}

/**
 * Computes what systemd passes to the unit's (first) ExecStart command. `files` are the fragment and
 * its drop-ins in the order systemd applies them (FragmentPath, then DropInPaths). `nodeSpecifiers`
 * gives the node-dependent specifiers (%H, %l, %m, %b, %v), as nodeSpecifiers() reads them.
 */
export async function computeEffectiveCommand(
  unit: string,
  files: readonly UnitFileText[],
  readFile: EnvironmentFileReader,
  nodeSpecifiers: Readonly<Record<string, string>> = {},
): Promise<EffectiveCommand> {
  const assignments = mergeUnitFiles(files);
  const spec = (text: string) => expandSpecifiers(text, unit, nodeSpecifiers);
  const words = (a: UnitAssignment) => extractWords(a.value, 'environ').map(spec);

  const fromUnit = new Map<string, string>();
  for (const a of effectiveList(assignments, 'Service', 'Environment')) {
    for (const word of words(a)) {
      const eq = word.indexOf('=');
      // systemd skips an invalid assignment with a warning and keeps the rest of the line.
      if (eq > 0 && isValidEnvName(word.slice(0, eq))) {
        fromUnit.set(word.slice(0, eq), word.slice(eq + 1));
      }
    }
  }

  // EnvironmentFile= values override Environment= ones whatever the order of the lines.
  const fromFiles = new Map<string, string>();
  const environmentFiles: EffectiveCommand['environmentFiles'] = [];
  for (const a of effectiveList(assignments, 'Service', 'EnvironmentFile')) {
    const { path, optional } = environmentFileRef(a, spec);
    const content = await readFile(path);
    if (content === undefined && !optional) {
      throw new UnitWouldNotStartError(
        `${a.file}:${a.line}: EnvironmentFile ${path} does not exist, so systemd would refuse to start ${unit}.`,
      );
    }
    let vars: Map<string, string>;
    try {
      vars = parseEnvironmentFile(content ?? '');
    } catch (err) {
      if (!(err instanceof EnvironmentFileError)) {
        throw err;
      }
      if (!optional) {
        throw new UnitWouldNotStartError(
          `systemd would refuse to start ${unit} ("${err.systemdError}"): ${path} ${err.message}. Fix that line, then restart.`,
        );
      }
      // "-" lets systemd skip a file it cannot load as if it were missing: none of its variables are set.
      environmentFiles.push({ path, optional, missing: false, ignored: err.message });
      continue;
    }
    environmentFiles.push({ path, optional, missing: content === undefined });
    for (const [k, v] of vars) {
      fromFiles.set(k, v);
    }
  }
  const env = new Map([...fromUnit, ...fromFiles]);

  // Unsetting happens before ExecStart is expanded, so an unset $VAR yields no word there.
  for (const a of effectiveList(assignments, 'Service', 'UnsetEnvironment')) {
    for (const word of words(a)) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      if (eq < 0 || env.get(name) === word.slice(eq + 1)) {
        env.delete(name); // NAME=VALUE unsets only when the value matches
      }
    }
  }

  const exec = effectiveList(assignments, 'Service', 'ExecStart');
  if (exec.length === 0) {
    throw new EffectiveCommandError(`${unit} has no ExecStart after its drop-ins are applied.`);
  }
  // Specifiers are expanded word by word after splitting, so an empty %i still leaves an empty word.
  const parsed = parseExecWords(exec[0].value);
  const prefixes = parsed.prefixes;
  const execWords = parsed.words.map(spec);
  if (execWords.length === 0 || (prefixes.includes('@') && execWords.length < 2)) {
    throw new EffectiveCommandError(`${exec[0].file}:${exec[0].line}: ExecStart names no program.`);
  }
  const program = execWords[0];
  const rawArgv = prefixes.includes('@') ? execWords.slice(1) : execWords;
  const unknown = new Set<string>();
  // ":" turns variable expansion off; specifiers and escapes still apply.
  const argv = prefixes.includes(':') ? rawArgv : rawArgv.flatMap((w) => expandVariables(w, env, unknown));

  const workingDirectory = effectiveValue(assignments, 'Service', 'WorkingDirectory');
  const user = effectiveValue(assignments, 'Service', 'User');
  return {
    argv,
    program,
    env: Object.fromEntries(env),
    workingDirectory: workingDirectory === undefined ? undefined : spec(workingDirectory.replace(/^-/, '')),
    user: user === undefined ? undefined : spec(user),
    prefixes,
    execStartAsWritten: { text: exec[0].value, file: exec[0].file, line: exec[0].line },
    environmentFiles,
    unknownVariables: [...unknown],
  };
}

/** Files whose contents are the node-dependent specifiers, read with the unit files. */
const SPECIFIER_FILES: Record<string, string> = {
  H: '/proc/sys/kernel/hostname',
  m: '/etc/machine-id',
  b: '/proc/sys/kernel/random/boot_id',
  v: '/proc/sys/kernel/osrelease',
};

/**
 * Reads the unit's files and environment files from the node as root, in one round trip for the unit
 * files and one for the environment files (their paths are only known once the units are parsed).
 */
export async function readEffectiveCommand(node: NodeConnection, status: UnitStatus, signal?: AbortSignal): Promise<EffectiveCommand> {
  const paths = [status.fragmentPath, ...status.dropInPaths].filter(Boolean);
  const [unitTexts, specifierTexts] = splitAt(
    await readNodeFiles(node, [...paths, ...Object.values(SPECIFIER_FILES)], signal),
    paths.length,
  );
  const specifiers = nodeSpecifiers(
    Object.fromEntries(Object.keys(SPECIFIER_FILES).map((k, i) => [k, specifierTexts[i]?.toString('utf8') ?? ''])),
  );
  const files = paths.map((path, i) => {
    const bytes = unitTexts[i];
    if (bytes === undefined) {
      throw new EffectiveCommandError(`${path} of ${status.unit} could not be read on ${node.spec}.`);
    }
    return { path, text: bytes.toString('utf8') };
  });
  // Read every environment file at once up front; computeEffectiveCommand then asks in its own order.
  const spec = (text: string) => expandSpecifiers(text, status.unit, specifiers);
  const envPaths = effectiveList(mergeUnitFiles(files), 'Service', 'EnvironmentFile').map((a) => environmentFileRef(a, spec).path);
  const envContents = await readNodeFiles(node, envPaths, signal);
  const byPath = new Map(envPaths.map((p, i) => [p, envContents[i]]));
  return computeEffectiveCommand(status.unit, files, async (path) => byPath.get(path), specifiers);
}

/** %H, %l, %m, %b, %v from the raw contents of SPECIFIER_FILES (IDs without dashes, as systemd prints them). */
export function nodeSpecifiers(raw: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, text] of Object.entries(raw)) {
    const value = k === 'b' || k === 'm' ? text.trim().replace(/-/g, '') : text.trim();
    if (value !== '') {
      out[k] = value;
    }
  }
  if (out.H !== undefined) {
    out.l = out.H.split('.')[0];
  }
  return out;
}

function splitAt<T>(list: T[], at: number): [T[], T[]] {
  return [list.slice(0, at), list.slice(at)];
}

/** An EnvironmentFile= line's path, and whether a leading "-" lets it be missing. */
function environmentFileRef(a: UnitAssignment, spec: (text: string) => string): { path: string; optional: boolean } {
  const optional = a.value.startsWith('-');
  const path = spec(a.value.slice(optional ? 1 : 0).trim());
  // systemd expands a glob here; reading one file by that name would silently differ, so refuse.
  if (/[*?[]/.test(path)) {
    throw new EffectiveCommandError(`${a.file}:${a.line}: EnvironmentFile=${a.value} is a glob pattern, which is not supported yet.`);
  }
  return { path, optional };
}

/** Each file's text, or undefined where it is missing; all in one `sh -c`, NUL-framed. */
async function readNodeFiles(node: NodeConnection, paths: readonly string[], signal?: AbortSignal): Promise<(Buffer | undefined)[]> {
  if (paths.length === 0) {
    return [];
  }
  // "1" + base64 for a readable file, "0" for a missing one, one line each: the bytes arrive exactly as
  // they are (systemd judges an environment file by its bytes: a NUL or invalid UTF-8 fails it).
  const script = paths
    .map((p) => `if [ -f ${shellQuote(p)} ]; then printf 1; base64 -w0 -- ${shellQuote(p)}; else printf 0; fi; echo`)
    .join('; ');
  const result = await node.runAsRoot('read the unit files', ['sh', '-c', script], { signal });
  const records = result.stdout.split('\n');
  return paths.map((_, i) => (records[i]?.startsWith('1') ? Buffer.from(records[i].slice(1), 'base64') : undefined));
}

type WordMode = 'exec' | 'environ' | 'split';

/**
 * systemd's extract_first_word() over a whole string. All modes unquote; 'exec' (ExecStart) and
 * 'environ' (Environment=, UnsetEnvironment=) also C-unescape. An unknown escape such as `\q` stays
 * as written in 'exec', but in 'environ' it is a syntax error that drops the rest of the line (the
 * words before it stay); 'split', used on a `$VAR` value, only drops backslashes. Single and double
 * quotes behave the same.
 */
export function extractWords(text: string, mode: WordMode): string[] {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && isBlank(text[i])) {
      i++;
    }
    if (i >= text.length) {
      return words;
    }
    const [word, next] = extractWord(text, i, mode);
    if (word === undefined) {
      return words;
    }
    words.push(word);
    i = next;
  }
}

/** The word at `start` and where it ends; no word when 'environ' meets an unknown escape. */
function extractWord(text: string, start: number, mode: WordMode): [string | undefined, number] {
  let word = '';
  let quote = '';
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (!quote && isBlank(c)) {
      break;
    }
    if (c === '\\') {
      if (i + 1 >= text.length) {
        word += '\\';
        i++;
        break;
      }
      if (mode === 'split') {
        word += text[i + 1];
        i += 2;
        continue;
      }
      const [unescaped, length] = cUnescapeOne(text, i + 1);
      if (unescaped === undefined && mode === 'environ') {
        return [undefined, i];
      }
      word += unescaped ?? '\\' + text[i + 1];
      i += 1 + (unescaped === undefined ? 1 : length);
      continue;
    }
    if (quote && c === quote) {
      quote = '';
    } else if (!quote && (c === '"' || c === "'")) {
      quote = c;
    } else {
      word += c;
    }
    i++;
  }
  return [word, i];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
  s: ' ',
};

/** systemd's cunescape_one(): the character and how many input characters it used, or undefined. */
function cUnescapeOne(text: string, at: number): [string | undefined, number] {
  const c = text[at];
  if (c in SIMPLE_ESCAPES) {
    return [SIMPLE_ESCAPES[c], 1];
  }
  const digits = (n: number, re: RegExp, radix: number): [string | undefined, number] => {
    const s = text.slice(at + 1, at + 1 + n);
    if (s.length !== n || !re.test(s) || parseInt(s, radix) === 0 || parseInt(s, radix) > 0x10ffff) {
      return [undefined, 0];
    }
    return [String.fromCodePoint(parseInt(s, radix)), n + 1];
  };
  if (c === 'x') {
    return digits(2, /^[0-9a-fA-F]+$/, 16);
  }
  if (c === 'u') {
    return digits(4, /^[0-9a-fA-F]+$/, 16);
  }
  if (c === 'U') {
    return digits(8, /^[0-9a-fA-F]+$/, 16);
  }
  if (c >= '0' && c <= '7') {
    const [s, n] = digits(2, /^[0-7]+$/, 8);
    const value = parseInt(text.slice(at, at + 3), 8);
    return s === undefined || value === 0 || value > 255 ? [undefined, 0] : [String.fromCharCode(value), n];
  }
  return [undefined, 0];
}

/** Splits an ExecStart value into its prefixes and unquoted words. */
export function parseExecWords(value: string): { prefixes: string; words: string[] } {
  const text = value.trimStart();
  const prefixes = /^(?:!!|[-@:+!])*/.exec(text)?.[0] ?? '';
  const words: string[] = [];
  let i = prefixes.length;
  for (;;) {
    while (i < text.length && isBlank(text[i])) {
      i++;
    }
    const endsHere = (at: number) => at >= text.length || isBlank(text[at]);
    if (i >= text.length || (text[i] === ';' && endsHere(i + 1))) {
      // A lone ";" starts a second command; only the first is the service's main process.
      return { prefixes, words };
    }
    if (text.startsWith('\\;', i) && endsHere(i + 2)) {
      words.push(';');
      i += 2;
      continue;
    }
    const [word, next] = extractWord(text, i, 'exec');
    words.push(word ?? '');
    i = next;
  }
}

/**
 * systemd's replace_env_argv() for one word: a word that is exactly `$NAME` becomes the value split
 * into words (none when unset or empty); elsewhere only `${NAME}` (empty when unset) and `$$` expand.
 */
export function expandVariables(word: string, env: ReadonlyMap<string, string>, unknown = new Set<string>()): string[] {
  if (word.startsWith('$') && word[1] !== '{' && word[1] !== '$') {
    const value = env.get(word.slice(1));
    if (value === undefined) {
      if (word.length > 1) {
        unknown.add(word.slice(1));
      }
      return [];
    }
    return extractWords(value, 'split');
  }
  return [
    word.replace(/\$(\$|\{([A-Za-z0-9_]*)\})/g, (_m, what: string, name: string | undefined) => {
      if (what === '$') {
        return '$';
      }
      const value = env.get(name ?? '');
      if (value === undefined) {
        unknown.add(name ?? '');
      }
      return value ?? '';
    }),
  ];
}

/**
 * Unit specifiers: those of the unit name and the system manager's fixed paths, plus the node's own
 * (%H, %l, %m, %b, %v) when given. %u/%U/%g/%G/%h are the manager's user (root) in systemd 252 even
 * when User= is set, as the node shows. Anything else (%s, %a, %o…) is refused rather than guessed.
 */
export function expandSpecifiers(text: string, unit: string, node: Readonly<Record<string, string>> = {}): string {
  const dot = unit.lastIndexOf('.');
  const name = dot > 0 ? unit.slice(0, dot) : unit;
  const at = name.indexOf('@');
  const prefix = at >= 0 ? name.slice(0, at) : name;
  const instance = at >= 0 ? name.slice(at + 1) : '';
  const lastDash = prefix.lastIndexOf('-');
  const last = lastDash >= 0 ? prefix.slice(lastDash + 1) : prefix;
  const values: Record<string, string> = {
    ...node,
    '%': '%',
    n: unit,
    N: name,
    p: prefix,
    P: unescapeUnitName(prefix),
    i: instance,
    I: unescapeUnitName(instance),
    j: last,
    J: unescapeUnitName(last),
    f: '/' + unescapeUnitName(instance || prefix).replace(/^\/+/, ''),
    t: '/run',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    E: '/etc',
    T: '/tmp',
    V: '/var/tmp',
    u: 'root',
    U: '0',
    g: 'root',
    G: '0',
    h: '/root',
  };
  return text.replace(/%(.)/gs, (_m, c: string) => {
    const value = values[c];
    if (value === undefined) {
      throw new EffectiveCommandError(`The specifier %${c} in "${text}" is not supported.`);
    }
    return value;
  });
}

/** unit_name_unescape(): "-" is "/", \xHH is a byte. */
function unescapeUnitName(s: string): string {
  return s.replace(/-/g, '/').replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}
