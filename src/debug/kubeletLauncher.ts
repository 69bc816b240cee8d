// Takes a node from "kubelet running" to "the same kubelet halted under Delve, reachable through
// the SSH connection", checking everything that can fail before the kubelet is touched, and hands
// back a target that knows how to put the node back. The launch reads as its steps:
// checks → build → verify binary → upload → version skew → arm → wait for Delve.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Duplex } from 'stream';
import { BinaryFacts, readBinaryFacts } from '../binary/binaryFacts';
import { withLocalReader, withSftpReader } from '../binary/fileReaders';
import { readNodeBinaryVersion } from '../binary/nodeBinaryVersion';
import { checkDelveSupportsGo, parseDelveVersion } from '../binary/delveCompatibility';
import { chooseDebugBuildCommand } from '../kube/debugBuildCommand';
import { UploadProgress, uploadBinary } from '../node/upload';
import { checkApiServerSkew, checkVersionSkew, KubeVersion, parseKubernetesVersion } from '../kube/versionSkew';
import { errors, ErrorCode, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellQuote } from '../ssh/shellQuote';
import { effectiveList, mergeUnitFiles, UnitFileSyntaxError } from '../systemd/unitFile';
import { readUnitStatus, UnitStatus } from '../systemd/unitStatus';
import { buildDebugDropIn, DROP_IN_NAME } from './debugDropIn';
import { delveFlagsFor } from './delveFlags';
import { clearPanicStops } from './haltFree';
import { waitForDelveReady } from './delveReadiness';
import type { BuildSettings, KubeletLaunchConfig } from './launchConfig';
import { LaunchSteps, StepTimings } from './launchSteps';
import {
  armScript,
  disarmNotes,
  disarmScript,
  inspectScript,
  safeguardPaths,
  leaseRenewMs,
  SafeguardPaths,
  SessionHolder,
  shArgv,
} from './nodeSafeguard';
import { openDelveStream } from './delveStream';

export type { StepTimings };

export interface LaunchHooks {
  log: Logger;
  signal: AbortSignal;
  progress(step: string): void;
  uploadProgress(p: UploadProgress): void;
  /** Runs a local build (as a VS Code task); rejects when it fails. */
  runLocalBuild(command: string, cwd: string): Promise<void>;
  /** Streams a build that runs on the node. */
  buildOutput(chunk: string): void;
  /** Asked when the debug binary's version differs in a way that restarts containers, or breaks the skew policy. */
  confirmVersionSkew(message: string): Promise<boolean>;
  /** The cluster's API server version (gitVersion), when the node belongs to a known cluster. */
  apiServerVersion?(): Promise<string | undefined>;
  /** Asked when the binary cannot say whether it was built for debugging. */
  confirmUnverifiedBinary?(message: string): Promise<boolean>;
  graceSeconds: number;
  /** Limit for Delve to listen and load the binary; a 153 MB kubelet takes seconds on a busy node. */
  delveStartTimeoutSeconds?: number;
  /** A Delve binary on this machine to upload and use instead of the node's own. */
  localDlvPath?: string;
  /** How to reach Delve's port; defaults to openDelveStream (a channel to the node's loopback, through a root relay for non-root logins). */
  openDelveStream?(node: NodeConnection, port: number, signal?: AbortSignal): Promise<Duplex>;
}

export interface DebugTarget {
  node: NodeConnection;
  unit: string;
  port: number;
  remoteBinary: string;
  goVersion: string;
  /** The debug build's Kubernetes version, when it reports one. */
  kubeVersion?: KubeVersion;
  timings: StepTimings;
  paths: SafeguardPaths;
  /** The binary's kubelet functions (for the startup stages) and its source files (for path mapping). */
  functions: string[];
  sources: string[];
  /** Opens another stream to Delve (the DAP session's). */
  openStream(): Promise<Duplex>;
  /** Ends the session on the node: guard stopped, drop-in removed, unit restarted and checked. */
  restore(): Promise<RestoreReport>;
  /** Tells the node-side safeguard we are still here. */
  renewLease(): Promise<void>;
}

export interface RestoreReport {
  activeState: string;
  mainPid: number;
  executable: string;
  leftovers: string[];
  /** What the restore had to do beyond the usual (a safeguard that would not stop was killed), and the cluster's side. */
  notes?: string[];
  /** What is not as it should be although the unit is back (the node not Ready in time, a cordon left). */
  problems?: string[];
}

/** Measured: Delve loads the 153 MB v1.20 debug kubelet in 3.5–4.7 s on 2 idle cores; leave room for a loaded node. */
export const DEFAULT_DELVE_START_TIMEOUT_SECONDS = 90;

const GOARCH: Record<string, string> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'arm',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** Where the debug binary comes from, once the configuration is resolved. */
type ResolvedBuild =
  | { where: 'local'; command: string; reason: string; cwd: string; output: string }
  | { where: 'node'; command: string; reason: string; sourceDir: string; output: string }
  | { where: 'none'; binary: string };

/** The binary to check and install: a local file to upload, or a file the build left on the node. */
type BuiltBinary = { local: string } | { onNode: string };

export async function launchKubeletUnderDelve(
  node: NodeConnection,
  config: KubeletLaunchConfig,
  workspaceRoot: string | undefined,
  hooks: LaunchHooks,
): Promise<DebugTarget> {
  const steps = new LaunchSteps(hooks.signal, hooks.progress);
  const paths = safeguardPaths(config.unit);
  const open = (port: number) => (hooks.openDelveStream ?? openDelveStream)(node, port, hooks.signal);

  const nodeFacts = await steps.run('checks', `Connecting to ${node.spec}`, () => checkNode(node, config, paths, hooks));
  const build = await steps.run('checks', 'Choosing the debug build', () =>
    resolveBuild(node, config.build, workspaceRoot, nodeFacts.arch),
  );
  const binary = await steps.run('build', buildTitle(build, node), () => runBuild(node, build, hooks));
  const facts = await steps.run('checks', 'Checking the debug binary', () => verifyBinary(node, binary, nodeFacts.delve, config, hooks));
  await steps.run('upload', 'Uploading the debug binary', () => installBinary(node, binary, config.remoteBinary, hooks));
  const kubeVersion = await steps.run('checks', 'Comparing versions', () => checkSkew(node, facts, nodeFacts.status, hooks));

  const armed = await steps.run('launch', `Starting ${config.unit} under Delve`, () => arm(node, config, paths, nodeFacts, hooks));
  const restore = () => restoreNode(node, paths, nodeFacts.status.execStart[0]?.path ?? '', armed.port, armed.sessionId);
  const renewLease = async () => {
    const r = await node.exec(['touch', '-c', '--', paths.lease], { timeoutMs: 15_000 });
    if (r.code !== 0) {
      throw errors.remoteCommandFailed(node.spec, 'renewing the safeguard lease', r.code, r.stderr);
    }
  };
  // From the restart on, the lease is renewed here until the adapter takes over: Delve's load of a
  // 153 MB binary and the source listing take seconds, and a short grace would restore mid-launch.
  const keepAlive = setInterval(() => void renewLease().catch(() => undefined), leaseRenewMs(hooks.graceSeconds));
  try {
    const ready = await steps.run('delveLoad', `Waiting for Delve to load ${path.posix.basename(config.remoteBinary)}`, () =>
      waitForDelveReady(node, {
        unit: config.unit,
        port: armed.port,
        signal: hooks.signal,
        timeoutSeconds: hooks.delveStartTimeoutSeconds ?? DEFAULT_DELVE_START_TIMEOUT_SECONDS,
        openStream: () => open(armed.port),
      }),
    );
    try {
      const rpcLimits = { timeoutMs: 60_000, signal: hooks.signal };
      const [functions, sources] = await steps.run('delveLoad', "Reading the binary's functions and sources", () =>
        Promise.all([
          ready.rpc.listFunctions('^k8s\\.io/kubernetes/(cmd/kubelet/app|pkg/kubelet)\\.', rpcLimits),
          ready.rpc.listSources('', rpcLimits),
        ]),
      );
      if (config.haltFree) {
        // A fatal panic must end the program, not halt it with nobody allowed to stop.
        await clearPanicStops(ready.rpc, rpcLimits);
      }
      hooks.log.info(
        `Delve listened after ${ready.listenSeconds.toFixed(2)} s and loaded the binary after ${ready.loadSeconds.toFixed(2)} s more.`,
      );
      return {
        node,
        unit: config.unit,
        port: armed.port,
        remoteBinary: config.remoteBinary,
        goVersion: facts.info.goVersion,
        kubeVersion,
        timings: steps.timings,
        paths,
        functions,
        sources,
        openStream: () => open(armed.port),
        restore,
        renewLease,
      };
    } finally {
      ready.rpc.close();
    }
  } catch (err) {
    await restore().catch((e: Error) => hooks.log.error(`Restoring after a failed start also failed: ${e.message}`));
    throw err;
  } finally {
    clearInterval(keepAlive);
  }
}

interface NodeFacts {
  status: UnitStatus;
  execStart: string;
  arch: string;
  delve: { path: string; version: string; minor: number; patch?: number };
}

/** Everything about the node that can refuse the session, read before anything is built or changed. */
async function checkNode(node: NodeConnection, config: KubeletLaunchConfig, paths: SafeguardPaths, hooks: LaunchHooks): Promise<NodeFacts> {
  await node.connect(hooks.signal);
  await node.runAsRoot('a root check (sudo -n true)', ['true'], { signal: hooks.signal });
  await refuseIfHeld(node, paths, hooks.signal);
  const status = await readUnitStatus(node, config.unit, hooks.signal);
  const execStart = await readEffectiveExecStart(node, status, hooks.signal);
  const arch = await nodeArch(node, hooks.signal);
  let dlvPath = config.dlvPath;
  if (hooks.localDlvPath) {
    hooks.progress('Uploading Delve');
    dlvPath = path.posix.join(path.posix.dirname(config.remoteBinary), 'dlv');
    await uploadBinary(node, hooks.localDlvPath, dlvPath, { signal: hooks.signal });
  }
  const delve = await nodeDelve(node, dlvPath, hooks.signal);
  return { status, execStart, arch, delve };
}

/** Fills in the build command for the tree at hand when the configuration leaves it out. */
async function resolveBuild(
  node: NodeConnection,
  build: BuildSettings,
  workspaceRoot: string | undefined,
  arch: string,
): Promise<ResolvedBuild> {
  const withArch = (s: string) => s.replace(/\$\{arch\}/g, arch);
  const output = withArch(build.output ?? '_output/local/bin/linux/${arch}/kubelet');
  // validateLaunchConfig already asked for these; a configuration built by hand gets the same words.
  const required = (value: string | undefined, field: string) => {
    if (!value) {
      throw new UserError(ErrorCode.BuildFailed, `"${field}" is required with build.where = "${build.where}".`, ['openSettings']);
    }
    return value;
  };
  if (build.where === 'none') {
    return { where: 'none', binary: required(build.binary, 'build.binary') };
  }
  if (build.where === 'node') {
    const sourceDir = required(build.sourceDir, 'build.sourceDir');
    const golangSh = build.command ? undefined : await readNodeFile(node, path.posix.join(sourceDir, 'hack/lib/golang.sh'));
    const choice = build.command ? { command: build.command, reason: 'from the launch configuration' } : chooseDebugBuildCommand(golangSh);
    return { where: 'node', command: withArch(choice.command), reason: choice.reason, sourceDir, output };
  }
  const cwd = build.cwd || workspaceRoot;
  if (!cwd) {
    throw new UserError(
      ErrorCode.BuildFailed,
      'build.where is "local" but no workspace folder is open. Open the Kubernetes tree, or set build.cwd.',
      ['openSettings'],
    );
  }
  const golangSh = build.command
    ? undefined
    : await fs.promises.readFile(path.join(cwd, 'hack', 'lib', 'golang.sh'), 'utf8').catch(() => undefined);
  const choice = build.command ? { command: build.command, reason: 'from the launch configuration' } : chooseDebugBuildCommand(golangSh);
  return { where: 'local', command: withArch(choice.command), reason: choice.reason, cwd, output };
}

function buildTitle(build: ResolvedBuild, node: NodeConnection): string {
  switch (build.where) {
    case 'local':
      return `Building: ${build.command}`;
    case 'node':
      return `Building on ${node.spec}: ${build.command}`;
    case 'none':
      return `Using ${build.binary}`;
  }
}

async function runBuild(node: NodeConnection, build: ResolvedBuild, hooks: LaunchHooks): Promise<BuiltBinary> {
  switch (build.where) {
    case 'none':
      return { local: build.binary };
    case 'local':
      hooks.log.info(`Debug build: ${build.command} (in ${build.cwd}; ${build.reason}).`);
      await hooks.runLocalBuild(build.command, build.cwd);
      return { local: path.resolve(build.cwd, build.output) };
    case 'node': {
      hooks.log.info(`Debug build on ${node.spec}: ${build.command} (in ${build.sourceDir}; ${build.reason}).`);
      hooks.buildOutput(`$ cd ${build.sourceDir} && ${build.command}\n`);
      const result = await node.execAsRoot(['/bin/sh', '-c', `cd ${shellQuote(build.sourceDir)} && ${build.command}`], {
        signal: hooks.signal,
        // A cold Kubernetes build takes about 9 minutes on 2 cores; anything past an hour is stuck.
        timeoutMs: 60 * 60 * 1000,
        onStdout: (c) => hooks.buildOutput(c.toString('utf8')),
        onStderr: (c) => hooks.buildOutput(c.toString('utf8')),
      });
      if (result.code !== 0) {
        throw new UserError(
          ErrorCode.BuildFailed,
          `The build on ${node.spec} failed (exit ${result.code}); the kubelet was not touched. See the build output for the compiler's errors.`,
          ['showLog'],
          result.stderr,
        );
      }
      return { onNode: path.posix.join(build.sourceDir, build.output) };
    }
  }
}

/** Delve must support the binary's Go, and the binary must carry what a debugger needs. */
async function verifyBinary(
  node: NodeConnection,
  binary: BuiltBinary,
  delve: NodeFacts['delve'],
  config: KubeletLaunchConfig,
  hooks: LaunchHooks,
): Promise<BinaryFacts> {
  const where = 'local' in binary ? binary.local : `${binary.onNode} on ${node.spec}`;
  let facts: BinaryFacts;
  try {
    facts =
      'local' in binary
        ? await withLocalReader(binary.local, readBinaryFacts)
        : await withSftpReader(await node.sftp(), binary.onNode, readBinaryFacts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as { code?: number }).code === 2) {
      throw new UserError(ErrorCode.BuildFailed, `The build did not produce ${where}. Check build.output; the kubelet was not touched.`, [
        'openSettings',
      ]);
    }
    throw new UserError(ErrorCode.NotAGoBinary, `${where} is not a Go binary Delve can debug: ${(err as Error).message}`);
  }
  const compat = checkDelveSupportsGo(delve, facts.info.goVersion);
  if (!compat.ok) {
    throw errors.delveTooOld(node.spec, compat.reason, compat.install, compat.installCommand);
  }
  if (compat.warning) {
    hooks.log.warn(compat.warning);
  }
  const fix =
    'Rebuild it for debugging: for Kubernetes before v1.24, make WHAT=cmd/kubelet GOLDFLAGS="" GOGCFLAGS="all=-N -l"; from v1.24, make WHAT=cmd/kubelet DBG=1; otherwise go build -gcflags="all=-N -l" without -ldflags="-s -w".';
  const verdict = facts.verdict;
  switch (verdict.kind) {
    case 'stripped':
      throw new UserError(
        ErrorCode.NotDebuggable,
        `${where} has no debug information (${verdict.evidence}), so Delve cannot debug it. ${fix} The kubelet was not touched.`,
        ['showLog'],
      );
    case 'optimised':
      if (!config.allowOptimizedBinary) {
        throw new UserError(
          ErrorCode.NotDebuggable,
          `${where} was built with optimisations (${verdict.evidence}): breakpoints would move or not bind, and variables would show as optimised away. ${fix} To debug it anyway, set "allowOptimizedBinary": true. The kubelet was not touched.`,
          ['showLog'],
        );
      }
      hooks.log.warn(`${where} is optimised (${verdict.evidence}); debugging it anyway because allowOptimizedBinary is set.`);
      break;
    case 'unknown': {
      const message = `${where} does not say whether it was built for debugging (${verdict.evidence}). If it was built with optimisations, breakpoints may not bind.`;
      hooks.log.warn(message);
      if (hooks.confirmUnverifiedBinary && !(await hooks.confirmUnverifiedBinary(message))) {
        throw errors.cancelled();
      }
      break;
    }
    case 'ok':
      break;
  }
  return facts;
}

/** Puts the binary in place on the node (never over the node's own kubelet). */
async function installBinary(node: NodeConnection, binary: BuiltBinary, remoteBinary: string, hooks: LaunchHooks): Promise<void> {
  if ('onNode' in binary) {
    await node.runAsRoot('copying the binary into place', ['install', '-D', '-m', '0755', '--', binary.onNode, remoteBinary], {
      signal: hooks.signal,
    });
    return;
  }
  const upload = await uploadBinary(node, binary.local, remoteBinary, { signal: hooks.signal, onProgress: hooks.uploadProgress });
  hooks.log.info(
    upload.skipped
      ? `The node already has this binary (sha256 ${upload.sha256.slice(0, 12)}…); upload skipped.`
      : `Uploaded ${(upload.bytes / 1e6).toFixed(1)} MB in ${upload.seconds.toFixed(2)} s.`,
  );
}

/**
 * A different minor (or crossing 1.31) changes the container hash: ask before that restarts every pod.
 * A debug kubelet outside the API server's skew policy is asked about too.
 */
async function checkSkew(
  node: NodeConnection,
  facts: BinaryFacts,
  status: UnitStatus,
  hooks: LaunchHooks,
): Promise<KubeVersion | undefined> {
  const debugVersion = parseKubernetesVersion(facts.stampedVersion ?? '');
  const running = status.execStart[0] ? await readNodeBinaryVersion(node, status.execStart[0].path, hooks.signal) : '';
  const apiServer = parseKubernetesVersion((await hooks.apiServerVersion?.().catch(() => undefined)) ?? '');
  const problems = [checkVersionSkew(parseKubernetesVersion(running), debugVersion), checkApiServerSkew(apiServer, debugVersion)];
  const skew = problems.filter(Boolean).join('\n\n');
  if (skew && !(await hooks.confirmVersionSkew(skew))) {
    throw new UserError(ErrorCode.VersionSkewDeclined, 'Debugging was cancelled because of the version skew; the kubelet was not touched.');
  }
  return debugVersion;
}

/** Arms the safeguard and restarts the unit under Delve, in one root script on the node. */
async function arm(
  node: NodeConnection,
  config: KubeletLaunchConfig,
  paths: SafeguardPaths,
  facts: NodeFacts,
  hooks: LaunchHooks,
): Promise<{ port: number; sessionId: string }> {
  const port = await pickPort(node, hooks.signal);
  const sessionId = randomBytes(6).toString('hex');
  const holder: SessionHolder = {
    sessionId,
    holder: `${safeUser()}@${os.hostname()} (VS Code, pid ${process.pid})`,
    since: new Date().toISOString(),
  };
  const dropInText = buildDebugDropIn({
    execStart: facts.execStart,
    dlvPath: facts.delve.path,
    port,
    remoteBinary: config.remoteBinary,
    dlvFlags: delveFlagsFor(config),
    extraArgs: config.args,
    env: config.env,
    sessionId,
    syslogIdentifier: path.posix.basename(facts.status.execStart[0]?.path ?? config.unit.replace(/\.service$/, '')),
  });
  const armed = await node.execAsRoot(
    shArgv(
      armScript({
        paths,
        holder,
        wasActive: facts.status.activeState === 'active',
        graceSeconds: hooks.graceSeconds,
        dropInText,
        loginUser: node.user ?? 'root',
      }),
    ),
    { signal: hooks.signal },
  );
  if (armed.code === 75) {
    throw heldError(node, config.unit, armed.stdout);
  }
  if (armed.code !== 0) {
    throw errors.remoteCommandFailed(node.spec, `starting ${config.unit} under Delve`, armed.code, armed.stderr);
  }
  return { port, sessionId };
}

async function readNodeFile(node: NodeConnection, file: string): Promise<string | undefined> {
  const r = await node.execAsRoot(['cat', '--', file], { timeoutMs: 30_000 });
  return r.code === 0 ? r.stdout : undefined;
}

async function refuseIfHeld(node: NodeConnection, paths: SafeguardPaths, signal: AbortSignal): Promise<void> {
  const result = await node.exec(shArgv(inspectScript(paths)), { signal });
  const [state, ...rest] = result.stdout.trim().split('\n');
  if (state === 'held') {
    throw heldError(node, paths.unit, rest.join('\n'));
  }
  if (state === 'stale') {
    throw new UserError(
      ErrorCode.StaleSession,
      `${paths.unit} on ${node.spec} was left in the debug state by an earlier session. Run "Kubelet: Restore kubelet on node" first.`,
      ['restore'],
    );
  }
}

function heldError(node: NodeConnection, unit: string, sessionJson: string): UserError {
  let who = 'another session';
  try {
    const h = JSON.parse(sessionJson.trim()) as SessionHolder;
    who = `${h.holder}, since ${h.since}`;
  } catch {
    // An unreadable session file still means the node is taken.
  }
  return new UserError(
    ErrorCode.SessionHeld,
    `${unit} on ${node.spec} is already being debugged by ${who}. Only one session per unit and node is allowed; end that one first.`,
  );
}

/** The unit's effective ExecStart as written in its files (so systemd expands it as before). */
async function readEffectiveExecStart(node: NodeConnection, status: UnitStatus, signal: AbortSignal): Promise<string> {
  const files = [status.fragmentPath, ...status.dropInPaths.filter((p) => !p.endsWith('/' + DROP_IN_NAME))].filter(Boolean);
  const texts = await Promise.all(
    files.map(async (p) => {
      const r = await node.execAsRoot(['cat', '--', p], { signal });
      if (r.code !== 0) {
        throw errors.remoteCommandFailed(node.spec, `reading ${p}`, r.code, r.stderr);
      }
      return { path: p, text: r.stdout };
    }),
  );
  let execs;
  try {
    execs = effectiveList(mergeUnitFiles(texts), 'Service', 'ExecStart');
  } catch (err) {
    if (err instanceof UnitFileSyntaxError) {
      throw new UserError(ErrorCode.UnsupportedUnit, `${err.message} Fix the unit file first; the unit was not touched.`);
    }
    throw err;
  }
  if (execs.length !== 1) {
    throw new UserError(
      ErrorCode.UnsupportedUnit,
      `${status.unit} on ${node.spec} has ${execs.length} ExecStart lines after its drop-ins; exactly one is needed to know what to debug.`,
    );
  }
  return execs[0].value;
}

async function nodeArch(node: NodeConnection, signal: AbortSignal): Promise<string> {
  const machine = (await node.exec(['uname', '-m'], { signal })).stdout.trim();
  const arch = GOARCH[machine];
  if (!arch) {
    throw new UserError(
      ErrorCode.BuildFailed,
      `${node.spec} is a ${machine} machine, which this extension does not know how to build for. Use build.where = "none" with a binary built for it.`,
    );
  }
  return arch;
}

async function nodeDelve(node: NodeConnection, dlvPath: string, signal: AbortSignal): Promise<NodeFacts['delve']> {
  const result = await node.execAsRoot(['/bin/sh', '-c', 'p=$(command -v "$1") && "$p" version && echo "PATH=$p"', 'sh', dlvPath], {
    timeoutMs: 30_000,
    signal,
  });
  const version = parseDelveVersion(result.stdout);
  const found = /^PATH=(.+)$/m.exec(result.stdout)?.[1];
  if (result.code !== 0 || !version || !found) {
    throw new UserError(
      ErrorCode.DelveMissing,
      `Delve (${dlvPath}) is not installed on ${node.spec}, or does not run. Install a Delve that supports the Go version of your build (apt install delve, or go install github.com/go-delve/delve/cmd/dlv@VERSION) and set dlvPath if it is not on root's PATH, or set kubelet.debug.localDlvPath to upload one from here; the unit was not touched.`,
      ['openSettings'],
      result.stderr,
    );
  }
  return { path: found, ...version };
}

/** 2345 (Delve's habit) when free, else a free port in 20000–29999; only ever on loopback. */
async function pickPort(node: NodeConnection, signal: AbortSignal): Promise<number> {
  const result = await node.exec(['ss', '-Htln'], { signal });
  const used = new Set([...result.stdout.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])));
  if (!used.has(2345)) {
    return 2345;
  }
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (!used.has(port)) {
      return port;
    }
  }
  throw new UserError(ErrorCode.DelveDidNotStart, `No free port for Delve on ${node.spec}'s loopback.`);
}

async function restoreNode(
  node: NodeConnection,
  paths: SafeguardPaths,
  originalBinary: string,
  port: number,
  sessionId: string,
): Promise<RestoreReport> {
  const result = await node.execAsRoot(shArgv(disarmScript(paths, sessionId)));
  if (result.code !== 0) {
    throw new UserError(
      ErrorCode.RestoreFailed,
      `Restoring ${paths.unit} on ${node.spec} failed (exit ${result.code}): ${result.stderr.trim()}. Run "Kubelet: Restore kubelet on node", or on the node: rm -f ${paths.dropIn}; systemctl daemon-reload; systemctl restart ${paths.unit}.`,
      ['retry', 'showLog'],
    );
  }
  return { ...(await checkRestored(node, paths, originalBinary, port)), notes: disarmNotes(result.stdout) };
}

/** Confirms the node is as before: the real binary running, none of our files, units or ports left. */
async function checkRestored(node: NodeConnection, paths: SafeguardPaths, originalBinary: string, port: number): Promise<RestoreReport> {
  const script = [
    `pid=$(systemctl show -p MainPID --value -- ${shellQuote(paths.unit)})`,
    `echo "state=$(systemctl show -p ActiveState --value -- ${shellQuote(paths.unit)})"`,
    'echo "pid=$pid"',
    'echo "exe=$(readlink /proc/$pid/exe 2>/dev/null)"',
    `[ -e ${shellQuote(paths.dropIn)} ] && echo "leftover=${paths.dropIn}"`,
    `[ -e ${shellQuote(paths.stateDir)} ] && echo "leftover=${paths.stateDir}"`,
    `systemctl is-active --quiet -- ${shellQuote(paths.guardUnit)} && echo "leftover=${paths.guardUnit}"`,
    `ss -Htln ${shellQuote(`sport = :${port}`)} | grep -q . && echo "leftover=listener on 127.0.0.1:${port}"`,
    'true',
  ].join('\n');
  const out = (await node.execAsRoot(shArgv(script))).stdout;
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  const report: RestoreReport = {
    activeState: value('state'),
    mainPid: Number(value('pid')) || 0,
    executable: value('exe').replace(/ \(deleted\)$/, ''),
    leftovers: [...out.matchAll(/^leftover=(.*)$/gm)].map((m) => m[1]),
  };
  if (originalBinary && report.activeState === 'active' && report.executable && report.executable !== originalBinary) {
    report.leftovers.push(`${paths.unit} runs ${report.executable}, not ${originalBinary}`);
  }
  return report;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'someone';
  }
}

/** "Kubelet: Restore kubelet on node": works with or without the state an earlier session left. */
export async function restoreUnitOnNode(node: NodeConnection, unit: string, port = 2345): Promise<RestoreReport> {
  const paths = safeguardPaths(unit);
  const result = await node.execAsRoot(shArgv(disarmScript(paths)));
  if (result.code !== 0) {
    throw new UserError(
      ErrorCode.RestoreFailed,
      `Restoring ${unit} on ${node.spec} failed (exit ${result.code}): ${result.stderr.trim()}.`,
      ['retry', 'showLog'],
    );
  }
  const status = await readUnitStatus(node, unit);
  return { ...(await checkRestored(node, paths, status.execStart[0]?.path ?? '', port)), notes: disarmNotes(result.stdout) };
}

/** Whether a node still carries an earlier session's state; for the Nodes view and start-up check. */
export async function debugStateOf(node: NodeConnection, unit: string): Promise<'free' | 'held' | 'stale'> {
  const result = await node.exec(shArgv(inspectScript(safeguardPaths(unit))));
  const state = result.stdout.trim().split('\n')[0];
  return state === 'held' || state === 'stale' ? state : 'free';
}
