// The runtime drop-in that turns the unit into "the same kubelet, under Delve". It lives in /run, so
// even a reboot puts the node back; systemd still expands the unit's own variables, so the debug
// kubelet gets exactly the argv, environment, user and working directory the real one gets.
import { ExecLine, quoteUnitWord, splitExecLine } from '../systemd/unitFile';

export interface DebugDropInOptions {
  /** The effective ExecStart value of the unit, as written in its files. */
  execStart: string;
  dlvPath: string;
  port: number;
  remoteBinary: string;
  /** Flags from the launch configuration (dlvFlags, showLog, logOutput), already checked. */
  dlvFlags?: readonly string[];
  extraArgs: readonly string[];
  env: Readonly<Record<string, string | null>>;
  /** Marks the file so restore can tell it is ours. */
  sessionId: string;
  /** The journal tag of the real daemon ("kubelet"); under Delve it would otherwise be "dlv". */
  syslogIdentifier?: string;
}

export const DROP_IN_NAME = '99-kubelet-remote-debug.conf';

export function debugDropInPath(unit: string): string {
  return `/run/systemd/system/${unit}.d/${DROP_IN_NAME}`;
}

export function buildDebugDropIn(options: DebugDropInOptions): string {
  const exec: ExecLine = splitExecLine(options.execStart);
  // "@" renamed argv[0]; Delve sets argv[0] itself, so that prefix is dropped with its word.
  const prefixes = exec.prefixes.replace(/@/g, '');
  const delve = [
    quoteUnitWord(options.dlvPath),
    'exec',
    '--headless',
    `--listen=127.0.0.1:${options.port}`,
    '--api-version=2',
    '--accept-multiclient',
    // Delve's default --only-same-user stays on: only root reaches it (see delveStream.ts).
    ...(options.dlvFlags ?? []).map((f) => quoteUnitWord(f)),
    quoteUnitWord(options.remoteBinary),
    '--',
  ].join(' ');
  const extra = options.extraArgs.map((a) => quoteUnitWord(a)).join(' ');
  const command = [prefixes + delve, exec.rest, extra].filter((s) => s !== '').join(' ');
  const lines = [
    `# Written by Kubelet Remote Debug, session ${options.sessionId}.`,
    '# It runs the kubelet under Delve; deleting it and running daemon-reload restores the unit.',
    '[Service]',
    // Delve's process is the main PID now; a notify-type unit would wait for a READY it cannot send.
    'Type=simple',
    'NotifyAccess=all',
    // If Delve dies the node-side safeguard restores the real kubelet; systemd must not loop on it.
    'Restart=no',
    // Stopping must never hang on a Delve that ignores SIGTERM; the whole cgroup goes, kubelet included.
    'TimeoutStopSec=5s',
    'KillMode=control-group',
    // journalctl -t kubelet and log shippers keep seeing the kubelet's lines while it runs under Delve.
    // systemd takes this value literally (no quoting), so only a plain name is written.
    ...(options.syslogIdentifier && /^[A-Za-z0-9_.@-]+$/.test(options.syslogIdentifier)
      ? [`SyslogIdentifier=${options.syslogIdentifier}`]
      : []),
    'ExecStart=',
    `ExecStart=${command}`,
  ];
  for (const [key, value] of Object.entries(options.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new Error(`"${key}" is not a valid environment variable name.`);
    }
    lines.push(value === null ? `UnsetEnvironment=${key}` : `Environment=${quoteUnitWord(`${key}=${value}`, 'environment')}`);
  }
  return lines.join('\n') + '\n';
}
