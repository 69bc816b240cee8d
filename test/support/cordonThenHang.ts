// Run as its own process by test/e2e/clusterDebug.test.ts: the "extension host" of a debug session. It
// cordons the node as a session does (recorded in the store file), prints "cordoned", and waits to be
// killed, so the test can check what the next start does with a cordon whose owner died mid-session.
//   node cordonThenHang.js KUBECONFIG CONTEXT NODE HOST STORE_FILE
import { ClusterSession } from '../../src/cluster/clusterSession';
import { KubeApi } from '../../src/cluster/kubeApi';
import { loadContexts } from '../../src/cluster/kubeconfigs';
import { fileCordonStore } from './cordonStore';
import { memoryLogger } from './nodeClient';

async function main(): Promise<void> {
  const [kubeconfig, context, node, host, storeFile] = process.argv.slice(2);
  const ref = loadContexts([kubeconfig]).contexts.find((c) => c.name === context);
  if (!ref) {
    throw new Error(`no context ${context} in ${kubeconfig}`);
  }
  const session = new ClusterSession(KubeApi.forContext(ref), node, host, fileCordonStore(storeFile), memoryLogger());
  const outcome = await session.cordon('crashed-session');
  process.stdout.write(`${outcome}\n`);
  setInterval(() => undefined, 60_000); // until SIGKILL
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
