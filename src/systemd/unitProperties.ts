// Parses `systemctl show` output: KEY=VALUE lines, where some keys (EnvironmentFiles) repeat and
// ExecStart values are `{ path=… ; argv[]=… ; … }` records.

export type UnitProperties = Map<string, string[]>;

export function parseShowOutput(text: string): UnitProperties {
  const props: UnitProperties = new Map();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      continue;
    }
    const key = line.slice(0, eq);
    const list = props.get(key) ?? [];
    list.push(line.slice(eq + 1));
    props.set(key, list);
  }
  return props;
}

export function first(props: UnitProperties, key: string): string {
  return props.get(key)?.[0] ?? '';
}

export interface ExecCommandRecord {
  path: string;
  /** argv as systemd stores it, variables not yet expanded. */
  argvText: string;
  ignoreErrors: boolean;
}

/** Splits `{ path=… ; argv[]=… ; ignore_errors=no ; … }` records; one line may hold several. */
export function parseExecRecords(value: string): ExecCommandRecord[] {
  const records: ExecCommandRecord[] = [];
  const re = /\{ path=(.*?) ; argv\[\]=(.*?) ; ignore_errors=(yes|no) ;/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    records.push({ path: m[1], argvText: m[2], ignoreErrors: m[3] === 'yes' });
  }
  return records;
}

export interface EnvironmentFileRef {
  path: string;
  /** The `-` prefix: a missing file is not an error. */
  optional: boolean;
}

export function parseEnvironmentFiles(values: readonly string[]): EnvironmentFileRef[] {
  return values
    .filter((v) => v.trim() !== '')
    .map((v) => {
      const m = /^(.*) \(ignore_errors=(yes|no)\)$/.exec(v);
      return m ? { path: m[1], optional: m[2] === 'yes' } : { path: v, optional: false };
    });
}
