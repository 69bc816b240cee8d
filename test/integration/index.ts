// Mocha entry that VS Code's extension host calls (extensionTestsPath) for the main suite: every
// compiled *.test.js under this folder except restricted/, which runs in its own window (Restricted
// Mode) through restricted/index.ts, and real/, which needs the real Kubernetes node and tree
// (runWithNode.mjs --real sets KRD_INTEGRATION_SUITE=real and then runs only real/).
import * as path from 'path';
import { runMochaSuite } from './mochaSuite';

export function run(): Promise<void> {
  return process.env.KRD_INTEGRATION_SUITE === 'real'
    ? runMochaSuite(path.join(__dirname, 'real'))
    : runMochaSuite(__dirname, ['restricted', 'real']);
}
