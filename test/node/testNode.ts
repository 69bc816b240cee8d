// Boots and stops real systemd test nodes (systemd-nspawn containers) for end-to-end tests and the sandbox.
// The shell scripts beside this file do the work; this module picks a free name and subnet, and makes sure
// no node outlives the process that booted it. See test/node/README.md.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SshResult {
  stdout: string;
  stderr: string;
  /** The remote command's exit code; 255 when ssh itself failed. */
  code: number;
}

export interface TestNode {
  name: string;
  /**
   * 'sample': the sample kubelet; 'real': Kubernetes v1.20.2's kubelet with containerd and a running static pod;
   * 'control-plane': etcd, kube-apiserver and kube-controller-manager v1.20.2, no kubelet.
   */
  kind: NodeKind;
  /** A control-plane node's admin kubeconfig (kubeadm's admin.conf); its server is the node's address, which the host reaches. */
  kubeconfigPath?: string;
  address: string;
  port: number;
  keyPath: string;
  knownHostsPath: string;
  sshConfigPath: string;
  /** The node's ed25519 host key, as in a .pub file. */
  hostKeyPublic: string;
  /** Login names: root; kubeadmin (password-less sudo); needpw (sudo asks for a password). */
  users: { root: string; sudo: string; needsPassword: string };
  /** The Host aliases in sshConfigPath for each user: NAME, NAME-sudo, NAME-needpw. */
  sshHosts: { root: string; sudo: string; needsPassword: string };
  /** A file holding the needpw user's password, for tests of a sudo password prompt. */
  needsPasswordPasswordPath: string;
  stateDir: string;
  /** Runs a command on the node as root with OpenSSH (for test setup/inspection only, not for code under test). */
  ssh(command: string): Promise<SshResult>;
  stop(): Promise<void>;
}

export type NodeKind = 'sample' | 'real' | 'control-plane';

export interface BootOptions {
  /** Which kubelet the node runs; defaults to the sample (fast). */
  kind?: NodeKind;
  /** A 'real' node whose kubelet registers with this control-plane node (cluster mode) instead of running standalone. */
  controlPlane?: TestNode;
  /** Machine name, at most 12 characters of [a-z0-9-]; defaults to krd-INDEX. */
  name?: string;
  /** 1..250, selects the subnet 10.213.INDEX.0/30; defaults to the first free one. */
  index?: number;
  /** Receives the boot script's progress lines (a first run builds the rootfs for several minutes). */
  log?: (line: string) => void;
}

/** Shape of the node.json that boot-node.sh writes. */
interface NodeInfo {
  name: string;
  kind: NodeKind;
  address: string;
  port: number;
  hostKeyPublic: string;
  keyPath: string;
  knownHostsPath: string;
  sshConfigPath: string;
  sshHosts: TestNode['sshHosts'];
  users: TestNode['users'];
  needsPasswordPasswordPath: string;
  kubeconfigPath: string | null;
}

/** One claimed index and the node that uses it; claims make parallel runs pick different subnets. */
interface Slot {
  index: number;
  name: string;
  stateDir: string;
  claimDir: string;
  /** boot-node.sh while it runs, so an exiting process can interrupt a boot half-way. */
  booting?: ChildProcess;
}

const maxIndex = 250;
const stateRoot = process.env.KRD_NODE_STATE_DIR ?? '/tmp/krd-nodes';
const claimsDir = path.join(stateRoot, '.claims');
const live = new Set<Slot>();
let harnessDir: string | undefined;

export async function bootTestNode(opts: BootOptions = {}): Promise<TestNode> {
  if (opts.name !== undefined && !/^[a-z][a-z0-9-]{0,11}$/.test(opts.name)) {
    throw new Error(`test node name must match [a-z][a-z0-9-]{0,11}: '${opts.name}'`);
  }
  if (opts.index !== undefined && !(Number.isInteger(opts.index) && opts.index >= 1 && opts.index <= maxIndex)) {
    throw new Error(`test node index must be an integer 1..${maxIndex}: ${opts.index}`);
  }
  if (opts.controlPlane && (opts.kind !== 'real' || opts.controlPlane.kind !== 'control-plane')) {
    throw new Error(`only a 'real' node joins a control plane, and only a 'control-plane' node is one (got ${opts.kind} joining ${opts.controlPlane.kind})`);
  }
  installExitHooks();
  const slot = claimSlot(opts);
  live.add(slot);
  try {
    await runScript('boot-node.sh', [slot.name, String(slot.index), slot.stateDir], opts.log, (child) => (slot.booting = child), {
      KRD_NODE_KIND: opts.kind ?? 'sample',
      KRD_CONTROL_PLANE: opts.controlPlane?.stateDir ?? '',
    });
    const info = JSON.parse(fs.readFileSync(path.join(slot.stateDir, 'node.json'), 'utf8')) as NodeInfo;
    return toTestNode(slot, info);
  } catch (err) {
    await stopSlot(slot);
    throw err;
  }
}

function toTestNode(slot: Slot, info: NodeInfo): TestNode {
  return {
    name: info.name,
    kind: info.kind,
    address: info.address,
    port: info.port,
    keyPath: info.keyPath,
    knownHostsPath: info.knownHostsPath,
    sshConfigPath: info.sshConfigPath,
    hostKeyPublic: info.hostKeyPublic,
    users: info.users,
    sshHosts: info.sshHosts,
    needsPasswordPasswordPath: info.needsPasswordPasswordPath,
    kubeconfigPath: info.kubeconfigPath ?? undefined,
    stateDir: slot.stateDir,
    ssh: (command) => runSsh(info.sshConfigPath, info.sshHosts.root, command),
    stop: () => stopSlot(slot),
  };
}

/** Runs a command with OpenSSH and a given ssh_config (BatchMode); never rejects on the exit code. */
export function runSsh(sshConfigPath: string, host: string, command: string): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', sshConfigPath, '-o', 'BatchMode=yes', host, command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        code: code ?? 255,
      }),
    );
  });
}

async function stopSlot(slot: Slot): Promise<void> {
  if (!live.has(slot)) return;
  try {
    await runScript('stop-node.sh', [slot.stateDir]);
  } finally {
    live.delete(slot);
    releaseClaim(slot);
  }
}

/** Runs a harness script; on failure the error carries the end of its output. */
function runScript(
  script: string,
  args: string[],
  log?: (line: string) => void,
  onRunning?: (child: ChildProcess | undefined) => void,
  env: Record<string, string> = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(findHarnessDir(), script), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    onRunning?.(child);
    const lines: string[] = [];
    const collect = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          log?.(line);
        }
      });
    };
    collect(child.stdout);
    collect(child.stderr);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      onRunning?.(undefined);
      if (code === 0) return resolve();
      const status = signal ? `signal ${signal}` : `exit code ${code}`;
      reject(new Error(`${script} ${args.join(' ')} failed (${status}):\n${lines.slice(-30).join('\n')}`));
    });
  });
}

/** The folder holding the scripts, found from either test/node/ or the compiled out/test/node/. */
function findHarnessDir(): string {
  if (harnessDir) return harnessDir;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    for (const candidate of [dir, path.join(dir, 'test', 'node')]) {
      if (fs.existsSync(path.join(candidate, 'boot-node.sh'))) return (harnessDir = candidate);
    }
    if (path.dirname(dir) === dir) throw new Error(`test/node/boot-node.sh not found above ${__dirname}`);
  }
}

function claimSlot(opts: BootOptions): Slot {
  if (opts.name !== undefined && vethExists(opts.name)) {
    throw new Error(`a test node named ${opts.name} is already running (ve-${opts.name} exists)`);
  }
  fs.mkdirSync(claimsDir, { recursive: true });
  const indexes = opts.index !== undefined ? [opts.index] : Array.from({ length: maxIndex }, (_, i) => i + 1);
  for (const index of indexes) {
    const name = opts.name ?? `krd-${index}`;
    const slot = { index, name, stateDir: path.join(stateRoot, name), claimDir: path.join(claimsDir, String(index)) };
    // Claim first: taking over a stale claim stops its node, which frees the subnet checked next.
    if (tryClaim(slot)) {
      if (!subnetsInUse().has(index) && !vethExists(name)) return slot;
      releaseClaim(slot); // a node that this harness does not track uses it
    }
    if (opts.index !== undefined) {
      throw new Error(`test node index ${index} (10.213.${index}.0/30) is in use; pick another or leave index unset`);
    }
  }
  throw new Error(`no free test node index in 1..${maxIndex}; stop stale nodes with test/node/stop-node.sh --all ${stateRoot}`);
}

/** Third octets of 10.213.X.Y addresses on this host: subnets of nodes already up (ours or not). */
function subnetsInUse(): Set<number> {
  const taken = new Set<number>();
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      const m = /^10\.213\.(\d+)\.\d+$/.exec(a.address);
      if (m) taken.add(Number(m[1]));
    }
  }
  return taken;
}

function vethExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/ve-${name}`);
}

/** Claims an index with an atomic mkdir; a claim whose owner process is gone is taken over. */
function tryClaim(slot: Slot): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.mkdirSync(slot.claimDir);
      fs.writeFileSync(path.join(slot.claimDir, 'owner'), JSON.stringify({ pid: process.pid, stateDir: slot.stateDir }));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !takeOverStaleClaim(slot.claimDir)) return false;
    }
  }
  return false;
}

function takeOverStaleClaim(claimDir: string): boolean {
  let owner: { pid: number; stateDir: string };
  try {
    owner = JSON.parse(fs.readFileSync(path.join(claimDir, 'owner'), 'utf8'));
  } catch {
    // Claimed a moment ago and the owner file is not written yet, unless the claimer died in between.
    return Date.now() - fs.statSync(claimDir).mtimeMs > 60_000 && removeClaimDir(claimDir);
  }
  if (isAlive(owner.pid)) return false;
  // A run that was killed (SIGKILL) left its node up: stop it by its recorded nspawn PID first.
  spawnSync(path.join(findHarnessDir(), 'stop-node.sh'), [owner.stateDir], { stdio: 'ignore', timeout: 30_000 });
  return removeClaimDir(claimDir);
}

/** Renames before deleting, so of two processes taking over the same stale claim only one wins. */
function removeClaimDir(claimDir: string): boolean {
  const doomed = `${claimDir}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(claimDir, doomed);
  } catch {
    return false;
  }
  fs.rmSync(doomed, { recursive: true, force: true });
  return true;
}

function releaseClaim(slot: Slot): void {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(slot.claimDir, 'owner'), 'utf8')) as { pid: number };
    if (owner.pid === process.pid) fs.rmSync(slot.claimDir, { recursive: true, force: true });
  } catch {
    // Already released.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let hooksInstalled = false;

/** Stops every node of this process synchronously when it exits or is interrupted, crash included. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', stopAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      stopAllSync();
      // Only we listened: restore the default action, so the process still ends by this signal.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

function stopAllSync(): void {
  if (live.size === 0) return;
  const slots = [...live];
  live.clear();
  // boot-node.sh stops its own half-booted node on SIGTERM; stop-node.sh below covers a node already up.
  for (const slot of slots) slot.booting?.kill('SIGTERM');
  spawnSync(
    path.join(findHarnessDir(), 'stop-node.sh'),
    slots.map((s) => s.stateDir),
    { stdio: 'inherit', timeout: 30_000 },
  );
  for (const slot of slots) releaseClaim(slot);
}
