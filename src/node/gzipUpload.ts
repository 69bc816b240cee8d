// The compressed way to send a file: gzip -1 (Node's zlib, in its thread pool) into an exec channel that
// runs `gzip -dc > STAGING` on the node, so only the compressed bytes cross the link. The node's
// Debian has gzip (it is Essential) but no zstd, and Node 20's zlib has no zstd either.
import { createReadStream, promises as fs } from 'fs';
import { pipeline } from 'stream/promises';
import { createGzip, gzip } from 'zlib';
import { errors, ErrorCode, UserError } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellCommand } from '../ssh/shellQuote';

/** gzip's level: 1 is about 100 MB/s here and already gives 3.2× on a Go debug binary (level 6: 3.4×, 4× slower). */
export const GZIP_LEVEL = 1;

/** The stream is cut off when no byte has moved for this long (a dead link, a stuck node). */
const STALL_MS = 60_000;
/** How long an exit status may trail the channel's close before the command counts as ended without one. */
const EXIT_AFTER_CLOSE_MS = 2000;

export interface CompressionSample {
  ratio: number;
  bytesPerSecond: number;
}

/** gzip -1's ratio and speed on four 1 MiB samples spread over the file (code, data and DWARF differ). */
export async function sampleCompression(localPath: string, size: number): Promise<CompressionSample> {
  const piece = Math.min(1024 * 1024, Math.floor(size / 4));
  const handle = await fs.open(localPath, 'r');
  try {
    let input = 0;
    let output = 0;
    const started = performance.now();
    for (const at of [1, 3, 5, 7].map((k) => Math.floor((size * k) / 8 - piece / 2))) {
      const buf = Buffer.alloc(piece);
      const { bytesRead } = await handle.read(buf, 0, piece, Math.max(0, at));
      const packed = await new Promise<Buffer>((resolve, reject) =>
        gzip(buf.subarray(0, bytesRead), { level: GZIP_LEVEL }, (err, out) => (err ? reject(err) : resolve(out))),
      );
      input += bytesRead;
      output += packed.length;
    }
    const seconds = (performance.now() - started) / 1000;
    return { ratio: input / Math.max(output, 1), bytesPerSecond: input / Math.max(seconds, 1e-6) };
  } finally {
    await handle.close();
  }
}

export interface GzipSendOptions {
  signal?: AbortSignal;
  /** Uncompressed bytes read so far. */
  onBytes?: (read: number) => void;
}

/**
 * Streams `localPath` compressed into `staging` on the node (written as the login user, like SFTP).
 * Resolves once the node's gzip has exited 0; rejects with a UserError naming the cause otherwise.
 */
export async function sendGzipped(node: NodeConnection, localPath: string, staging: string, options: GzipSendOptions = {}): Promise<void> {
  const { signal } = options;
  // A command channel of either transport (an ssh2 exec channel, or an ssh client of the OpenSSH master).
  const channel = await node.openCommand(shellCommand(['/bin/sh', '-c', 'gzip -dc > "$1"', 'sh', staging]), signal);
  let stderr = '';
  let code: number | null = null;
  let cause: UserError | undefined;
  channel.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4096)));
  channel.on('data', () => undefined);
  // The exit status can trail the close (an OpenSSH client process): give it a moment, not forever.
  const closed = new Promise<void>((resolve) => {
    let exited = false;
    let wasClosed = false;
    channel.once('exit', (c: number | null) => {
      code = c;
      exited = true;
      if (wasClosed) {
        resolve();
      }
    });
    channel.once('close', () => {
      wasClosed = true;
      if (exited) {
        resolve();
      } else {
        setTimeout(resolve, EXIT_AFTER_CLOSE_MS);
      }
    });
  });

  const file = createReadStream(localPath, { highWaterMark: 1024 * 1024 });
  const packer = createGzip({ level: GZIP_LEVEL, chunkSize: 64 * 1024 });
  let read = 0;
  let moved = Date.now();
  file.on('data', (c) => {
    read += c.length;
    moved = Date.now();
    options.onBytes?.(read);
  });
  const stop = (why: UserError) => {
    cause ??= why;
    file.destroy();
    packer.destroy();
    channel.close();
  };
  const onAbort = () => stop(errors.cancelled());
  signal?.addEventListener('abort', onAbort, { once: true });
  const watchdog = setInterval(() => {
    if (Date.now() - moved > STALL_MS) {
      stop(new UserError(ErrorCode.UploadFailed, `The upload to ${node.spec} stalled: nothing moved for ${STALL_MS / 1000} s.`, ['retry']));
    }
  }, 1000);
  let piped: Error | undefined;
  try {
    // A pipe that fails because the channel closed is explained by the node's gzip (its exit and stderr).
    piped = await pipeline(file, packer, channel).then(
      () => undefined,
      (err: Error) => err,
    );
    await closed;
  } finally {
    clearInterval(watchdog);
    signal?.removeEventListener('abort', onAbort);
  }
  if (cause) {
    throw cause;
  }
  if (code !== 0) {
    throw gzipFailure(node, staging, code, stderr || piped?.message || '');
  }
}

function gzipFailure(node: NodeConnection, staging: string, code: number | null, stderr: string): UserError {
  const said = stderr.trim();
  if (/no space|quota/i.test(said)) {
    return new UserError(
      ErrorCode.NodeDiskFull,
      `${node.spec} ran out of disk space while receiving the debug binary (${said}). Nothing was changed; free some space on the node and try again.`,
      ['retry'],
    );
  }
  return new UserError(
    ErrorCode.UploadFailed,
    `Uploading the debug binary to ${node.spec} failed: the node's gzip writing ${staging} ${code === null ? 'was ended' : `exited with ${code}`}${said ? `: ${said}` : ''}. The binary on the node was not changed; try again.`,
    ['retry', 'showLog'],
  );
}
