#!/usr/bin/env node
// `npm test`: type-check and build, then ESLint, the unit tests (plain Node), the end-to-end tests
// against real test nodes, and the integration tests in a real VS Code. Ends with one "N passed,
// N failed". `node test/runAll.mjs unit e2e` runs only the named phases.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mocha = path.join(root, 'node_modules', '.bin', 'mocha');
const reporter = path.join(root, 'test', 'support', 'summaryReporter.cjs');

// A phase whose command prints no "N passed, N failed" of its own (ESLint) counts as one check.
const checks = new Set(['lint']);
const phases = {
  lint: ['npm', 'run', '--silent', 'lint'],
  unit: [mocha, '--reporter', reporter, '--timeout', '20000', 'out/test/unit/**/*.test.js'],
  e2e: [mocha, '--reporter', reporter, '--timeout', '180000', '--require', 'out/test/e2e/hooks.js', 'out/test/e2e/**/*.test.js'],
  integration: [process.execPath, 'test/integration/runWithNode.mjs'],
  'integration-real': [process.execPath, 'test/integration/runWithNode.mjs', '--real'],
  'integration-cluster': [process.execPath, 'test/integration/runWithNode.mjs', '--cluster'],
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in phases)) {
    console.error(`Unknown phase "${name}". Phases: ${Object.keys(phases).join(', ')}.`);
    process.exit(2);
  }
}
const selected = wanted.length > 0 ? wanted : Object.keys(phases);

function run(argv, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

const step = (title) => console.log(`\n=== ${title}`);

step('type check, build, compile tests');
for (const script of ['typecheck', 'build', 'compile-tests']) {
  const { code } = await run(['npm', 'run', '--silent', script]);
  if (code !== 0) {
    console.log(`npm run ${script} failed.`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

let passed = 0;
let failed = 0;
const table = [];
for (const name of selected) {
  step(`${name} tests`);
  const started = Date.now();
  const { code, out } = await run(phases[name], { capture: true });
  const summaries = [...out.matchAll(/^(?:\S+: )?(\d+) passed, (\d+) failed/gm)];
  const last = summaries[summaries.length - 1];
  let p = last ? Number(last[1]) : 0;
  let f = last ? Number(last[2]) : 0;
  if (code !== 0 && f === 0) {
    // The phase died before its tests could report (setup failure): count it as a failure.
    f = 1;
  }
  if (checks.has(name)) {
    p = code === 0 ? 1 : 0;
    f = code === 0 ? 0 : 1;
  } else if (!last && code === 0) {
    console.log(`The ${name} phase reported no tests.`);
    f += 1;
  }
  passed += p;
  failed += f;
  table.push(
    `${name.padEnd(12)} ${String(p).padStart(4)} passed ${String(f).padStart(4)} failed  ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}

step('summary');
console.log(table.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
