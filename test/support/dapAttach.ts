// Attaches a test DAP client to a launched target the way the extension's adapter factory does:
// ask Delve for the sources to derive the path mapping, then run the DAP proxy over the Delve stream.
import { KubeletDapProxy } from '../../src/debug/dapProxy';
import { DelveRpc } from '../../src/debug/delveRpc';
import { openDelveStream } from '../../src/debug/delveStream';
import type { DebugTarget } from '../../src/debug/kubeletLauncher';
import { derivePathMappings, findAnchor } from '../../src/debug/pathMapping';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { DapTestClient } from './dapClient';
import { memoryLogger } from './nodeClient';

export async function attachTestClient(conn: NodeConnection, target: DebugTarget, workspace: string) {
  const rpc = new DelveRpc(await openDelveStream(conn, target.port));
  const sources = await rpc.listSources('pkg/kubelet/kubelet\\.go$');
  rpc.close();
  const mappings = derivePathMappings([], workspace, findAnchor(sources));
  let client: DapTestClient | undefined;
  let finished: { restored: boolean; message: string } | undefined;
  const proxy = new KubeletDapProxy({
    stream: await openDelveStream(conn, target.port),
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
