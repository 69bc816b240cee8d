#!/usr/bin/env node
// Boots a real test node (and a second one for the two-node tests), gives VS Code a HOME whose
// ~/.ssh/config and known_hosts reach them (host-key checking stays on), runs the integration suite in
// real VS Code, and stops the nodes again.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { bootTestNode } = require(path.join(root, 'out', 'test', 'node', 'testNode.js'));

export const TEST_NODE_ALIAS = 'test-node';
export const SECOND_NODE_ALIAS = 'test-node-b';
/** The suite that needs the second node (test/integration/twoNodes.test.ts). */
const TWO_NODE_SUITE = 'Two nodes at once';

// The second node costs a few seconds of boot beside the first (in parallel) and a little memory, so it
// is booted only when the run can include the two-node suite. KRD_SECOND_NODE=1/0 decides explicitly.
const grep = process.env.KRD_TEST_GREP;
const wantSecond = process.env.KRD_SECOND_NODE ? process.env.KRD_SECOND_NODE === '1' : !grep || new RegExp(grep).test(TWO_NODE_SUITE);

const booted = await Promise.allSettled([
  bootTestNode({ log: (line) => console.log(`[node] ${line}`) }),
  ...(wantSecond ? [bootTestNode({ log: (line) => console.log(`[node-b] ${line}`) })] : []),
]);
const failed = booted.find((b) => b.status === 'rejected');
if (failed) {
  await Promise.all(booted.filter((b) => b.status === 'fulfilled').map((b) => b.value.stop()));
  throw failed.reason;
}
const [node, second] = booted.map((b) => b.value);
const home = mkdtempSync(path.join(tmpdir(), 'krd-home-'));
let code = 1;
try {
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { mode: 0o700 });
  writeFileSync(path.join(ssh, 'known_hosts'), [node, second].filter(Boolean).map((n) => readFileSync(n.knownHostsPath, 'utf8')).join(''));
  const hostEntry = (alias, n) => [
    `Host ${alias}`,
    `  HostName ${n.address}`,
    `  Port ${n.port}`,
    '  User root',
    `  IdentityFile ${n.keyPath}`,
    '  IdentitiesOnly yes',
    '',
  ];
  writeFileSync(path.join(ssh, 'config'), [...hostEntry(TEST_NODE_ALIAS, node), ...(second ? hostEntry(SECOND_NODE_ALIAS, second) : [])].join('\n'), { mode: 0o600 });
  const describe = (alias, n) => ({ ...n, alias, sshConfigForTests: n.sshConfigPath, knownHosts: readFileSync(n.knownHostsPath, 'utf8') });
  writeFileSync(path.join(home, 'node.json'), JSON.stringify({ ...describe(TEST_NODE_ALIAS, node), ...(second ? { second: describe(SECOND_NODE_ALIAS, second) } : {}) }));
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'test', 'vscode', 'runIntegration.mjs'), ...process.argv.slice(2)], {
      stdio: 'inherit',
      // GOCACHE stays where it was, so the local kubelet build is as warm as the developer's own.
      env: { ...process.env, HOME: home, GOCACHE: process.env.GOCACHE ?? path.join(homedir(), '.cache', 'go-build'), KRD_TEST_NODE_JSON: path.join(home, 'node.json') },
    });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('close', (c) => resolve(c ?? 1));
  });
} finally {
  await Promise.all([node.stop(), second?.stop()]);
  rmSync(home, { recursive: true, force: true });
}
process.exit(code);
