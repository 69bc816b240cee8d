// Attaches a test DAP client to a launched target the way the extension's adapter factory does:
// derive the path mapping from the binary's sources, then run the DAP proxy over the target's stream.
import { KubeletDapProxy } from '../../src/debug/dapProxy';
import type { DebugTarget } from '../../src/debug/kubeletLauncher';
import { mappingsFor } from '../../src/debug/pathMapping';
import { DapTestClient } from './dapClient';
import { memoryLogger } from './nodeClient';

export async function attachTestClient(target: DebugTarget, workspace: string) {
  const { mappings, outcome } = mappingsFor([], workspace, target.sources);
  let client: DapTestClient | undefined;
  let finished: { restored: boolean; message: string } | undefined;
  const proxy = new KubeletDapProxy({
    stream: await target.openStream(),
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
  return { client, proxy, mappings, outcome, finished: () => finished };
}

/**
 * Runs `body` with a client attached to the target. When it fails, prints the DAP transcript and
 * ends the session (which restores the node) before passing the failure on.
 */
export async function withAttachedClient(
  target: DebugTarget,
  workspace: string,
  body: (client: DapTestClient) => Promise<void>,
): Promise<void> {
  const { client, proxy } = await attachTestClient(target, workspace);
  try {
    await body(client);
  } catch (err) {
    console.log(client.transcript.join('\n'));
    await proxy.dispose();
    throw err;
  }
}
