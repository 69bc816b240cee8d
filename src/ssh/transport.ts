// What a node's connection offers, whichever program carries it: ssh2 inside the extension or the
// system's OpenSSH. NodeConnection holds one of these once connected; callers never see which.
import type { SFTPWrapper } from 'ssh2';
import type { Duplex, Readable } from 'stream';
import type { ExecOptions, ExecResult } from './remoteExec';
import type { TransportKind } from './transportChoice';

/** A running remote command whose streams the caller carries itself (a relay, say). */
export interface CommandChannel extends Duplex {
  readonly stderr: Readable;
  /** Ends the command (the channel, or the ssh process that carries it). */
  close(): void;
  on(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'exit', listener: (code: number | null, signal?: string) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

export interface PutFileOptions {
  /** Mode of the new file (octal permissions). */
  mode: number;
  signal?: AbortSignal;
  onProgress?: (transferred: number, total: number) => void;
  /** ssh2's pipelining; OpenSSH's sftp uses its own measured best. */
  concurrency?: number;
  chunkSize?: number;
}

/** An SFTP failure as both transports report it: the SFTP status code when there is one. */
export type PutFileError = Error & { code?: number };

export interface NodeTransport {
  readonly kind: TransportKind;
  /** Runs one already shell-quoted command line as the login user. */
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  openCommand(command: string, signal?: AbortSignal): Promise<CommandChannel>;
  /** An SFTP session (ssh2's client API, whichever transport carries the bytes). */
  openSftp(): Promise<SFTPWrapper>;
  /** A TCP stream to host:port as seen from the node, without opening a local port. */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** Copies a local file to a path on the node, as fast as this transport can. */
  putFile(localPath: string, remotePath: string, options: PutFileOptions): Promise<void>;
  /** Called once, when the link is gone (not after close()). */
  onLost(listener: (cause: string) => void): void;
  close(): void;
}
