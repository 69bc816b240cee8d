// Warnings the Nodes view shows about a running unit: the kubelet's client certificate running out,
// and unit files changed after the process started (edited but not restarted, so not in effect).
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
