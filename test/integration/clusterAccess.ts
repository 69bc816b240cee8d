// Inside the extension host: the test cluster that runWithNode.mjs --cluster booted, and kubectl with
// its admin kubeconfig, for checks that must not go through the code under test.
import { execFile } from 'child_process';
import { testNode } from './testNodeAccess';

export interface ClusterInfo {
  workerName: string;
  contextName: string;
  kubectlPath: string;
  kubeconfigPath: string;
  /** The real tree's debug kubelet, built by the harness. */
  debugKubelet: string;
}

export const clusterInfo = (): ClusterInfo => {
  const info = (testNode() as unknown as { cluster?: ClusterInfo }).cluster;
  if (!info) {
    throw new Error('KRD_TEST_NODE_JSON describes no cluster; run the suite through test/integration/runWithNode.mjs --cluster.');
  }
  return info;
};

/** kubectl with the admin kubeconfig; rejects on a non-zero exit with kubectl's message. */
export function kubectl(args: string[]): Promise<string> {
  const { kubectlPath, kubeconfigPath } = clusterInfo();
  return new Promise((resolve, reject) =>
    execFile(
      kubectlPath,
      [`--kubeconfig=${kubeconfigPath}`, '--request-timeout=20s', ...args],
      { timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout)),
    ),
  );
}

/** The worker's spec.unschedulable, as the API server has it. */
export const unschedulable = async (): Promise<boolean> =>
  (await kubectl(['get', 'node', clusterInfo().workerName, '-o', 'jsonpath={.spec.unschedulable}'])).trim() === 'true';
