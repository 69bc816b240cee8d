// Mocha entry for the suite that runs with workspace trust on, in a folder nobody trusted
// (runWithNode.mjs starts it with KRD_VSCODE_WORKSPACE_TRUST=1 on an untrusted workspace).
import { runMochaSuite } from '../mochaSuite';

export function run(): Promise<void> {
  return runMochaSuite(__dirname);
}
