// The default transport: one ssh2 connection (through any ProxyJump chain) that carries every
// command, SFTP session and forwarded stream as channels of its own.
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { errors } from '../common/errors';
import type { OpenConnection } from './connect';
import { ExecOptions, ExecResult, execOn, openExecChannel } from './remoteExec';
import type { CommandChannel, NodeTransport, PutFileError, PutFileOptions } from './transport';

export class Ssh2Transport implements NodeTransport {
  readonly kind = 'ssh2';
  private closed = false;
  private lostListener?: (cause: string) => void;
  private lostCause?: string;

  /** `sharedSftp`: the connection's one SFTP session, which the upload uses too, as it always has. */
  constructor(
    readonly open: OpenConnection,
    private readonly sharedSftp: () => Promise<SFTPWrapper>,
  ) {
    const gone = (cause: string) => {
      if (this.closed || this.lostCause !== undefined) {
        return;
      }
      this.lostCause = cause;
      for (const c of open.chain) {
        c.end();
      }
      this.lostListener?.(cause);
    };
    for (const c of open.chain) {
      c.on('error', (err: Error) => gone(err.message));
      c.on('close', () => gone('closed by the node or the network'));
    }
  }

  exec(command: string, options: ExecOptions): Promise<ExecResult> {
    return execOn(this.open.client, command, options);
  }

  async openCommand(command: string, signal?: AbortSignal): Promise<CommandChannel> {
    return (await openExecChannel(this.open.client, command, signal)) as ClientChannel & CommandChannel;
  }

  openSftp(): Promise<SFTPWrapper> {
    return new Promise<SFTPWrapper>((resolve, reject) => this.open.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
  }

  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.open.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  /** fastPut with 8 × 128 KiB in flight: ssh2's best measured upload (see SSH-PERF.md). */
  async putFile(localPath: string, remotePath: string, options: PutFileOptions): Promise<void> {
    const sftp = await this.sharedSftp();
    await new Promise<void>((resolve, reject) => {
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        // ssh2 cannot stop a fastPut; ending the SFTP session fails its requests at once.
        sftp.end();
        reject(errors.cancelled());
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      sftp.fastPut(
        localPath,
        remotePath,
        {
          concurrency: options.concurrency ?? 8,
          chunkSize: options.chunkSize ?? 128 * 1024,
          mode: options.mode,
          step: (transferred, _chunk, total) => options.onProgress?.(transferred, total),
        },
        (err) => {
          options.signal?.removeEventListener('abort', onAbort);
          if (!aborted) {
            if (err) {
              reject(err as PutFileError);
            } else {
              resolve();
            }
          }
        },
      );
    });
  }

  onLost(listener: (cause: string) => void): void {
    this.lostListener = listener;
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.open.chain].reverse()) {
      c.end();
    }
  }
}
