// `npm start`: a real sandbox to try the extension in. Packages the extension, boots a sandbox
// node, and serves code-server on 127.0.0.1 with the extension installed, opened on a copy of the
// sample kubelet source, and with HOME holding an ~/.ssh that reaches the node. Ctrl-C stops all.
// `npm start -- --real`: the real Kubernetes v1.20.2 tree and a node running its kubelet with
// containerd and a pod (the harness's cached tree, opened in place: a copy would rebuild everything).
// `npm start -- --cluster`: as --real, and the node's kubelet registered with a control-plane node
// (etcd, kube-apiserver, kube-controller-manager v1.20.2) whose admin kubeconfig is ~/.kube/config, so
// the Nodes view shows the cluster.
//
//   node test/sandbox/sandbox.mjs [--real | --cluster] [--vsix FILE] [--no-node] [--port N]
//
// Env: KRD_SANDBOX_PORT (default: first free from 8080), KRD_SANDBOX_DIR (default
//      /var/tmp/kubelet-sandbox), KRD_CACHE_DIR (the VS Code and rootfs cache).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureVSCode } from '../vscode/lib/vscodeInstall.mjs';
import { freePort, waitForHttp } from '../vscode/lib/net.mjs';
import { isAlive, spawnGroup, stopTree } from '../vscode/lib/processes.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nodeHarness = join(repo, 'test', 'node');
export const SSH_HOST = 'sandbox-node';
const say = (msg) => process.stderr.write(`sandbox: ${msg}\n`);

/** Runs a command to completion with output on our stderr; rejects on a non-zero exit. */
function run(command, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    options.onChild?.(child);
    child.on('error', reject);
    child.on('exit', (code, sig) =>
      code === 0 ? resolvePromise() : reject(new Error(`${[command, ...args].join(' ')} failed (${sig ?? `exit code ${code}`})`)),
    );
  });
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The first 10.213.N.0/30 subnet (N from 200) that no interface on this host uses yet. */
function freeNodeIndex() {
  const addrs = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let i = 200; i <= 250; i++) if (!addrs.includes(` 10.213.${i}.`)) return i;
  throw new Error('no free 10.213.200-250.x subnet for the sandbox node');
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/**
 * Deals with what an earlier sandbox left in `root`: refuses when that sandbox still runs, and
 * otherwise stops its leftovers (code-server, the node), each checked to be ours before it is touched.
 */
async function clearLeftovers(root) {
  const state = readJson(join(root, 'sandbox.json'));
  if (state?.pid && state.pid !== process.pid && isAlive(state.pid) && cmdline(state.pid).some((a) => /sandbox|screenshot/.test(a))) {
    throw new Error(
      `a sandbox already runs (PID ${state.pid}) at ${state.url}; stop it first (Ctrl-C in its terminal, or kill ${state.pid})`,
    );
  }
  if (state?.codeServerPid && cmdline(state.codeServerPid).some((a) => a.startsWith(root))) {
    say(`stopping code-server ${state.codeServerPid} left over by an earlier sandbox`);
    await stopTree(state.codeServerPid, { graceMs: 5000 });
  }
  if (existsSync(join(root, 'node', 'name'))) await run('bash', [join(nodeHarness, 'stop-node.sh'), join(root, 'node')]);
  if (existsSync(join(root, 'control-plane', 'name'))) await run('bash', [join(nodeHarness, 'stop-node.sh'), join(root, 'control-plane')]);
  rmSync(join(root, 'sandbox.json'), { force: true });
}

/** HOME of the sandbox: ~/.ssh/config naming the node, its host key in known_hosts (checking stays on). */
function writeHome(home, node) {
  const ssh = join(home, '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  chmodSync(ssh, 0o700);
  const key = join(ssh, 'sandbox_ed25519');
  rmSync(key, { force: true });
  copyFileSync(node.keyPath, key);
  chmodSync(key, 0o600);
  if (existsSync(`${node.keyPath}.pub`)) copyFileSync(`${node.keyPath}.pub`, `${key}.pub`);
  writeFileSync(
    join(ssh, 'config'),
    [
      '# Written by test/sandbox/sandbox.mjs on each start.',
      `Host ${SSH_HOST}`,
      `  HostName ${node.address}`,
      `  Port ${node.port ?? 22}`,
      `  User ${node.users?.root ?? 'root'}`,
      `  IdentityFile ${key}`,
      '  IdentitiesOnly yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  writeFileSync(join(ssh, 'known_hosts'), readFileSync(node.knownHostsPath, 'utf8'), { mode: 0o600 });
}

/** User settings of the sandbox's code-server: the node listed, and nothing reaching for the internet. */
function writeSettings(userDataDir, withNode) {
  const settings = {
    'kubelet.nodes': withNode ? [SSH_HOST] : [],
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'chat.disableAIFeatures': true,
  };
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
}

/** The environment of code-server and so of the extension host and terminals: all in the sandbox. */
function sandboxEnv(home, tmp) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  delete env.PORT; // code-server would take it over --bind-addr
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: tmp,
    EXTENSIONS_GALLERY: '{}', // no marketplace: the machine is offline, and nothing should try
  };
}

/**
 * Starts the sandbox. `onStop(stop)` hands out the stop function at once, so that a caller
 * interrupted half-way can stop what exists; the start then gives up at its next step.
 * @returns {Promise<{url:string, root:string, home:string, workspace:string, node?:object, logFile:string, codeServer:import('node:child_process').ChildProcess, stop():Promise<void>}>}
 */
export async function startSandbox({ vsix, withNode = true, real = false, cluster = false, port, verbose = false, onStop } = {}) {
  real ||= cluster;
  const root = resolve(process.env.KRD_SANDBOX_DIR || '/var/tmp/kubelet-sandbox');
  if (/[\s:"\\]/.test(root)) throw new Error(`KRD_SANDBOX_DIR must not contain blanks, ':', quotes: ${root}`);
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  const cacheDir = process.env.KRD_CACHE_DIR || '/var/cache/kubelet-remote-debug';
  // The real tree is built once by the harness (npm run setup); its builds carry -trimpath=<tree>, so it is used where it is.
  const workspace = real
    ? execFileSync(join(nodeHarness, 'real', 'kubernetes-source.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        .trim()
        .split('\n')
        .pop()
    : join(root, 'workspace', 'kubelet-src');
  const csDir = join(root, 'code-server');
  const userDataDir = join(csDir, 'user-data');
  const extensionsDir = join(csDir, 'extensions');
  const nodeState = join(root, 'node');
  const controlPlaneState = join(root, 'control-plane');

  // Everything started so far; stop() undoes it in reverse and may be called at any point.
  const started = { bootChild: undefined, nodeBooted: false, controlPlaneBooted: false, codeServer: undefined };
  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      if (started.codeServer) await stopTree(started.codeServer.pid, { graceMs: 5000, rootStart: started.codeServer.startTime });
      if (started.bootChild && started.bootChild.exitCode === null) {
        started.bootChild.kill('SIGTERM'); // boot-node.sh stops its half-booted node on TERM
        await new Promise((r) => started.bootChild.once('exit', r));
      }
      if (started.nodeBooted || started.bootChild) {
        await run('bash', [join(nodeHarness, 'stop-node.sh'), nodeState]).catch((e) => say(e.message));
      }
      // The control plane after the worker: its kubelet would otherwise keep calling an API server that is gone.
      if (started.controlPlaneBooted) {
        await run('bash', [join(nodeHarness, 'stop-node.sh'), controlPlaneState]).catch((e) => say(e.message));
      }
      rmSync(join(root, 'sandbox.json'), { force: true });
    })());
  onStop?.(stop);
  const checkpoint = () => {
    if (stopping) throw new Error('interrupted');
  };

  try {
    mkdirSync(root, { recursive: true });
    await clearLeftovers(root);
    writeFileSync(join(root, 'sandbox.json'), JSON.stringify({ pid: process.pid }));

    if (vsix) {
      vsix = resolve(vsix);
      if (!existsSync(vsix)) throw new Error(`${vsix} does not exist`);
    } else {
      say('packaging the extension (npm run package)');
      await run('npm', ['run', '--silent', 'package'], { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
      vsix = join(repo, 'dist', 'kubelet-remote-debug.vsix');
      if (!existsSync(vsix)) throw new Error(`npm run package did not produce ${vsix}`);
    }

    checkpoint();
    const install = await ensureVSCode({ quiet: false });

    checkpoint();
    let node;
    let kubeconfig;
    if (withNode && cluster) {
      const index = freeNodeIndex();
      say(`booting the sandbox control plane (10.213.${index}.2); the first time builds it (~15 min)`);
      await run('bash', [join(nodeHarness, 'boot-node.sh'), 'sandbox-cp', String(index), controlPlaneState], {
        onChild: (c) => (started.bootChild = c),
        env: { ...process.env, KRD_NODE_KIND: 'control-plane' },
      });
      started.controlPlaneBooted = true;
      started.bootChild = undefined;
      kubeconfig = readJson(join(controlPlaneState, 'node.json'))?.kubeconfigPath;
      if (!kubeconfig) throw new Error(`the control plane recorded no kubeconfig in ${join(controlPlaneState, 'node.json')}`);
    }
    if (withNode) {
      const index = freeNodeIndex();
      say(
        `booting the sandbox node (10.213.${index}.2)${real ? ' with the real kubelet v1.20.2' : ''}; the first time builds its rootfs (${real ? 'and Kubernetes, ~15 min' : '~2 min'})`,
      );
      await run('bash', [join(nodeHarness, 'boot-node.sh'), 'sandbox', String(index), nodeState], {
        onChild: (c) => (started.bootChild = c),
        env: { ...process.env, KRD_NODE_KIND: real ? 'real' : 'sample', KRD_CONTROL_PLANE: cluster ? controlPlaneState : '' },
      });
      started.nodeBooted = true;
      started.bootChild = undefined;
      node = readJson(join(nodeState, 'node.json'));
      if (!node) throw new Error(`the node harness wrote no ${join(nodeState, 'node.json')}`);
    }

    checkpoint();
    mkdirSync(home, { recursive: true });
    if (node) writeHome(home, node);
    rmSync(join(home, '.kube'), { recursive: true, force: true });
    if (kubeconfig) {
      mkdirSync(join(home, '.kube'), { recursive: true, mode: 0o700 });
      copyFileSync(kubeconfig, join(home, '.kube', 'config'));
      chmodSync(join(home, '.kube', 'config'), 0o600);
    }
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    if (!real) {
      // A fresh copy on every start: the sandbox is for trying things, not for keeping edits.
      const fixture = join(repo, 'test', 'fixtures', 'kubelet-src');
      if (!existsSync(fixture)) throw new Error(`the sample kubelet source ${fixture} is missing`);
      rmSync(workspace, { recursive: true, force: true });
      // Source only: _output/ is make's output (ignored by git), left there by whoever built it last.
      cpSync(fixture, workspace, { recursive: true, filter: (src) => src !== join(fixture, '_output') });
    }

    mkdirSync(extensionsDir, { recursive: true });
    writeSettings(userDataDir, Boolean(node));
    port ||= Number(process.env.KRD_SANDBOX_PORT || 0);
    if (port) {
      if ((await freePort(port, 1)) !== port) throw new Error(`port ${port} on 127.0.0.1 is in use (KRD_SANDBOX_PORT)`);
    } else port = await freePort(8080, 20);
    const config = join(csDir, 'config.yaml');
    writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    const env = sandboxEnv(home, tmp);
    if (real) {
      // The harness's Go build cache and a fixed date stamp: the debug build is a relink at most, then a no-op.
      env.GOCACHE = join(cacheDir, 'go-build');
      env.SOURCE_DATE_EPOCH = '1700000000';
    }
    const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

    say(`installing ${vsix}`);
    await run(install.node24, [install.codeServerEntry, ...common, '--install-extension', vsix, '--force'], {
      env,
      stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit'],
    });

    checkpoint();
    const logFile = join(root, 'code-server.log');
    const log = createWriteStream(logFile);
    const cs = spawnGroup(
      install.node24,
      [
        install.codeServerEntry,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        ...common,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        workspace,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.codeServer = cs;
    for (const s of [cs.stdout, cs.stderr]) s.on('data', (d) => (log.write(d), verbose && process.stderr.write(`[code-server] ${d}`)));
    let exited = false;
    cs.exited.then(() => (exited = true));
    const url = `http://127.0.0.1:${port}/`;
    await waitForHttp(`${url}healthz`, { timeoutMs: 60_000, stillAlive: () => !exited, what: `code-server (log: ${logFile})` });
    writeFileSync(join(root, 'sandbox.json'), JSON.stringify({ pid: process.pid, url, codeServerPid: cs.pid, nodeState }, null, 2));
    return { url, root, home, workspace, node, kubeconfig, logFile, codeServer: cs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      vsix: { type: 'string' },
      'no-node': { type: 'boolean', default: false },
      real: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      port: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  let stop;
  let interrupted = false;
  const onSignal = async (sig) => {
    if (interrupted) return;
    interrupted = true;
    say(`${sig}: stopping`);
    await stop?.();
    say('stopped');
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => onSignal(sig));

  let sandbox;
  try {
    sandbox = await startSandbox({
      vsix: values.vsix,
      withNode: !values['no-node'],
      real: values.real,
      cluster: values.cluster,
      port: Number(values.port || 0),
      verbose: values.verbose,
      onStop: (fn) => (stop = fn),
    });
  } catch (e) {
    if (interrupted) return; // onSignal finishes the stop and exits
    say(`failed: ${e.message}`);
    process.exit(1);
  }
  if (interrupted) return;
  sandbox.codeServer.exited.then(async ({ code, signal }) => {
    if (interrupted) return;
    say(`code-server exited unexpectedly (${signal ?? `code ${code}`}); see ${sandbox.logFile}`);
    await sandbox.stop();
    process.exit(1);
  });
  const n = sandbox.node;
  console.log(
    [
      '',
      'Kubelet sandbox is running:',
      `  URL:        ${sandbox.url}`,
      `  Workspace:  ${sandbox.workspace} (${values.real || values.cluster ? 'the real Kubernetes v1.20.2 tree, shared with the tests: edits stay' : 'a fresh copy of test/fixtures/kubelet-src'})`,
      n
        ? `  Node:       ${SSH_HOST} = root@${n.address} (ssh -F ${join(sandbox.home, '.ssh', 'config')} ${SSH_HOST})`
        : '  Node:       none (--no-node)',
      ...(sandbox.kubeconfig
        ? [`  Cluster:    ~/.kube/config = ${sandbox.kubeconfig} (the node registered with a v1.20.2 control plane)`]
        : []),
      `  HOME:       ${sandbox.home}`,
      `  Log:        ${sandbox.logFile}`,
      '',
      `Ctrl-C to stop (or kill -TERM ${process.pid}; npm does not pass SIGTERM on).`,
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
