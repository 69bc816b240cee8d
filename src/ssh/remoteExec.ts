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
  const max = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
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
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let code: number | null = null;
      let signalName: string | undefined;
      let cancelled = false;
      let timedOut = false;
      const onAbort = () => {
        cancelled = true;
        channel.close();
      };
      options.signal?.addEventListener('abort', onAbort);
      const limit = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
      const timer = Number.isFinite(limit)
        ? setTimeout(() => {
            timedOut = true;
            channel.close();
          }, limit)
        : undefined;
      channel.on('data', (chunk: Buffer) => {
        options.onStdout?.(chunk);
        if (outLen < max) {
          out.push(chunk);
          outLen += chunk.length;
        }
      });
      channel.stderr.on('data', (chunk: Buffer) => {
        options.onStderr?.(chunk);
        if (errLen < max) {
          errOut.push(chunk);
          errLen += chunk.length;
        }
      });
      channel.on('exit', (exitCode: number | null, sig?: string) => {
        code = exitCode;
        signalName = sig;
      });
      channel.on('close', () => {
        options.signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        if (cancelled) {
          reject(errors.cancelled());
          return;
        }
        if (timedOut && code === null) {
          reject(errors.remoteCommandTimedOut(command, limit / 1000));
          return;
        }
        resolve({ code, signal: signalName, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
      });
      if (options.stdin !== undefined) {
        channel.end(options.stdin);
      } else {
        channel.end();
      }
    });
  });
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
