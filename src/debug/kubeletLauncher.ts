// Takes a node from "kubelet running" to "the same kubelet halted under Delve, reachable through
// the SSH connection", checking everything that can fail before the kubelet is touched, and hands
// back a target that knows how to put the node back.
import { randomBytes } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import { errors, ErrorCode, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import { checkDelveSupportsGo, parseDelveVersion } from '../build/delveCompatibility';
import { GoBuildInfo, readGoBuildInfo, readLocalGoBuildInfo } from '../build/goBuildInfo';
import { UploadProgress, uploadBinary } from '../build/upload';
import { checkVersionSkew, KubeVersion, parseKubernetesVersion } from '../build/versionSkew';
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellQuote } from '../ssh/shellQuote';
import { effectiveList, mergeUnitFiles, UnitFileSyntaxError } from '../systemd/unitFile';
import { readBinaryVersion, readUnitStatus, UnitStatus } from '../systemd/unitStatus';
import { buildDebugDropIn, DROP_IN_NAME } from './debugDropIn';
import { delveFlagsFor } from './delveFlags';
import type { KubeletLaunchConfig } from './launchConfig';
import { armScript, disarmScript, inspectScript, safeguardPaths, SafeguardPaths, SessionHolder, shArgv } from './nodeSafeguard';

export interface LaunchHooks {
  log: Logger;
  signal: AbortSignal;
  progress(step: string): void;
  uploadProgress(p: UploadProgress): void;
  /** Runs a local build (as a VS Code task); rejects when it fails. */
  runLocalBuild(command: string, cwd: string): Promise<void>;
  /** Streams a build that runs on the node. */
  buildOutput(chunk: string): void;
  /** Asked when the debug binary's version differs in a way that restarts containers. */
  confirmVersionSkew(message: string): Promise<boolean>;
  graceSeconds: number;
  /** A Delve binary on this machine to upload and use instead of the node's own. */
  localDlvPath?: string;
}

export interface StepTimings {
  [step: string]: number;
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
}

const GOARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export async function launchKubeletUnderDelve(node: NodeConnection, config: KubeletLaunchConfig, workspaceRoot: string | undefined, hooks: LaunchHooks): Promise<DebugTarget> {
  const timings: StepTimings = {};
  let mark = Date.now();
  const lap = (name: string) => {
    const now = Date.now();
    timings[name] = (timings[name] ?? 0) + (now - mark) / 1000;
    mark = now;
  };
  const cancelled = () => {
    if (hooks.signal.aborted) {
      throw errors.cancelled();
    }
  };
  const paths = safeguardPaths(config.unit);

  hooks.progress(`Connecting to ${node.spec}`);
  await node.client(hooks.signal);
  await node.runAsRoot('a root check (sudo -n true)', ['true']);
  await refuseIfHeld(node, paths);
  const status = await readUnitStatus(node, config.unit, hooks.signal);
  const execStart = await readEffectiveExecStart(node, status);
  const arch = await nodeArch(node);
  let dlvPath = config.dlvPath;
  if (hooks.localDlvPath) {
    hooks.progress('Uploading Delve');
    dlvPath = path.posix.join(path.posix.dirname(config.remoteBinary), 'dlv');
    await uploadBinary(node, hooks.localDlvPath, dlvPath, { signal: hooks.signal });
  }
  const delve = await nodeDelve(node, dlvPath);
  lap('checks');
  cancelled();

  // 1. The debug binary, built where the configuration says.
  const build = config.build;
  const substitute = (s: string) => s.replace(/\$\{arch\}/g, arch);
  let localBinary: string | undefined;
  let nodeBuiltBinary: string | undefined;
  if (build.where === 'local') {
    const cwd = build.cwd ? build.cwd : workspaceRoot;
    if (!cwd) {
      throw new UserError(ErrorCode.BuildFailed, 'build.where is "local" but no workspace folder is open. Open the Kubernetes tree, or set build.cwd.', ['openSettings']);
    }
    hooks.progress(`Building: ${substitute(build.command!)}`);
    await hooks.runLocalBuild(substitute(build.command!), cwd);
    localBinary = path.resolve(cwd, substitute(build.output!));
  } else if (build.where === 'node') {
    hooks.progress(`Building on ${node.spec}`);
    nodeBuiltBinary = path.posix.join(build.sourceDir!, substitute(build.output!));
    const result = await node.execAsRoot(['/bin/sh', '-c', `cd ${shellQuote(build.sourceDir!)} && ${substitute(build.command!)}`], {
      signal: hooks.signal,
      onStdout: (c) => hooks.buildOutput(c.toString('utf8')),
      onStderr: (c) => hooks.buildOutput(c.toString('utf8')),
    });
    if (result.code !== 0) {
      throw new UserError(ErrorCode.BuildFailed, `The build on ${node.spec} failed (exit ${result.code}); the kubelet was not touched. See the build output for the compiler's errors.`, ['showLog'], result.stderr);
    }
  } else {
    localBinary = build.binary!;
  }
  lap('build');
  cancelled();

  // 2. Delve must support the Go that built the binary.
  hooks.progress('Checking the debug binary');
  const info = await readBuildInfo(node, localBinary, nodeBuiltBinary);
  const compat = checkDelveSupportsGo(delve, info.goVersion);
  if (!compat.ok) {
    throw new UserError(ErrorCode.DelveTooOld, `${compat.reason}. Install ${compat.suggestion} on ${node.spec} (go install github.com/go-delve/delve/cmd/dlv@latest, then set dlvPath), or set kubelet.debug.localDlvPath to upload one from here, and try again; the kubelet was not touched.`, ['openSettings']);
  }
  lap('checks');

  // 3. Put the binary in place (never over the node's own kubelet).
  if (localBinary) {
    hooks.progress('Uploading the debug binary');
    const upload = await uploadBinary(node, localBinary, config.remoteBinary, { signal: hooks.signal, onProgress: hooks.uploadProgress });
    hooks.log.info(upload.skipped ? `The node already has this binary (sha256 ${upload.sha256.slice(0, 12)}…); upload skipped.`
      : `Uploaded ${(upload.bytes / 1e6).toFixed(1)} MB in ${upload.seconds.toFixed(2)} s.`);
  } else if (nodeBuiltBinary) {
    await node.runAsRoot('copying the binary into place', ['install', '-D', '-m', '0755', '--', nodeBuiltBinary, config.remoteBinary]);
  }
  lap('upload');
  cancelled();

  // 4. Version skew: a different minor (or crossing 1.31) changes the container hash.
  const [debugVersion, runningVersion] = await Promise.all([
    readBinaryVersion(node, config.remoteBinary),
    status.execStart[0] ? readBinaryVersion(node, status.execStart[0].path) : Promise.resolve(''),
  ]);
  const kubeVersion = parseKubernetesVersion(debugVersion);
  const skew = checkVersionSkew(parseKubernetesVersion(runningVersion), kubeVersion);
  if (skew && !(await hooks.confirmVersionSkew(skew))) {
    throw new UserError(ErrorCode.VersionSkewDeclined, 'Debugging was cancelled because of the version skew; the kubelet was not touched.');
  }
  lap('checks');
  cancelled();

  // 5. Arm the safeguard and restart the unit under Delve.
  hooks.progress(`Starting ${config.unit} under Delve`);
  const port = await pickPort(node);
  const sessionId = randomBytes(6).toString('hex');
  const holder: SessionHolder = { sessionId, holder: `${safeUser()}@${os.hostname()} (VS Code, pid ${process.pid})`, since: new Date().toISOString() };
  const dropInText = buildDebugDropIn({
    execStart,
    dlvPath: delve.path,
    port,
    remoteBinary: config.remoteBinary,
    allowOtherUsers: node.user !== 'root',
    dlvFlags: delveFlagsFor(config),
    extraArgs: config.args,
    env: config.env,
    sessionId,
  });
  const armed = await node.execAsRoot(shArgv(armScript({ paths, holder, wasActive: status.activeState === 'active', graceSeconds: hooks.graceSeconds, dropInText, loginUser: node.user ?? 'root' })));
  if (armed.code === 75) {
    throw heldError(node, armed.stdout);
  }
  if (armed.code !== 0) {
    throw errors.remoteCommandFailed(node.spec, `starting ${config.unit} under Delve`, armed.code, armed.stderr);
  }

  const restore = () => restoreNode(node, paths, status.execStart[0]?.path ?? '', port, sessionId);
  try {
    await waitForDelve(node, config.unit, port, hooks.signal);
  } catch (err) {
    await restore().catch((e: Error) => hooks.log.error(`Restoring after a failed start also failed: ${e.message}`));
    throw err;
  }
  lap('launch');
  const renewLease = async () => {
    const r = await node.exec(['touch', '-c', '--', paths.lease]);
    if (r.code !== 0) {
      throw errors.remoteCommandFailed(node.spec, 'renewing the safeguard lease', r.code, r.stderr);
    }
  };
  return { node, unit: config.unit, port, remoteBinary: config.remoteBinary, goVersion: info.goVersion, kubeVersion, timings, paths, restore, renewLease };
}

async function refuseIfHeld(node: NodeConnection, paths: SafeguardPaths): Promise<void> {
  const result = await node.exec(shArgv(inspectScript(paths)));
  const [state, ...rest] = result.stdout.trim().split('\n');
  if (state === 'held') {
    throw heldError(node, rest.join('\n'));
  }
  if (state === 'stale') {
    throw new UserError(ErrorCode.StaleSession, `${paths.unit} on ${node.spec} was left in the debug state by an earlier session. Run "Kubelet: Restore kubelet on node" first.`, ['restore']);
  }
}

function heldError(node: NodeConnection, sessionJson: string): UserError {
  let who = 'another session';
  try {
    const h = JSON.parse(sessionJson.trim()) as SessionHolder;
    who = `${h.holder}, since ${h.since}`;
  } catch {
    // An unreadable session file still means the node is taken.
  }
  return new UserError(ErrorCode.SessionHeld, `The kubelet on ${node.spec} is already being debugged by ${who}. Only one session per node is allowed; end that one first.`);
}

/** The unit's effective ExecStart as written in its files (so systemd expands it as before). */
async function readEffectiveExecStart(node: NodeConnection, status: UnitStatus): Promise<string> {
  const files = [status.fragmentPath, ...status.dropInPaths.filter((p) => !p.endsWith('/' + DROP_IN_NAME))].filter(Boolean);
  const texts = await Promise.all(files.map(async (p) => {
    const r = await node.execAsRoot(['cat', '--', p]);
    if (r.code !== 0) {
      throw errors.remoteCommandFailed(node.spec, `reading ${p}`, r.code, r.stderr);
    }
    return { path: p, text: r.stdout };
  }));
  let execs;
  try {
    execs = effectiveList(mergeUnitFiles(texts), 'Service', 'ExecStart');
  } catch (err) {
    if (err instanceof UnitFileSyntaxError) {
      throw new UserError(ErrorCode.UnsupportedUnit, `${err.message} Fix the unit file first; the kubelet was not touched.`);
    }
    throw err;
  }
  if (execs.length !== 1) {
    throw new UserError(ErrorCode.UnsupportedUnit, `${status.unit} on ${node.spec} has ${execs.length} ExecStart lines after its drop-ins; exactly one is needed to know what to debug.`);
  }
  return execs[0].value;
}

async function nodeArch(node: NodeConnection): Promise<string> {
  const machine = (await node.exec(['uname', '-m'])).stdout.trim();
  const arch = GOARCH[machine];
  if (!arch) {
    throw new UserError(ErrorCode.BuildFailed, `${node.spec} is a ${machine} machine, which this extension does not know how to build for. Use build.where = "none" with a binary built for it.`);
  }
  return arch;
}

async function nodeDelve(node: NodeConnection, dlvPath: string): Promise<{ path: string; version: string; minor: number }> {
  const result = await node.execAsRoot(['/bin/sh', '-c', 'p=$(command -v "$1") && "$p" version && echo "PATH=$p"', 'sh', dlvPath]);
  const version = parseDelveVersion(result.stdout);
  const found = /^PATH=(.+)$/m.exec(result.stdout)?.[1];
  if (result.code !== 0 || !version || !found) {
    throw new UserError(ErrorCode.DelveMissing, `Delve (${dlvPath}) is not installed on ${node.spec}, or does not run. Install a Delve that supports the Go version of your kubelet build (apt install delve, or go install github.com/go-delve/delve/cmd/dlv@latest) and set dlvPath if it is not on root's PATH, or set kubelet.debug.localDlvPath to upload one from here; the kubelet was not touched.`, ['openSettings'], result.stderr);
  }
  return { path: found, ...version };
}

async function readBuildInfo(node: NodeConnection, localBinary: string | undefined, nodeBinary: string | undefined): Promise<GoBuildInfo> {
  try {
    if (localBinary) {
      return await readLocalGoBuildInfo(localBinary);
    }
    const sftp = await node.sftp();
    const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(nodeBinary!, 'r', (err, h) => (err ? reject(err) : resolve(h))));
    try {
      return await readGoBuildInfo((offset, length) => new Promise((resolve, reject) => {
        const buffer = Buffer.alloc(length);
        sftp.read(handle, buffer, 0, length, offset, (err, bytesRead) => (err ? reject(err) : resolve(buffer.subarray(0, bytesRead))));
      }));
    } finally {
      sftp.close(handle, () => undefined);
    }
  } catch (err) {
    const where = localBinary ?? `${nodeBinary} on ${node.spec}`;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as { code?: number }).code === 2) {
      throw new UserError(ErrorCode.BuildFailed, `The build did not produce ${where}. Check build.output; the kubelet was not touched.`, ['openSettings']);
    }
    throw new UserError(ErrorCode.NotAGoBinary, `${where} is not a Go binary Delve can debug: ${(err as Error).message}`);
  }
}

/** 2345 (Delve's habit) when free, else a free port in 20000–29999; only ever on loopback. */
async function pickPort(node: NodeConnection): Promise<number> {
  const result = await node.exec(['ss', '-Htln']);
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

async function waitForDelve(node: NodeConnection, unit: string, port: number, signal: AbortSignal): Promise<void> {
  const script = [
    'i=0',
    'while [ $i -lt 300 ]; do',
    `  if ss -Htln ${shellQuote(`sport = :${port}`)} | grep -q .; then exit 0; fi`,
    `  if ! systemctl is-active --quiet -- ${shellQuote(unit)}; then exit 3; fi`,
    '  sleep 0.1; i=$((i+1))',
    'done',
    'exit 4',
  ].join('\n');
  const result = await node.exec(shArgv(script), { signal });
  if (result.code === 0) {
    return;
  }
  const journal = await node.execAsRoot(['journalctl', '--no-pager', '-o', 'cat', '-n', '15', '-u', unit]);
  const tail = journal.stdout.trim().split('\n').slice(-5).join(' | ');
  throw new UserError(ErrorCode.DelveDidNotStart, `Delve did not start listening on ${node.spec} (${result.code === 3 ? 'the unit stopped' : 'timed out after 30 s'}). The kubelet has been restored. Delve said: ${tail || '(nothing in the journal)'}`, ['showLog'], journal.stdout);
}

async function restoreNode(node: NodeConnection, paths: SafeguardPaths, originalBinary: string, port: number, sessionId: string): Promise<RestoreReport> {
  const result = await node.execAsRoot(shArgv(disarmScript(paths, sessionId)));
  if (result.code !== 0) {
    throw new UserError(ErrorCode.RestoreFailed, `Restoring ${paths.unit} on ${node.spec} failed (exit ${result.code}): ${result.stderr.trim()}. Run "Kubelet: Restore kubelet on node", or on the node: rm -f ${paths.dropIn}; systemctl daemon-reload; systemctl restart ${paths.unit}.`, ['retry', 'showLog']);
  }
  return checkRestored(node, paths, originalBinary, port);
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
    throw new UserError(ErrorCode.RestoreFailed, `Restoring ${unit} on ${node.spec} failed (exit ${result.code}): ${result.stderr.trim()}.`, ['retry', 'showLog']);
  }
  const status = await readUnitStatus(node, unit);
  return checkRestored(node, paths, status.execStart[0]?.path ?? '', port);
}

/** Whether a node still carries an earlier session's state; for the Nodes view and start-up check. */
export async function debugStateOf(node: NodeConnection, unit: string): Promise<'free' | 'held' | 'stale'> {
  const result = await node.exec(shArgv(inspectScript(safeguardPaths(unit))));
  const state = result.stdout.trim().split('\n')[0];
  return state === 'held' || state === 'stale' ? state : 'free';
}
