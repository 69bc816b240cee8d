// Entry for the integration tests: the standard @vscode/test-electron runTests() call, pointed at
// code-shim.sh (real VS Code server + headless Chromium) by default, or at a desktop VS Code.
//
//   node test/vscode/runIntegration.mjs [--workspace DIR] [--tests FILE] [--extension DIR]
//
// Env: KRD_VSCODE_EXECUTABLE  unset: the shim; "download": let test-electron download VS Code
//                             (KRD_VSCODE_VERSION, default "stable"); else a VS Code binary to run.
//      KRD_INTEGRATION_WORKSPACE  the folder to open (default test/fixtures/kubelet-src).
//      KRD_VSCODE_TIMEOUT_S, KRD_VSCODE_VERBOSE, KRD_KEEP_RUN: see README.md.
import { runTests } from '@vscode/test-electron';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

const { values } = parseArgs({
  options: {
    workspace: { type: 'string' },
    tests: { type: 'string' },
    extension: { type: 'string' },
  },
});

const extensionDevelopmentPath = resolve(values.extension ?? repo);
const extensionTestsPath = resolve(values.tests ?? join(repo, 'out', 'test', 'integration', 'index.js'));
const workspace = resolve(values.workspace ?? process.env.KRD_INTEGRATION_WORKSPACE ?? join(repo, 'test', 'fixtures', 'kubelet-src'));

function fail(message) {
  console.error(`runIntegration: ${message}`);
  process.exit(2);
}

if (!existsSync(extensionTestsPath)) fail(`${extensionTestsPath} is missing; compile the tests first (npm run compile-tests)`);
if (!existsSync(join(extensionDevelopmentPath, 'package.json'))) fail(`${extensionDevelopmentPath} holds no extension (package.json)`);
if (!existsSync(workspace)) fail(`workspace folder ${workspace} is missing (set KRD_INTEGRATION_WORKSPACE or --workspace)`);

const choice = process.env.KRD_VSCODE_EXECUTABLE;
const vscodeExecutablePath = choice === 'download' ? undefined : choice ? resolve(choice) : join(here, 'code-shim.sh');

// A fresh, empty profile and extensions folder per run: no other extension can interfere, and
// nothing is written to the user's own VS Code folders.
const runDir = mkdtempSync(join(tmpdir().length <= 40 ? tmpdir() : '/tmp', 'krd-it-'));
mkdirSync(join(runDir, 'user-data'));
mkdirSync(join(runDir, 'extensions'));

// runTests() passes SIGINT on to VS Code (the shim then tears everything down); route SIGTERM
// and SIGHUP the same way, instead of dying and leaving VS Code running.
for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => process.emit('SIGINT'));

const started = Date.now();
let code;
try {
  code = await runTests({
    vscodeExecutablePath,
    version: choice === 'download' ? (process.env.KRD_VSCODE_VERSION ?? 'stable') : undefined,
    extensionDevelopmentPath,
    extensionTestsPath,
    launchArgs: [
      workspace,
      '--disable-extensions',
      `--user-data-dir=${join(runDir, 'user-data')}`,
      `--extensions-dir=${join(runDir, 'extensions')}`,
    ],
    // What the tests can check about their own setup (see test/integration/smoke.test.ts).
    extensionTestsEnv: { KRD_TEST_WORKSPACE: workspace, KRD_TEST_RUNNER_HOME: process.env.HOME ?? '' },
  });
} catch (err) {
  console.error(`runIntegration: ${err.message ?? err}`);
  code = typeof err.code === 'number' && err.code !== 0 ? err.code : 1;
}
console.error(`runIntegration: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
// A failed run's profile holds VS Code's logs; one that never got that far holds nothing of use.
const keep = process.env.KRD_KEEP_RUN === '1' || (code !== 0 && existsSync(join(runDir, 'user-data', 'logs')));
if (keep) console.error(`runIntegration: profile folder kept: ${runDir}`);
else rmSync(runDir, { recursive: true, force: true });
process.exit(code);
