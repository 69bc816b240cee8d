// The second transport: the system's OpenSSH, for configs ssh2 cannot honour (certificates, PKCS#11,
// GSSAPI, Match exec, the user's ControlMaster). One master per node holds the connection; every
// command, stream and SFTP session is an `ssh -S` client of it, so only the master authenticates.
import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SFTPWrapper } from 'ssh2';
import { Duplex, Readable } from 'stream';
import { errors, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { ConnectPrompts } from './connect';
import { removeKnownHostCommand } from './knownHosts';
import { startAskpass } from './opensshAskpass';
import { writeConfigWrapper } from './opensshConfig';
import {
  commandArgs,
  masterArgs,
  muxClientOptions,
  sftpBatchArgs,
  sftpBinaryFor,
  sftpPutScript,
  stdioForwardArgs,
  subsystemArgs,
} from './opensshArgs';
import { sftpOverChild } from './opensshSftp';
import { ExecOptions, ExecOutput, ExecResult, watchExec } from './remoteExec';
import type { ResolvedHost } from './sshConfig';
import type { CommandChannel, NodeTransport, PutFileError, PutFileOptions } from './transport';

export interface OpensshStartOptions {
  sshBinary: string;
  userConfigFile: string;
  systemConfigFile: string;
  env: NodeJS.ProcessEnv;
  defaultTimeoutSeconds: number;
  log: Logger;
  signal?: AbortSignal;
  /** Where ssh's questions go (through SSH_ASKPASS); without them ssh runs in batch mode. */
  prompts?: ConnectPrompts;
}

/** How often the start-up looks for the master's socket (it appears once authentication is done). */
const SOCKET_POLL_MS = 20;
/** What the master printed last, kept to explain its exit. */
const STDERR_KEEP = 8192;
/** How long `ssh -O check` (and then the master's exit) may take before the master counts as gone. */
const MASTER_CHECK_MS = 3000;
const PROGRESS_POLL_MS = 250;

export class OpensshTransport implements NodeTransport {
  readonly kind = 'openssh';
  private lostListener?: (cause: string) => void;
  private closed = false;
  private masterExit?: string;
  private readonly children = new Set<ChildProcessWithoutNullStreams>();

  private constructor(
    private readonly host: ResolvedHost,
    private readonly sshBinary: string,
    private readonly dir: string,
    readonly controlPath: string,
    private readonly master: ChildProcessWithoutNullStreams,
    masterStderr: () => string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {
    master.on('exit', (code, signal) => {
      const stderr = masterStderr().trim();
      this.masterExit = stderr ? lastLine(stderr) : `the OpenSSH master exited (${signal ?? `exit ${code}`})`;
      if (!this.closed) {
        this.killChildren();
        void fs.rm(this.dir, { recursive: true, force: true });
        this.lostListener?.(this.masterExit);
      }
    });
  }

  /** Starts the master and resolves once it has logged in (its control socket exists). */
  static async start(host: ResolvedHost, o: OpensshStartOptions): Promise<OpensshTransport> {
    if (o.signal?.aborted) {
      throw errors.cancelled();
    }
    const dir = await privateDir();
    const controlPath = path.join(dir, 'c');
    const configFile = await writeConfigWrapper(dir, o.userConfigFile, o.systemConfigFile);
    const timeoutSeconds = host.connectTimeoutSeconds ?? o.defaultTimeoutSeconds;
    const args = masterArgs({
      sshBinary: o.sshBinary,
      configFile,
      target: host.sshTarget,
      controlPath,
      keepaliveSeconds: Math.max(1, Math.round(host.keepaliveIntervalMs / 1000)),
      keepaliveCountMax: host.keepaliveCountMax,
      connectTimeoutSeconds: timeoutSeconds,
      batchMode: !o.prompts,
      knownHostsFiles: host.knownHostsFiles,
    });
    o.log.debug(`openssh master: ${o.sshBinary} ${args.join(' ')}`);
    let stopMaster = () => undefined as void;
    const askpass = o.prompts ? await startAskpass(dir, host, o.prompts, o.log, () => stopMaster()) : undefined;
    const master = spawn(o.sshBinary, args, { env: { ...o.env, ...askpass?.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    master.stdin.end();
    stopMaster = () => master.kill();
    let stderr = '';
    master.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP)));
    master.stdout.resume();
    try {
      await waitForMaster(
        master,
        controlPath,
        () => stderr,
        host,
        timeoutSeconds,
        () => askpass?.hostKeyFingerprint,
        () => askpass?.asking === true,
        o.signal,
      );
    } catch (err) {
      master.kill();
      await fs.rm(dir, { recursive: true, force: true });
      // A login that failed after the person cancelled a question failed because they chose so.
      throw askpass?.cancelled ? errors.loginCancelled(host.user, host.alias) : err;
    } finally {
      // ssh asks only while logging in (here and in any ProxyJump hop's ssh).
      askpass?.close();
    }
    o.log.info(`Connected to ${host.alias} with the system's OpenSSH (master pid ${master.pid}).`);
    return new OpensshTransport(host, o.sshBinary, dir, controlPath, master, () => stderr, o.env, o.log);
  }

  /** The master's process id, for tests of a lost connection. */
  get masterPid(): number | undefined {
    return this.master.pid;
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(errors.cancelled());
        return;
      }
      const child = this.spawnClient(commandArgs(this.controlPath, this.host.hostName, command));
      const output = new ExecOutput(options);
      // Cancel and time limits end the ssh client by its pid. The master holds the client's pipes
      // until the node closes the session, which waits for the command; so the client's exit, not
      // its pipes, settles a stopped command, and dropping our ends stops the master relaying output.
      const watch = watchExec(options, () => child.kill());
      child.stdout.on('data', output.stdout);
      child.stderr.on('data', output.stderr);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (!settled) {
          settled = true;
          watch.done();
          outcome();
        }
      };
      child.on('error', (err) => settle(() => reject(errors.transportUnavailable(this.host.alias, 'openssh', err.message))));
      child.on('exit', (code) => {
        if (watch.cancelled) {
          settle(() => reject(errors.cancelled()));
        } else if (watch.timedOut && (code === null || code === 255)) {
          // ssh ends with 255 on the SIGTERM we sent; any other code means the command finished first.
          settle(() => reject(errors.remoteCommandTimedOut(command, watch.limitMs / 1000)));
        } else {
          return;
        }
        child.stdout.destroy();
        child.stderr.destroy();
      });
      child.on('close', (code, signal) =>
        settle(() => {
          const result = output.result(code, signal?.replace(/^SIG/, ''));
          if (code === 255) {
            // 255 is also ssh's own failure: with the master gone, the connection dropped before the
            // command ended, which ssh2 reports as no exit code at all; callers read it the same way.
            void this.confirmMasterGone().then((gone) => resolve(gone ? { ...result, code: null } : result));
          } else {
            resolve(result);
          }
        }),
      );
      child.stdin.end(options.stdin);
    });
  }

  async openCommand(command: string, signal?: AbortSignal): Promise<CommandChannel> {
    if (signal?.aborted) {
      throw errors.cancelled();
    }
    return new ChildChannel(this.spawnClient(commandArgs(this.controlPath, this.host.hostName, command)));
  }

  async openSftp(): Promise<SFTPWrapper> {
    const child = this.spawnClient(subsystemArgs(this.controlPath, this.host.hostName, 'sftp'));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP)));
    return sftpOverChild(child, () => lastLine(stderr) || this.masterExit || 'ssh -s sftp ended');
  }

  async forwardOut(host: string, port: number): Promise<Duplex> {
    const channel = new ChildChannel(this.spawnClient(stdioForwardArgs(this.controlPath, this.host.hostName, host, port)));
    let stderr = '';
    channel.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP)));
    // ssh -W has no "opened" answer; a refused forward shows as its exit, which the stream's reader is told.
    channel.on('exit', (code: number | null) => {
      if (code !== 0 && channel.listenerCount('error') > 0) {
        channel.emit('error', new Error(`the OpenSSH stdio forward to ${host}:${port} ended: ${lastLine(stderr) || `exit ${code}`}`));
      }
    });
    return channel;
  }

  /**
   * `sftp -B 32768 -R 8` in batch mode, through the master. The local file goes in under a plain
   * name (a link in the private folder), since sftp's batch quoting and globbing would mangle others.
   */
  async putFile(localPath: string, remotePath: string, options: PutFileOptions): Promise<void> {
    if (options.signal?.aborted) {
      throw errors.cancelled();
    }
    const link = path.join(this.dir, `put-${process.hrtime.bigint()}`);
    await fs.symlink(path.resolve(localPath), link);
    const { size } = await fs.stat(localPath);
    try {
      const child = this.spawnChild(sftpBinaryFor(this.sshBinary), sftpBatchArgs(this.sshBinary, this.controlPath, this.host.hostName));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP)));
      child.stdout.resume();
      await new Promise<void>((resolve, reject) => {
        let aborted = false;
        const onAbort = () => {
          aborted = true;
          child.kill();
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        child.on('error', (err) => reject(errors.transportUnavailable(this.host.alias, 'openssh', `sftp: ${err.message}`)));
        child.on('close', (code, signal) => {
          options.signal?.removeEventListener('abort', onAbort);
          if (aborted) {
            reject(errors.cancelled());
          } else if (code === 0) {
            options.onProgress?.(size, size);
            resolve();
          } else {
            void this.confirmMasterGone().then((gone) =>
              reject(
                gone
                  ? errors.connectionLost(this.host.alias, this.masterExit ?? 'the OpenSSH master is gone')
                  : sftpFailure(stderr, code, signal),
              ),
            );
          }
        });
        child.stdin.end(sftpPutScript(link, remotePath, options.mode));
        // sftp shows no progress without a terminal; the staging file's size on the node is the truth.
        options.onProgress?.(0, size);
        const progress = options.onProgress
          ? this.watchRemoteSize(remotePath, (bytes) => options.onProgress?.(Math.min(bytes, size), size))
          : undefined;
        child.on('close', () => progress?.stop());
      });
    } finally {
      await fs.rm(link, { force: true });
    }
  }

  /** Reports the size of a file on the node every PROGRESS_POLL_MS through an SFTP session of its own. */
  private watchRemoteSize(remotePath: string, report: (bytes: number) => void): { stop(): void } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const session = this.openSftp();
    session.then(
      (sftp) => {
        const poll = () =>
          sftp.stat(remotePath, (err, stats) => {
            if (stopped) {
              return;
            }
            if (!err) {
              report(stats.size);
            }
            timer = setTimeout(poll, PROGRESS_POLL_MS);
          });
        if (!stopped) {
          poll();
        }
      },
      () => undefined, // progress is a nicety; the upload itself reports failures
    );
    return {
      stop: () => {
        stopped = true;
        clearTimeout(timer);
        void session.then(
          (sftp) => sftp.end(),
          () => undefined,
        );
      },
    };
  }

  onLost(listener: (cause: string) => void): void {
    this.lostListener = listener;
  }

  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.killChildren();
    // Ending the master by its pid ends every client of it; the private folder goes with it.
    this.master.kill();
    void fs.rm(this.dir, { recursive: true, force: true });
  }

  /**
   * After an ssh client failed: is the master gone, or going? `ssh -O check` asks it; when it no
   * longer answers, its exit (and the 'lost' state) follows within moments.
   */
  private async confirmMasterGone(): Promise<boolean> {
    if (this.masterGone()) {
      return true;
    }
    const answers = await new Promise<boolean>((resolve) => {
      const check = spawn(this.sshBinary, [...muxClientOptions(this.controlPath), '-O', 'check', '--', this.host.hostName], {
        env: this.env,
        stdio: 'ignore',
      });
      const timer = setTimeout(() => check.kill(), MASTER_CHECK_MS);
      check.on('error', () => resolve(false));
      check.on('close', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
    if (answers) {
      return false;
    }
    if (!this.masterGone()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, MASTER_CHECK_MS);
        this.master.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  private masterGone(): boolean {
    return this.master.exitCode !== null || this.master.signalCode !== null;
  }

  private spawnClient(args: string[]): ChildProcessWithoutNullStreams {
    return this.spawnChild(this.sshBinary, args);
  }

  private spawnChild(binary: string, args: string[]): ChildProcessWithoutNullStreams {
    this.log.trace(`openssh: ${binary} ${args.join(' ')}`);
    const child = spawn(binary, args, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined); // EPIPE when the command ended first; its exit says the rest.
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
    return child;
  }

  private killChildren(): void {
    for (const child of this.children) {
      child.kill();
    }
    this.children.clear();
  }
}

/** A command (or stdio forward) carried by one ssh client process, shaped like an ssh2 channel. */
class ChildChannel extends Duplex implements CommandChannel {
  readonly stderr: Readable;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    super({ allowHalfOpen: true });
    this.stderr = child.stderr;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) {
        child.stdout.pause();
      }
    });
    child.stdout.on('end', () => this.push(null));
    // Like ssh2's 'exit': a code, or null and the signal's name without SIG.
    child.on('exit', (code, signal) => this.emit('exit', code, signal ? signal.replace(/^SIG/, '') : undefined));
    child.on('close', () => this.emit('close'));
    child.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.child.stdin.destroyed) {
      callback();
      return;
    }
    this.child.stdin.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.child.kill();
    callback(error);
  }

  close(): void {
    this.child.kill();
  }
}

/** A private folder for the control socket, short enough for a unix socket path (about 104 bytes). */
async function privateDir(): Promise<string> {
  const base = os.tmpdir().length <= 40 ? os.tmpdir() : '/tmp';
  return fs.mkdtemp(path.join(base, 'krd-ssh-')); // mkdtemp makes it 0700
}

function waitForMaster(
  master: ChildProcessWithoutNullStreams,
  controlPath: string,
  stderr: () => string,
  host: ResolvedHost,
  timeoutSeconds: number,
  askedFingerprint: () => string | undefined,
  asking: () => boolean,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) {
        return;
      }
      settled = true;
      clearInterval(poll);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      master.removeListener('exit', onExit);
      if (err) {
        reject(err);
      } else {
        resolve();
      }
    };
    const onAbort = () => finish(errors.cancelled());
    // The master's own stderr explains its exit; give the pipe a moment to deliver the last of it.
    const onExit = () => setTimeout(() => finish(masterFailure(host, stderr(), timeoutSeconds, askedFingerprint())), 50);
    signal?.addEventListener('abort', onAbort);
    master.on('exit', onExit);
    master.on('error', (err) => finish(errors.transportUnavailable(host.alias, 'openssh', err.message)));
    // ConnectTimeout covers the TCP connect; this covers a login that stalls after it (a slow proxy,
    // say). A question open in VS Code holds it: a person typing a one-time code is not a stall.
    const onTimeout = () =>
      asking() ? (timer = setTimeout(onTimeout, 1000)) : finish(errors.connectTimeout(host.alias, timeoutSeconds * 2));
    let timer = setTimeout(onTimeout, timeoutSeconds * 2000);
    const poll = setInterval(() => {
      fs.stat(controlPath).then(
        () => finish(),
        () => undefined,
      );
    }, SOCKET_POLL_MS);
  });
}

/** Turns the master's last words into an error that blames the right thing. */
export function masterFailure(host: ResolvedHost, stderr: string, timeoutSeconds: number, askedFingerprint?: string): UserError {
  const text = stderr.trim();
  if (/Permission denied|Too many authentication failures/i.test(text)) {
    return errors.opensshFailed(
      host.alias,
      'log in to',
      `Check the key, agent or certificate it offers and any answers given (\`ssh ${host.alias} true\` in a terminal shows the same), or set kubelet.ssh.transport to "ssh2".`,
      text,
    );
  }
  const changed = /REMOTE HOST IDENTIFICATION HAS CHANGED[\s\S]*?(SHA256:[A-Za-z0-9+/=]+)[\s\S]*?Offending \S+ key in (.+):(\d+)/.exec(
    text,
  );
  if (changed) {
    const [, fingerprint, file, line] = changed;
    return errors.hostKeyChanged(host.alias, fingerprint, file, Number(line), removeKnownHostCommand(file, host.hostName, host.port));
  }
  if (/Host key verification failed|No \S+ host key is known/i.test(text)) {
    // OpenSSH shows the fingerprint only when it asks; a strict refusal has none to show.
    return errors.hostKeyRejected(host.alias, askedFingerprint ?? 'not shown by OpenSSH under StrictHostKeyChecking yes');
  }
  const viaJump = /(?:channel \d+: open failed: \S+ failed: (.+))|(stdio forwarding failed)/.exec(text);
  if (viaJump && host.proxyJump.length > 0) {
    const jump = host.proxyJump[host.proxyJump.length - 1];
    return errors.proxyJumpFailed(jump.alias, `${host.hostName}:${host.port}`, viaJump[1]?.trim() ?? 'stdio forwarding failed');
  }
  if (host.proxyCommand && /kex_exchange_identification|ssh_exchange_identification|Connection closed by UNKNOWN/.test(text)) {
    // What is left once OpenSSH's own lines are gone is the ProxyCommand's stderr.
    const own = /kex_exchange_identification|ssh_exchange_identification|Connection closed by UNKNOWN|banner exchange/;
    const fromProxy = text
      .split('\n')
      .filter((l) => !own.test(l))
      .join('\n');
    return errors.proxyCommandFailed(host.alias, host.proxyCommand, 'closed the connection before an SSH server answered', fromProxy);
  }
  if (
    /Could not resolve hostname|Connection refused|No route to host|Network is unreachable/i.test(text) &&
    !host.proxyCommand &&
    host.proxyJump.length === 0
  ) {
    return errors.unreachable(host.alias, lastLine(text));
  }
  if (/timed out/i.test(text) && !host.proxyCommand && host.proxyJump.length === 0) {
    return errors.connectTimeout(host.alias, timeoutSeconds);
  }
  return errors.opensshFailed(host.alias, 'connect to', `Run \`ssh ${host.alias} true\` in a terminal to see the whole story.`, text);
}

/** sftp's stderr as the SFTP status codes the upload maps (3 permission denied, 4 failure such as a full disk). */
function sftpFailure(stderr: string, code: number | null, signal: string | null): PutFileError {
  const message = lastLine(stderr) || `sftp ended with ${signal ?? `exit ${code}`}`;
  const err: PutFileError = new Error(message);
  if (/permission denied/i.test(stderr)) {
    err.code = 3;
  } else if (/no space|quota|failure/i.test(stderr)) {
    err.code = 4;
  }
  return err;
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1].trim().slice(0, 300);
}
