// The extra `dlv exec` flags a launch configuration may add (dlvFlags, showLog, logOutput), and the
// check that keeps them from undoing what the session depends on. No VS Code imports.

/** Delve's `--log-output` components (`dlv help log`); `stack` came with Delve 1.22. */
export const DELVE_LOG_COMPONENTS = [
  'debugger',
  'gdbwire',
  'lldbout',
  'debuglineerr',
  'rpc',
  'dap',
  'fncall',
  'minidump',
  'stack',
] as const;

/** Flags the session sets itself, or that would break it, each with the reason given to the user. */
const RESERVED_FLAGS: { names: string[]; reason: string }[] = [
  { names: ['--listen', '-l'], reason: "Delve must listen on the node's loopback port the extension picks and tunnels" },
  { names: ['--headless'], reason: 'the extension always runs Delve headless' },
  { names: ['--accept-multiclient'], reason: 'the extension needs Delve to accept its DAP client beside its JSON-RPC queries' },
  { names: ['--api-version'], reason: "the extension speaks Delve's API version 2" },
  { names: ['--only-same-user'], reason: 'turning it off would let any local user on the node drive the root process Delve debugs' },
  { names: ['--log'], reason: 'use "showLog": true instead' },
  { names: ['--log-output'], reason: 'use "logOutput" instead' },
  { names: ['--help', '-h'], reason: 'Delve would print its help and exit instead of starting the program' },
];

export interface DelveFlagSettings {
  dlvFlags: readonly string[];
  showLog: boolean;
  logOutput: string;
}

/** The flags to add after the session's own ones on the `dlv exec` line, in order. */
export function delveFlagsFor(settings: DelveFlagSettings): string[] {
  return [...(settings.showLog ? ['--log', `--log-output=${settings.logOutput}`] : []), ...settings.dlvFlags];
}

/** What is wrong with `dlvFlags`, one sentence per problem; empty when they can be used. */
export function dlvFlagProblems(flags: unknown): string[] {
  if (!Array.isArray(flags) || flags.some((f) => typeof f !== 'string')) {
    return ['"dlvFlags" must be a list of strings, for example ["--check-go-version=false"].'];
  }
  const problems: string[] = [];
  for (const flag of flags as string[]) {
    const name = flag.split('=')[0];
    const reserved = RESERVED_FLAGS.find((r) => r.names.includes(name));
    if (reserved) {
      problems.push(`"dlvFlags" cannot contain ${name}: ${reserved.reason}.`);
    } else if (!/^(--[a-z][a-z0-9-]*|-[a-zA-Z])(=|$)/.test(flag)) {
      // A bare word would land where Delve expects the program, and "--" would end Delve's flags.
      problems.push(
        `"dlvFlags" has "${flag}", which is not a Delve flag. Write each flag with its value as one item after "=", like "--check-go-version=false" or "-r=stdout:/tmp/out".`,
      );
    }
  }
  return problems;
}

/** What is wrong with `logOutput`; empty when Delve accepts it. */
export function logOutputProblems(logOutput: unknown): string[] {
  if (typeof logOutput !== 'string' || logOutput === '') {
    return [`"logOutput" must be a comma-separated list of Delve log components: ${DELVE_LOG_COMPONENTS.join(', ')}.`];
  }
  const unknown = logOutput.split(',').filter((c) => !(DELVE_LOG_COMPONENTS as readonly string[]).includes(c));
  return unknown.length > 0
    ? [
        `"logOutput" has unknown component${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}. Delve knows: ${DELVE_LOG_COMPONENTS.join(', ')}.`,
      ]
    : [];
}
