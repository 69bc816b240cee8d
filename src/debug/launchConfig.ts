// The `kubelet` launch configuration: its shape, its defaults, and validation once VS Code has
// substituted variables. No VS Code imports, so plain-Node tests cover it.
import { dlvFlagProblems, logOutputProblems } from './delveFlags';
import { canonicalStage, STAGE_NAMES, StartupStage } from './startupStages';

export interface BuildSettings {
  where: 'local' | 'node' | 'none';
  command?: string;
  cwd?: string;
  sourceDir?: string;
  output?: string;
  binary?: string;
}

export interface KubeletLaunchConfig {
  type: 'kubelet';
  request: 'launch';
  name: string;
  host: string;
  unit: string;
  build: BuildSettings;
  remoteBinary: string;
  dlvPath: string;
  stopOnEntry: boolean;
  substitutePath: { from: string; to: string }[];
  breakAt: StartupStage[];
  env: Record<string, string | null>;
  args: string[];
  /** Debug a binary built with optimisations anyway (breakpoints may not bind). */
  allowOptimizedBinary?: boolean;
  /** Extra `dlv exec` flags, after the session's own. */
  dlvFlags: string[];
  /** Delve's `--log`; its lines land in the unit's journal. */
  showLog: boolean;
  /** Delve's `--log-output`, used with showLog. */
  logOutput: string;
  /** vscode-go's adapter log level, mapped onto the "Kubelet: Debug" channel's levels. */
  trace?: TraceLevel;
  /** Only logpoints: every breakpoint that would halt the program is refused. */
  haltFree: boolean;
  // Delve's own DAP options; they reach Delve's attach request as written.
  hideSystemGoroutines?: boolean;
  goroutineFilters?: string;
  showGlobalVariables?: boolean;
  stackTraceDepth?: number;
  showRegisters?: boolean;
}

export const TRACE_LEVELS = ['verbose', 'trace', 'log', 'info', 'warn', 'error'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

const DELVE_BOOLEAN_OPTIONS = ['hideSystemGoroutines', 'showGlobalVariables', 'showRegisters'] as const;

export const DEFAULT_BUILD_OUTPUT = '_output/local/bin/linux/${arch}/kubelet';

/** Fills in defaults; anything the user wrote wins. */
export function withDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const build = (raw.build && typeof raw.build === 'object' ? raw.build : {}) as Record<string, unknown>;
  return {
    ...raw,
    type: 'kubelet',
    request: 'launch',
    name: raw.name ?? `Debug kubelet on ${String(raw.host ?? 'node')}`,
    unit: raw.unit ?? 'kubelet.service',
    // No default command: the launcher picks the one that fits the tree (DBG=1 only works from v1.24).
    build: { where: 'local', output: DEFAULT_BUILD_OUTPUT, ...build },
    // Named after the unit's daemon: a debug build of demo.service is not called kubelet on the node.
    remoteBinary: raw.remoteBinary ?? `/var/lib/kubelet-debug/${daemonName(typeof raw.unit === 'string' ? raw.unit : 'kubelet.service')}`,
    dlvPath: raw.dlvPath ?? 'dlv',
    stopOnEntry: raw.stopOnEntry ?? false,
    substitutePath: raw.substitutePath ?? [],
    breakAt: raw.breakAt ?? [],
    env: raw.env ?? {},
    args: raw.args ?? [],
    dlvFlags: raw.dlvFlags ?? [],
    showLog: raw.showLog ?? false,
    logOutput: raw.logOutput ?? 'debugger',
    haltFree: raw.haltFree ?? false,
  };
}

/** "kubelet" for kubelet.service, "demo" for demo.service (an instance keeps its name: getty@tty1). */
export function daemonName(unit: string): string {
  return unit.replace(/\.service$/, '').replace(/[^A-Za-z0-9_.@-]/g, '_') || 'daemon';
}

/** Checks a configuration after variable substitution; returns the problems, or the config. */
export function validateLaunchConfig(raw: Record<string, unknown>): { config?: KubeletLaunchConfig; problems: string[] } {
  const problems: string[] = [];
  const c = raw as unknown as KubeletLaunchConfig;
  if (typeof c.host !== 'string' || c.host.trim() === '') {
    problems.push('"host" is required: a Host alias from ~/.ssh/config or user@host:port.');
  }
  if (typeof c.unit !== 'string' || !/\.service$/.test(c.unit)) {
    problems.push('"unit" must name a service, for example "kubelet.service".');
  }
  if (!['local', 'node', 'none'].includes(c.build?.where)) {
    problems.push('"build.where" must be "local", "node" or "none".');
  }
  if (c.build?.where === 'node' && !c.build.sourceDir) {
    problems.push('"build.sourceDir" is required with build.where = "node": the Kubernetes tree on the node.');
  }
  if (c.build?.where === 'none' && !c.build.binary) {
    problems.push('"build.binary" is required with build.where = "none": a local debug binary to upload.');
  }
  if (typeof c.remoteBinary !== 'string' || !c.remoteBinary.startsWith('/')) {
    problems.push('"remoteBinary" must be an absolute path on the node.');
  } else if (c.remoteBinary === '/usr/bin/kubelet' || c.remoteBinary === '/usr/local/bin/kubelet') {
    problems.push(`"remoteBinary" must not be the node's own kubelet (${c.remoteBinary}); the original is never overwritten.`);
  }
  for (const stage of c.breakAt ?? []) {
    if (!canonicalStage(stage)) {
      problems.push(`"breakAt" has an unknown stage "${stage}". Known stages: ${STAGE_NAMES.join(', ')}.`);
    }
  }
  for (const m of c.substitutePath ?? []) {
    if (typeof m?.from !== 'string' || typeof m?.to !== 'string') {
      problems.push('"substitutePath" entries need "from" (local) and "to" (in the binary).');
    }
  }
  if (!Array.isArray(c.args) || c.args.some((a) => typeof a !== 'string')) {
    problems.push('"args" must be a list of strings.');
  }
  problems.push(...dlvFlagProblems(c.dlvFlags), ...logOutputProblems(c.logOutput));
  if (typeof c.showLog !== 'boolean') {
    problems.push('"showLog" must be true or false.');
  }
  if (c.trace !== undefined && !(TRACE_LEVELS as readonly string[]).includes(c.trace)) {
    problems.push(`"trace" must be one of ${TRACE_LEVELS.map((t) => `"${t}"`).join(', ')}.`);
  }
  for (const key of DELVE_BOOLEAN_OPTIONS) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') {
      problems.push(`"${key}" must be true or false.`);
    }
  }
  if (c.stackTraceDepth !== undefined && !(Number.isInteger(c.stackTraceDepth) && c.stackTraceDepth > 0)) {
    problems.push('"stackTraceDepth" must be a whole number above 0 (Delve\'s default is 50).');
  }
  if (c.goroutineFilters !== undefined && typeof c.goroutineFilters !== 'string') {
    problems.push('"goroutineFilters" must be a string in the syntax of Delve\'s goroutines command, for example "-with user".');
  }
  if (typeof c.haltFree !== 'boolean') {
    problems.push('"haltFree" must be true or false.');
  } else if (c.haltFree) {
    // Both halt the program before the user can do anything about it.
    if (c.stopOnEntry) {
      problems.push('"stopOnEntry" halts the program, so it cannot be used with "haltFree".');
    }
    if ((c.breakAt ?? []).length > 0) {
      problems.push('"breakAt" halts the program at its stages, so it cannot be used with "haltFree"; use logpoints there instead.');
    }
  }
  return problems.length > 0 ? { problems } : { config: c, problems };
}
