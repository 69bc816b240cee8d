#!/usr/bin/env node
// Boots a real test node, gives VS Code a HOME whose ~/.ssh/config and known_hosts reach it (host-key
// checking stays on), runs the integration suite in real VS Code, and stops the node again.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { bootTestNode } = require(path.join(root, 'out', 'test', 'node', 'testNode.js'));

export const TEST_NODE_ALIAS = 'test-node';

const node = await bootTestNode({ log: (line) => console.log(`[node] ${line}`) });
const home = mkdtempSync(path.join(tmpdir(), 'krd-home-'));
let code;
try {
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { mode: 0o700 });
  copyFileSync(node.knownHostsPath, path.join(ssh, 'known_hosts'));
  writeFileSync(path.join(ssh, 'config'), [
    `Host ${TEST_NODE_ALIAS}`,
    `  HostName ${node.address}`,
    `  Port ${node.port}`,
    '  User root',
    `  IdentityFile ${node.keyPath}`,
    '  IdentitiesOnly yes',
    '',
  ].join('\n'), { mode: 0o600 });
  writeFileSync(path.join(home, 'node.json'), JSON.stringify({ ...node, alias: TEST_NODE_ALIAS, sshConfigForTests: node.sshConfigPath, knownHosts: readFileSync(node.knownHostsPath, 'utf8') }));
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
  await node.stop();
  rmSync(home, { recursive: true, force: true });
}
process.exit(code);
