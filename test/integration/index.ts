// Mocha entry that VS Code's extension host calls (extensionTestsPath) for the main suite: every
// compiled *.test.js under this folder except restricted/, which runs in its own window (Restricted
// Mode) through restricted/index.ts.
import { runMochaSuite } from './mochaSuite';

export function run(): Promise<void> {
  return runMochaSuite(__dirname, ['restricted']);
}
