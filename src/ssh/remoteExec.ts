// Runs one command on an open connection: streamed output, exit code, optional stdin, a time limit,
// and cancellation that closes the channel (the remote side gets SIGHUP from sshd).
import type { Client, ClientChannel } from 'ssh2';
import { errors } from '../common/errors';

export interface ExecOptions {
  stdin?: string | Buffer;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** Keep at most this many bytes of each output stream in the result (the callbacks see all). */
  maxBuffer?: number;
  /**
   * The command is cut off (channel closed) after this long; 2 minutes unless given. Streams that live
   * as long as a session (a followed journal) pass Infinity and end through `signal` instead.
   */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;
export const DEFAULT_EXEC_TIMEOUT_MS = 120_000;

export function execOn(client: Client, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(errors.cancelled());
      return;
    }
    client.exec(command, (err, channel) => {
      if (err) {
        reject(err);
        return;
      }
      const output = new ExecOutput(options);
      const watch = watchExec(options, () => channel.close());
      let code: number | null = null;
      let signalName: string | undefined;
      channel.on('data', output.stdout);
      channel.stderr.on('data', output.stderr);
      channel.on('exit', (exitCode: number | null, sig?: string) => {
        code = exitCode;
        signalName = sig;
      });
      channel.on('close', () => {
        watch.done();
        if (watch.cancelled) {
          reject(errors.cancelled());
          return;
        }
        if (watch.timedOut && code === null) {
          reject(errors.remoteCommandTimedOut(command, watch.limitMs / 1000));
          return;
        }
        resolve(output.result(code, signalName));
      });
      if (options.stdin !== undefined) {
        channel.end(options.stdin);
      } else {
        channel.end();
      }
    });
  });
}

/** A command's output for its ExecResult, each stream kept up to maxBuffer; the callbacks see all. */
export class ExecOutput {
  private readonly out: Buffer[] = [];
  private readonly errOut: Buffer[] = [];
  private outLen = 0;
  private errLen = 0;
  private readonly max: number;

  constructor(private readonly options: ExecOptions) {
    this.max = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
  }

  readonly stdout = (chunk: Buffer): void => {
    this.options.onStdout?.(chunk);
    if (this.outLen < this.max) {
      this.out.push(chunk);
      this.outLen += chunk.length;
    }
  };

  readonly stderr = (chunk: Buffer): void => {
    this.options.onStderr?.(chunk);
    if (this.errLen < this.max) {
      this.errOut.push(chunk);
      this.errLen += chunk.length;
    }
  };

  result(code: number | null, signal: string | undefined): ExecResult {
    return { code, signal, stdout: Buffer.concat(this.out).toString('utf8'), stderr: Buffer.concat(this.errOut).toString('utf8') };
  }
}

/** The abort signal and time limit of one command: both call `stop`, and say afterwards which did. */
export function watchExec(
  options: ExecOptions,
  stop: () => void,
): { readonly cancelled: boolean; readonly timedOut: boolean; limitMs: number; done(): void } {
  const state = { cancelled: false, timedOut: false };
  const onAbort = () => {
    state.cancelled = true;
    stop();
  };
  options.signal?.addEventListener('abort', onAbort);
  const limitMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const timer = Number.isFinite(limitMs)
    ? setTimeout(() => {
        state.timedOut = true;
        stop();
      }, limitMs)
    : undefined;
  return {
    get cancelled() {
      return state.cancelled;
    },
    get timedOut() {
      return state.timedOut;
    },
    limitMs,
    done() {
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(timer);
    },
  };
}

/** Opens an exec channel for a command whose streams the caller carries itself (a relay, say). */
export function openExecChannel(client: Client, command: string, signal?: AbortSignal): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(errors.cancelled());
      return;
    }
    client.exec(command, (err, channel) => (err ? reject(err) : resolve(channel)));
  });
}
