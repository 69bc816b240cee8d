// Attaches a test DAP client to a launched target the way the extension's adapter factory does:
// ask Delve for the sources to derive the path mapping, then run the DAP proxy over forwardOut.
import { KubeletDapProxy } from '../../src/debug/dapProxy';
import { DelveRpc } from '../../src/debug/delveRpc';
import type { DebugTarget } from '../../src/debug/kubeletLauncher';
import { clearPanicStops } from '../../src/debug/haltFree';
import { derivePathMappings, findAnchor } from '../../src/debug/pathMapping';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { DapTestClient } from './dapClient';
import { memoryLogger } from './nodeClient';

export async function attachTestClient(conn: NodeConnection, target: DebugTarget, workspace: string, opts: { haltFree?: boolean } = {}) {
  const rpc = new DelveRpc(await conn.forwardOut('127.0.0.1', target.port));
  const sources = await rpc.listSources('pkg/kubelet/kubelet\\.go$');
  if (opts.haltFree) {
    await clearPanicStops(rpc);
  }
  rpc.close();
  const mappings = derivePathMappings([], workspace, findAnchor(sources));
  let client: DapTestClient | undefined;
  let finished: { restored: boolean; message: string } | undefined;
  const proxy = new KubeletDapProxy({
    stream: await conn.forwardOut('127.0.0.1', target.port),
    target,
    substitutePath: mappings,
    stopOnEntry: false,
    log: memoryLogger(),
    toClient: (m) => client!.receive(m),
    onFinished: (o) => {
      finished = o;
    },
  });
  client = new DapTestClient((m) => proxy.handleClientMessage(m));
  return { client, proxy, mappings, finished: () => finished };
}

/**
 * Runs `body` with a client attached to the target. When it fails, prints the DAP transcript and
 * ends the session (which restores the node) before passing the failure on.
 */
export async function withAttachedClient(conn: NodeConnection, target: DebugTarget, workspace: string, opts: { haltFree?: boolean }, body: (client: DapTestClient) => Promise<void>): Promise<void> {
  const { client, proxy } = await attachTestClient(conn, target, workspace, opts);
  try {
    await body(client);
  } catch (err) {
    console.log(client.transcript.join('\n'));
    await proxy.dispose();
    throw err;
  }
}
