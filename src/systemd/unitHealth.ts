// Warnings the Nodes view shows about a running unit: the kubelet's client certificate running out,
// and a running process that no longer matches its unit files (edited but not reloaded or restarted),
// naming the argument or variable that differs.
import type { NodeConnection } from '../ssh/nodeConnection';
import type { UnitStatus } from './unitStatus';

export const KUBELET_CLIENT_CERT = '/var/lib/kubelet/pki/kubelet-client-current.pem';

/** notAfter of a certificate on the node (root-only files, so through sudo); undefined when unreadable. */
export async function readCertificateExpiry(node: NodeConnection, file = KUBELET_CLIENT_CERT): Promise<Date | undefined> {
  const r = await node.execAsRoot(['openssl', 'x509', '-enddate', '-noout', '-in', file]);
  const m = /notAfter=(.+)/.exec(r.stdout);
  const date = m && r.code === 0 ? new Date(m[1].trim()) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

export interface StaleProcess {
  /** Why the running process is not what the unit files now say. */
  reasons: string[];
}

// $1 PID, $2 the ExecStart program, the rest: the unit's files. Prints the process's executable, its
// start as epoch seconds (boot time + start ticks / CLK_TCK), then "mtime path" per file.
const STALE_SCRIPT = `
pid=$1; prog=$2; shift 2
exe=$(readlink -- "/proc/$pid/exe") || exit 3
ticks=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
btime=$(sed -n 's/^btime //p' /proc/stat)
echo "exe $exe"
echo "start $((btime + ticks / $(getconf CLK_TCK)))"
for f in "$@"; do [ -e "$f" ] && echo "file $(stat -L -c %Y -- "$f") $f"; done
exit 0
`;

/** Compares the running main process with the unit's files; undefined when it matches or is not running. */
export async function detectStaleProcess(node: NodeConnection, status: UnitStatus): Promise<StaleProcess | undefined> {
  const program = status.execStart[0]?.path;
  if (!status.mainPid || !program) {
    return undefined;
  }
  const files = [status.fragmentPath, ...status.dropInPaths].filter(Boolean);
  const r = await node.execAsRoot(['/bin/sh', '-c', STALE_SCRIPT, 'sh', String(status.mainPid), program, ...files]);
  if (r.code !== 0) {
    return undefined;
  }
  const reasons: string[] = [];
  let started = 0;
  for (const line of r.stdout.split('\n')) {
    const [kind, value, ...rest] = line.split(' ');
    if (kind === 'exe' && value.replace(/ \(deleted\)$/, '') !== program) {
      reasons.push(`the process runs ${[value, ...rest].join(' ')}, the unit says ${program}`);
    } else if (kind === 'start') {
      started = Number(value);
    } else if (kind === 'file' && started && Number(value) > started) {
      reasons.push(`${rest.join(' ')} changed after the process started`);
    }
  }
  return reasons.length ? { reasons } : undefined;
}

/** The argv of a running process, from /proc (root's processes need sudo); undefined when not running. */
export async function readProcessArgv(node: NodeConnection, pid: number): Promise<string[] | undefined> {
  if (!pid) {
    return undefined;
  }
  const r = await node.execAsRoot(['cat', '--', `/proc/${pid}/cmdline`]);
  return r.code === 0 && r.stdout !== '' ? r.stdout.replace(/\0$/, '').split('\0') : undefined;
}

/** argv[0] may be the program as written or resolved; the arguments must match exactly. */
export function sameArgv(running: readonly string[], fromUnit: readonly string[]): boolean {
  return running.length === fromUnit.length && running.slice(1).every((a, i) => a === fromUnit[i + 1]);
}

/** The environment of a running process, from /proc (root's processes need sudo); undefined when not running. */
export async function readProcessEnviron(node: NodeConnection, pid: number): Promise<Record<string, string> | undefined> {
  if (!pid) {
    return undefined;
  }
  // base64: values are bytes, and a stray one must not shift the NUL-separated records.
  const r = await node.execAsRoot(['base64', '-w0', '--', `/proc/${pid}/environ`]);
  if (r.code !== 0) {
    return undefined;
  }
  const entries = Buffer.from(r.stdout.trim(), 'base64')
    .toString('utf8')
    .split('\0')
    .filter((e) => e.includes('='));
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** The names in systemd's own environment block (`systemctl show-environment`), which every service gets. */
export async function readManagerEnvironmentNames(node: NodeConnection): Promise<Set<string>> {
  const r = await node.exec(['systemctl', 'show-environment']);
  return new Set(
    r.code === 0
      ? r.stdout
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => l.slice(0, l.indexOf('=')))
      : [],
  );
}

/**
 * What systemd adds to a service's environment beyond the unit's own variables and the manager's
 * block; a variable of these in the process says nothing about the unit files.
 */
const SYSTEMD_ADDED =
  /^(INVOCATION_ID|JOURNAL_STREAM|SYSTEMD_EXEC_PID|MAINPID|MANAGERPID|NOTIFY_SOCKET|WATCHDOG_PID|WATCHDOG_USEC|LISTEN_PID|LISTEN_FDS|LISTEN_FDNAMES|HOME|USER|LOGNAME|SHELL|TERM|PATH|LANG|LANGUAGE|LC_[A-Z]+|(RUNTIME|STATE|CACHE|LOGS|CONFIGURATION|CREDENTIALS)_DIRECTORY|MONITOR_[A-Z_]+|TRIGGER_[A-Z_]+|EXIT_CODE|EXIT_STATUS|SERVICE_RESULT)$/;

/**
 * Why the running process is not what the unit files give, one sentence per difference, naming the
 * argument or variable: argv compared word by word (argv[0] may be resolved differently), and the
 * variables the unit defines compared with /proc/PID/environ. `managerNames` are systemd's own.
 */
export function describeDrift(
  fromUnit: { argv: readonly string[]; env: Readonly<Record<string, string>> },
  running: { argv?: readonly string[]; environ?: Readonly<Record<string, string>> },
  managerNames: ReadonlySet<string> = new Set(),
): string[] {
  const reasons: string[] = [];
  if (running.argv && !sameArgv(running.argv, fromUnit.argv)) {
    reasons.push(...describeArgvDrift(fromUnit.argv, running.argv));
  }
  if (running.environ) {
    const env = running.environ;
    for (const [name, value] of Object.entries(fromUnit.env)) {
      if (!(name in env)) {
        reasons.push(`${name} is set in the unit files (${name}=${value}) but not in the running process`);
      } else if (env[name] !== value) {
        reasons.push(`${name} is "${value}" in the unit files but "${env[name]}" in the running process`);
      }
    }
    for (const name of Object.keys(env)) {
      if (!(name in fromUnit.env) && !managerNames.has(name) && !SYSTEMD_ADDED.test(name)) {
        reasons.push(`${name} is set in the running process but no longer in the unit files`);
      }
    }
  }
  return reasons;
}

function describeArgvDrift(fromUnit: readonly string[], running: readonly string[]): string[] {
  if (fromUnit.length === running.length) {
    return fromUnit
      .slice(1)
      .flatMap((arg, i) =>
        arg === running[i + 1] ? [] : [`argument ${i + 1} is "${arg}" in the unit files but "${running[i + 1]}" in the running process`],
      );
  }
  // Different lengths: name what one side has that the other lacks.
  const missing = (from: readonly string[], other: readonly string[]) => {
    const left = [...other.slice(1)];
    return from.slice(1).filter((a) => {
      const at = left.indexOf(a);
      if (at >= 0) {
        left.splice(at, 1);
        return false;
      }
      return true;
    });
  };
  const added = missing(fromUnit, running);
  const dropped = missing(running, fromUnit);
  return [
    ...(added.length ? [`the unit files add ${added.map((a) => `"${a}"`).join(' ')} to the command line`] : []),
    ...(dropped.length ? [`the running process has ${dropped.map((a) => `"${a}"`).join(' ')}, which the unit files no longer give`] : []),
    ...(added.length || dropped.length ? [] : ['the arguments are in a different order than in the unit files']),
  ];
}
