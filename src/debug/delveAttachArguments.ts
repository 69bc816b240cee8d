// Delve's attach arguments for a `kubelet` launch request. Delve's own DAP options (hideSystemGoroutines,
// goroutineFilters, showGlobalVariables, stackTraceDepth, showRegisters, and any a newer Delve adds)
// pass through as the user wrote them; our attributes and VS Code's stay out. No VS Code imports.
import type { PathMapping } from './pathMapping';

/** Attributes of the `kubelet` launch configuration that mean nothing to Delve. */
const OWN_ATTRIBUTES = new Set([
  'type',
  'request',
  'name',
  'host',
  'unit',
  'build',
  'remoteBinary',
  'dlvPath',
  'breakAt',
  'env',
  'args',
  'dlvFlags',
  'showLog',
  'logOutput',
  'trace',
  'haltFree',
]);

/** Attributes VS Code itself gives every debug configuration. */
const VSCODE_ATTRIBUTES = new Set([
  'preLaunchTask',
  'postDebugTask',
  'presentation',
  'internalConsoleOptions',
  'debugServer',
  'suppressMultipleSessionWarning',
  'noDebug',
]);

export function delveAttachArguments(
  launchArguments: Record<string, unknown> | undefined,
  session: { stopOnEntry: boolean; substitutePath: readonly PathMapping[] },
): Record<string, unknown> {
  const passed = Object.entries(launchArguments ?? {}).filter(
    ([key]) => !OWN_ATTRIBUTES.has(key) && !VSCODE_ATTRIBUTES.has(key) && !key.startsWith('__'),
  );
  // Delve already runs the program on the node: to Delve this is a remote attach, with the mappings
  // the session worked out (the user's substitutePath first).
  return { ...Object.fromEntries(passed), mode: 'remote', stopOnEntry: session.stopOnEntry, substitutePath: session.substitutePath };
}
