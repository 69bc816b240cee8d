// Waits until Delve on the node is really ready: first listening, then answering JSON-RPC, which it
// only does once it has loaded the binary and started the kubelet (a 153 MB debug kubelet takes
// seconds). If Delve dies on the way, its last words come from the unit's journal.
import { ErrorCode, UserError } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellQuote } from '../ssh/shellQuote';
import { DelveRpc, DelveRpcError } from './delveRpc';
import { shArgv } from './nodeSafeguard';

export interface DelveReadyOptions {
  unit: string;
  port: number;
  signal: AbortSignal;
  /** The whole wait: listening, then loaded. */
  timeoutSeconds: number;
  openStream(): Promise<import('stream').Duplex>;
}

export interface DelveReady {
  rpc: DelveRpc;
  /** Seconds until the port listened, and until Delve answered (binary loaded). */
  listenSeconds: number;
  loadSeconds: number;
}

export async function waitForDelveReady(node: NodeConnection, o: DelveReadyOptions): Promise<DelveReady> {
  const started = Date.now();
  const deadline = started + o.timeoutSeconds * 1000;
  await waitListening(node, o, deadline);
  const listenSeconds = (Date.now() - started) / 1000;
  const rpc = new DelveRpc(await o.openStream());
  try {
    await rpc.call('GetVersion', {}, { timeoutMs: Math.max(1000, deadline - Date.now()), signal: o.signal });
  } catch (err) {
    rpc.close();
    if (err instanceof DelveRpcError && err.reason === 'aborted') {
      throw err;
    }
    const why =
      err instanceof DelveRpcError && err.reason === 'timeout'
        ? `did not finish loading the binary within ${o.timeoutSeconds} s (raise kubelet.debug.delveStartTimeoutSeconds on a slow node)`
        : 'exited while loading the binary';
    throw await delveFailed(node, o.unit, why);
  }
  return { rpc, listenSeconds, loadSeconds: (Date.now() - started) / 1000 - listenSeconds };
}

/** Polls on the node (one command, no round trip per poll) until the port listens or the unit stops. */
async function waitListening(node: NodeConnection, o: DelveReadyOptions, deadline: number): Promise<void> {
  const tenths = Math.max(10, Math.floor((deadline - Date.now()) / 100));
  const script = [
    'i=0',
    `while [ $i -lt ${tenths} ]; do`,
    `  if ss -Htln ${shellQuote(`sport = :${o.port}`)} | grep -q .; then exit 0; fi`,
    `  if ! systemctl is-active --quiet -- ${shellQuote(o.unit)}; then exit 3; fi`,
    '  sleep 0.1; i=$((i+1))',
    'done',
    'exit 4',
  ].join('\n');
  const result = await node.exec(shArgv(script), { signal: o.signal, timeoutMs: tenths * 100 + 10_000 });
  if (result.code === 0) {
    return;
  }
  throw await delveFailed(node, o.unit, result.code === 3 ? 'exited before it listened' : `did not listen within ${o.timeoutSeconds} s`);
}

/** The error for a Delve that did not come up, with what it said in the journal. */
async function delveFailed(node: NodeConnection, unit: string, why: string): Promise<UserError> {
  const journal = await node
    .execAsRoot(['journalctl', '--no-pager', '-o', 'cat', '-n', '20', '-u', unit], { timeoutMs: 15_000 })
    .catch(() => ({ stdout: '' }));
  const said = lastWords(journal.stdout);
  const hint = /-ldflags='-s -w'|could not open debug info/.test(journal.stdout)
    ? ' The binary has no debug information: build it with GOLDFLAGS="" (Kubernetes before v1.24) or DBG=1.'
    : '';
  return new UserError(
    ErrorCode.DelveDidNotStart,
    `Delve on ${node.spec} ${why}; the unit is being restored.${hint} Delve said: ${said || '(nothing in the journal)'}`,
    ['showLog'],
    journal.stdout,
  );
}

/** Delve's own lines (errors first), not the kubelet's chatter. */
function lastWords(journal: string): string {
  const lines = journal.trim().split('\n').filter(Boolean);
  const delve = lines.filter((l) => /could not|error|API server|dlv|delve/i.test(l));
  return (delve.length > 0 ? delve : lines).slice(-3).join(' | ');
}
