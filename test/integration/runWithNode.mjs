#!/usr/bin/env node
// Boots real test nodes (a second one when the two-node suite runs), gives VS Code a HOME whose
// ~/.ssh/config and known_hosts reach them (host-key checking stays on), runs the integration suite
// in real VS Code, then the Restricted Mode suite (test/integration/restricted/) in a window with
// workspace trust on, and stops the nodes again. Arguments go to the main run (runIntegration.mjs);
// the last line totals both runs.
// With --real: the real Kubernetes v1.20.2 node, VS Code opened on the real tree, and only the tests
// under test/integration/real/ (no second node, no Restricted Mode run).
// With --cluster: a real control plane and its real-kubelet worker (test/support/cluster.ts), the
// worker as test-node in ~/.ssh/config, the admin kubeconfig as ~/.kube/config, bad copies of it for
// the tests, and only the tests under test/integration/cluster/; then twice VS Code killed and started
// again (crashRestart.mjs, test/integration/clusterCrash/). --crash: only those.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashAndRestart } from './crashRestart.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const { bootTestNode } = require(path.join(root, 'out', 'test', 'node', 'testNode.js'));

export const TEST_NODE_ALIAS = 'test-node';
export const SECOND_NODE_ALIAS = 'test-node-b';
/** The suite that needs the second node (test/integration/twoNodes.test.ts). */
const TWO_NODE_SUITE = 'Two nodes at once';
/** The suite of test/integration/clusterCrash/ (its runs are started by crashRestart.mjs). */
const CRASH_SUITE = 'A killed extension host and the node it cordoned';

/**
 * One run of runIntegration.mjs with its output passed through; `done` resolves with its exit code and
 * the counts of its last "N passed, N failed" line (a run that died before reporting counts as failed).
 */
function startSuite(args, env) {
  const child = spawn(process.execPath, [path.join(root, 'test', 'vscode', 'runIntegration.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
    process.stdout.write(chunk);
  });
  const forward = (sig) => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, forward);
  const done = new Promise((resolve) => {
    child.on('close', (c) => {
      for (const sig of ['SIGINT', 'SIGTERM']) process.off(sig, forward);
      const last = [...out.matchAll(/^(\d+) passed, (\d+) failed/gm)].pop();
      const code = c ?? 1;
      const passed = last ? Number(last[1]) : 0;
      const failed = last ? Number(last[2]) : 0;
      resolve({ code, passed, failed: code !== 0 && failed === 0 ? 1 : failed });
    });
  });
  return { child, done };
}

const runSuite = (args, env) => startSuite(args, env).done;

/**
 * A folder nobody trusted, whose .vscode/settings.json tries what a cloned repository could:
 * choose the nodes and the unit, silence the skew warning, and name a Delve binary to upload.
 */
function writeUntrustedWorkspace(home) {
  const dir = path.join(home, 'untrusted-repo');
  mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'kubelet.nodes': ['root@127.0.0.1:9'],
        'kubelet.unit': 'workspace-chosen.service',
        'kubelet.debug.skipVersionSkewWarning': [TEST_NODE_ALIAS],
        'kubelet.debug.localDlvPath': path.join(dir, 'dlv'),
      },
      null,
      2,
    ),
  );
  mkdirSync(path.join(dir, 'kubelet.service.d'));
  copyFileSync(
    path.join(root, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'),
    path.join(dir, 'kubelet.service.d', '10-kubeadm.conf'),
  );
  return dir;
}

/**
 * The admin kubeconfig as ~/.kube/config, and bad copies of it (each context renamed, so they do not
 * merge into the good one) for the tests to put in KUBECONFIG; returns what the tests need to know.
 */
function writeClusterHome(cluster, home) {
  const kube = path.join(home, '.kube');
  mkdirSync(kube, { mode: 0o700 });
  const admin = readFileSync(cluster.kubeconfigPath, 'utf8');
  writeFileSync(path.join(kube, 'config'), admin, { mode: 0o600 });
  const contextName = /^current-context:\s*(\S+)/m.exec(admin)?.[1];
  if (!contextName) {
    throw new Error(`${cluster.kubeconfigPath} has no current-context`);
  }
  const { writeBadKubeconfigs } = require(path.join(root, 'out', 'test', 'support', 'cluster.js'));
  const files = writeBadKubeconfigs(cluster, path.join(home, 'bad-kubeconfigs'));
  const bad = {};
  for (const [key, file] of Object.entries(files)) {
    const renamed = `bad-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    writeFileSync(file, readFileSync(file, 'utf8').split(contextName).join(renamed), { mode: 0o600 });
    bad[key] = file;
  }
  return {
    workerName: cluster.worker.name,
    contextName,
    bad,
    kubectlPath: cluster.kubectlPath,
    kubeconfigPath: cluster.kubeconfigPath,
    debugKubelet: k8sBuild.debugKubelet,
  };
}

const real = process.argv.includes('--real');
const crashOnly = process.argv.includes('--crash');
const clusterMode = crashOnly || process.argv.includes('--cluster');
const passOn = process.argv.slice(2).filter((a) => !['--real', '--cluster', '--crash'].includes(a));
// A fixed date stamp, as reproducible builds use: an unchanged tree rebuilds to the same binary, so a
// restart's upload is skipped (the sample's Makefile and Kubernetes' both honour it).
const suiteEnv = { KRD_INTEGRATION_SUITE: real ? 'real' : clusterMode ? 'cluster' : 'sample', SOURCE_DATE_EPOCH: '1700000000' };
let k8sBuild;
if (real || clusterMode) {
  const { realKubernetes } = require(path.join(root, 'out', 'test', 'support', 'realKubernetes.js'));
  const k8s = realKubernetes();
  k8sBuild = k8s;
  Object.assign(suiteEnv, {
    KRD_INTEGRATION_WORKSPACE: k8s.src,
    // The harness built this tree with this cache: the extension's own debug build is then a relink at
    // most, and a no-op once the date stamp is fixed.
    GOCACHE: path.join(process.env.KRD_CACHE_DIR ?? '/var/cache/kubelet-remote-debug', 'go-build'),
  });
}

// The second node costs a few seconds of boot beside the first (in parallel) and a little memory, so it
// is booted only when the run can include the two-node suite. KRD_SECOND_NODE=1/0 decides explicitly.
const grep = process.env.KRD_TEST_GREP;
const wantSecond =
  !real &&
  !clusterMode &&
  (process.env.KRD_SECOND_NODE ? process.env.KRD_SECOND_NODE === '1' : !grep || new RegExp(grep).test(TWO_NODE_SUITE));

let cluster;
if (clusterMode) {
  const { bootCluster } = require(path.join(root, 'out', 'test', 'support', 'cluster.js'));
  cluster = await bootCluster({ log: (line) => console.log(`[cluster] ${line}`) });
}
const booted = cluster
  ? [{ status: 'fulfilled', value: cluster.worker }]
  : await Promise.allSettled([
      bootTestNode({ kind: real ? 'real' : 'sample', log: (line) => console.log(`[node] ${line}`) }),
      ...(wantSecond ? [bootTestNode({ log: (line) => console.log(`[node-b] ${line}`) })] : []),
    ]);
const bootFailed = booted.find((b) => b.status === 'rejected');
if (bootFailed) {
  await Promise.all(booted.filter((b) => b.status === 'fulfilled').map((b) => b.value.stop()));
  throw bootFailed.reason;
}
const [node, second] = booted.map((b) => b.value);
const home = mkdtempSync(path.join(tmpdir(), 'krd-home-'));
let code;
try {
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { mode: 0o700 });
  writeFileSync(
    path.join(ssh, 'known_hosts'),
    [node, second]
      .filter(Boolean)
      .map((n) => readFileSync(n.knownHostsPath, 'utf8'))
      .join(''),
  );
  const hostEntry = (alias, n) => [
    `Host ${alias}`,
    `  HostName ${n.address}`,
    `  Port ${n.port}`,
    '  User root',
    `  IdentityFile ${n.keyPath}`,
    '  IdentitiesOnly yes',
    '',
  ];
  writeFileSync(
    path.join(ssh, 'config'),
    [...hostEntry(TEST_NODE_ALIAS, node), ...(second ? hostEntry(SECOND_NODE_ALIAS, second) : [])].join('\n'),
    { mode: 0o600 },
  );
  const describe = (alias, n) => ({ ...n, alias, sshConfigForTests: n.sshConfigPath, knownHosts: readFileSync(n.knownHostsPath, 'utf8') });
  writeFileSync(
    path.join(home, 'node.json'),
    JSON.stringify({
      ...describe(TEST_NODE_ALIAS, node),
      ...(second ? { second: describe(SECOND_NODE_ALIAS, second) } : {}),
      ...(cluster ? { cluster: writeClusterHome(cluster, home) } : {}),
    }),
  );
  // GOCACHE stays where it was (unless the real tree's), so the local kubelet build is as warm as the developer's own.
  const env = {
    ...process.env,
    HOME: home,
    GOCACHE: process.env.GOCACHE ?? path.join(homedir(), '.cache', 'go-build'),
    KRD_TEST_NODE_JSON: path.join(home, 'node.json'),
    ...suiteEnv,
  };
  if (cluster) {
    // --crash: only the crash and restart runs (test/integration/clusterCrash/).
    const main = crashOnly ? { code: 0, passed: 0, failed: 0 } : await runSuite(passOn, env);
    const runs = [main];
    // The two halves belong together: a grep picks the crash runs as a whole, by their suite's title.
    const crashCases = !grep || new RegExp(grep).test(CRASH_SUITE) ? ['ours', 'admin'] : [];
    const crashEnv = { ...env };
    delete crashEnv.KRD_TEST_GREP;
    for (const caseName of crashCases) {
      const log = (line) => console.log(`[crash ${caseName}] ${line}`);
      runs.push(await crashAndRestart({ startSuite, env: crashEnv, caseName, log }));
      // The next run starts from a schedulable worker, whatever this one left.
      const undo = { spec: { unschedulable: null }, metadata: { annotations: { 'kubelet-remote-debug/cordoned': null } } };
      const r = await cluster.kubectl(['patch', 'node', cluster.worker.name, '--type=merge', '-p', JSON.stringify(undo)]);
      if (r.code !== 0) log(`uncordoning ${cluster.worker.name} failed (exit code ${r.code}): ${r.stderr.trim()}`);
    }
    const passed = runs.reduce((n, r) => n + r.passed, 0);
    const failed = runs.reduce((n, r) => n + r.failed, 0);
    console.log(
      `integration: cluster window ${main.passed} passed, ${main.failed} failed; crash and restart ${passed - main.passed} passed, ${failed - main.failed} failed`,
    );
    console.log(`${passed} passed, ${failed} failed`);
    code = runs.every((r) => r.code === 0) && failed === 0 ? 0 : 1;
  } else if (real) {
    const main = await runSuite(passOn, env);
    code = main.code === 0 && main.failed === 0 ? 0 : 1;
  } else {
    const main = await runSuite(passOn, env);
    // The same node, a second window with workspace trust on, opened on a folder nobody trusted.
    const untrusted = writeUntrustedWorkspace(home);
    const restricted = await runSuite(
      ['--workspace', untrusted, '--tests', path.join(root, 'out', 'test', 'integration', 'restricted', 'index.js')],
      { ...env, KRD_VSCODE_WORKSPACE_TRUST: '1' },
    );
    const passed = main.passed + restricted.passed;
    const failed = main.failed + restricted.failed;
    console.log(
      `integration: main window ${main.passed} passed, ${main.failed} failed; Restricted Mode window ${restricted.passed} passed, ${restricted.failed} failed`,
    );
    console.log(`${passed} passed, ${failed} failed`);
    code = main.code === 0 && restricted.code === 0 && failed === 0 ? 0 : 1;
  }
} finally {
  await (cluster ? cluster.stop() : Promise.all([node.stop(), second?.stop()]));
  rmSync(home, { recursive: true, force: true });
}
process.exit(code);
