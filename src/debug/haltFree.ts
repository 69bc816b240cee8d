// "haltFree" sessions: only logpoints reach Delve. Anything that would halt the program is refused in
// the answer to VS Code, unverified and with the reason, because a halted kubelet takes its node
// NotReady after about 40 s. No VS Code imports.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DelveRpc } from './delveRpc';

/** Why a breakpoint (or a pause) is refused, in the words the user sees. */
export function haltRefusal(unit: string, what = 'this breakpoint'): string {
  const consequence =
    unit === 'kubelet.service' ? 'a halted kubelet makes its node NotReady after about 40 s' : `${unit} stops serving while it is halted`;
  return `Refused: "haltFree" is on, and ${what} would halt ${unit} (${consequence}). Add a log message to make it a logpoint, which prints without halting, or remove "haltFree" from the launch configuration.`;
}

export function isLogpoint(breakpoint: DebugProtocol.SourceBreakpoint): boolean {
  return typeof breakpoint.logMessage === 'string' && breakpoint.logMessage.trim() !== '';
}

/** The setBreakpoints arguments with only the logpoints left, and the indexes of the refused ones. */
export function keepLogpoints(args: DebugProtocol.SetBreakpointsArguments): {
  forward: DebugProtocol.SetBreakpointsArguments;
  refused: number[];
  requested: DebugProtocol.SourceBreakpoint[];
} {
  const requested = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
  const refused = requested.flatMap((bp, i) => (isLogpoint(bp) ? [] : [i]));
  const kept = requested.filter(isLogpoint);
  return { forward: { ...args, breakpoints: kept, lines: kept.map((bp) => bp.line) }, refused, requested };
}

/** Delve's answer for the forwarded breakpoints, with the refused ones put back in their places. */
export function withRefusals(
  requested: readonly unknown[],
  refused: readonly number[],
  fromDelve: readonly DebugProtocol.Breakpoint[],
  message: string,
): DebugProtocol.Breakpoint[] {
  let next = 0;
  return requested.map((bp, i) => {
    if (!refused.includes(i)) {
      return fromDelve[next++] ?? { verified: false, reason: 'failed', message: 'Delve did not answer for this breakpoint.' };
    }
    const line = (bp as { line?: unknown } | undefined)?.line;
    return { verified: false, reason: 'failed', message, ...(typeof line === 'number' ? { line } : {}) };
  });
}

// Delve's own breakpoints on runtime.fatalpanic (-1) and runtime.fatalthrow (-2) halt a program that
// is about to die; without them it exits, and the session restores the node at once.
const PANIC_STOP_IDS = [-1, -2];

/** Clears Delve's built-in stops on a fatal panic or throw, over its JSON-RPC API. */
export async function clearPanicStops(rpc: DelveRpc, limits: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const { Breakpoints } = await rpc.call<{ Breakpoints: { id: number }[] | null }>('ListBreakpoints', { All: true }, limits);
  // One logical breakpoint can be listed once per address (runtime.fatal and runtime.throw share -2).
  for (const id of new Set((Breakpoints ?? []).map((bp) => bp.id).filter((id) => PANIC_STOP_IDS.includes(id)))) {
    await rpc.call('ClearBreakpoint', { Id: id }, limits);
  }
}
