#!/usr/bin/env node
// Boots a real test node, gives VS Code a HOME whose ~/.ssh/config and known_hosts reach it (host-key
// checking stays on), runs the integration suite in real VS Code, then the Restricted Mode suite
// (test/integration/restricted/) in a window with workspace trust on, and stops the node again.
// Arguments go to the main run (runIntegration.mjs); the last line totals both runs.
// With --real: the real Kubernetes v1.20.2 node, VS Code opened on the real tree, and only the tests
// under test/integration/real/ (no Restricted Mode run).
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

/**
 * One run of runIntegration.mjs with its output passed through; resolves with its exit code and the
 * counts of its last "N passed, N failed" line (a run that died before reporting counts as failed).
 */
function runSuite(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'test', 'vscode', 'runIntegration.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    const forward = (sig) => child.kill(sig);
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, forward);
    child.on('close', (c) => {
      for (const sig of ['SIGINT', 'SIGTERM']) process.off(sig, forward);
      const last = [...out.matchAll(/^(\d+) passed, (\d+) failed/gm)].pop();
      const code = c ?? 1;
      const passed = last ? Number(last[1]) : 0;
      const failed = last ? Number(last[2]) : 0;
      resolve({ code, passed, failed: code !== 0 && failed === 0 ? 1 : failed });
    });
  });
}

/**
 * A folder nobody trusted, whose .vscode/settings.json tries what a cloned repository could:
 * choose the nodes and the unit, silence the skew warning, and name a Delve binary to upload.
 */
function writeUntrustedWorkspace(home) {
  const dir = path.join(home, 'untrusted-repo');
  mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  writeFileSync(path.join(dir, '.vscode', 'settings.json'), JSON.stringify({
    'kubelet.nodes': ['root@127.0.0.1:9'],
    'kubelet.unit': 'workspace-chosen.service',
    'kubelet.debug.skipVersionSkewWarning': [TEST_NODE_ALIAS],
    'kubelet.debug.localDlvPath': path.join(dir, 'dlv'),
  }, null, 2));
  mkdirSync(path.join(dir, 'kubelet.service.d'));
  copyFileSync(path.join(root, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'), path.join(dir, 'kubelet.service.d', '10-kubeadm.conf'));
  return dir;
}

const real = process.argv.includes('--real');
const passOn = process.argv.slice(2).filter((a) => a !== '--real');
// A fixed date stamp, as reproducible builds use: an unchanged tree rebuilds to the same binary, so a
// restart's upload is skipped (the sample's Makefile and Kubernetes' both honour it).
const suiteEnv = { KRD_INTEGRATION_SUITE: real ? 'real' : 'sample', SOURCE_DATE_EPOCH: '1700000000' };
if (real) {
  const { realKubernetes } = require(path.join(root, 'out', 'test', 'support', 'realKubernetes.js'));
  const k8s = realKubernetes();
  Object.assign(suiteEnv, {
    KRD_INTEGRATION_WORKSPACE: k8s.src,
    // The harness built this tree with this cache: the extension's own debug build is then a relink at
    // most, and a no-op once the date stamp is fixed.
    GOCACHE: path.join(process.env.KRD_CACHE_DIR ?? '/var/cache/kubelet-remote-debug', 'go-build'),
  });
}
const node = await bootTestNode({ kind: real ? 'real' : 'sample', log: (line) => console.log(`[node] ${line}`) });
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
  const env = { ...process.env, HOME: home, GOCACHE: process.env.GOCACHE ?? path.join(homedir(), '.cache', 'go-build'), KRD_TEST_NODE_JSON: path.join(home, 'node.json'), ...suiteEnv };
  const main = await runSuite(passOn, env);
  if (real) {
    code = main.code === 0 && main.failed === 0 ? 0 : 1;
  } else {
    // The same node, a second window with workspace trust on, opened on a folder nobody trusted.
    const untrusted = writeUntrustedWorkspace(home);
    const restricted = await runSuite(
      ['--workspace', untrusted, '--tests', path.join(root, 'out', 'test', 'integration', 'restricted', 'index.js')],
      { ...env, KRD_VSCODE_WORKSPACE_TRUST: '1' },
    );
    const passed = main.passed + restricted.passed;
    const failed = main.failed + restricted.failed;
    console.log(`integration: main window ${main.passed} passed, ${main.failed} failed; Restricted Mode window ${restricted.passed} passed, ${restricted.failed} failed`);
    console.log(`${passed} passed, ${failed} failed`);
    code = main.code === 0 && restricted.code === 0 && failed === 0 ? 0 : 1;
  }
} finally {
  await node.stop();
  rmSync(home, { recursive: true, force: true });
}
process.exit(code);
