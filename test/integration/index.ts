// Mocha entry that VS Code's extension host calls (extensionTestsPath) for the main suite: every
// compiled *.test.js under this folder except restricted/, which runs in its own window (Restricted
// Mode) through restricted/index.ts, and real/, which needs the real Kubernetes node and tree
// (runWithNode.mjs --real sets KRD_INTEGRATION_SUITE=real and then runs only real/), and cluster/,
// which needs the test cluster (runWithNode.mjs --cluster, KRD_INTEGRATION_SUITE=cluster), and
// clusterCrash/, the two halves of a run whose extension host the runner kills (KRD_INTEGRATION_SUITE=clusterCrash).
import * as path from 'path';
import { runMochaSuite } from './mochaSuite';

export function run(): Promise<void> {
  const suite = process.env.KRD_INTEGRATION_SUITE;
  return suite === 'real' || suite === 'cluster' || suite === 'clusterCrash'
    ? runMochaSuite(path.join(__dirname, suite))
    : runMochaSuite(__dirname, ['restricted', 'real', 'cluster', 'clusterCrash']);
}
