// Uploads the debug binary: skipped when the node already has the same SHA-256; otherwise SFTP with
// several large requests in flight into a temporary file that is renamed into place, so a half-sent
// binary never sits where the kubelet could run it. The transport copies the bytes its fastest way:
// ssh2 fastPut with 8 × 128 KiB in flight, or OpenSSH's sftp -B 32768 -R 8 (see SSH-PERF.md). On a
// slow link SFTP gives way, after a short measurement, to a gzip stream (gzipUpload.ts, uploadMethod.ts).
import { createHash, randomBytes } from 'crypto';
import { createReadStream, promises as fs } from 'fs';
import * as path from 'path';
import { errors, ErrorCode, UserError } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';
import { isSftpBatchSafe } from '../ssh/opensshArgs';
import type { PutFileError } from '../ssh/transport';
import { sampleCompression, sendGzipped } from './gzipUpload';
import { chooseUploadMethod, MEASURE_WINDOW_MS, UploadChoice, worthJudging } from './uploadMethod';

export interface UploadProgress {
  transferred: number;
  total: number;
  bytesPerSecond: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
  onProgress?: (p: UploadProgress) => void;
  /** Requests in flight and their size; measured best on loopback: 8 × 128 KiB. */
  concurrency?: number;
  chunkSize?: number;
  /** 'auto' (the default): SFTP, switching to a gzip stream when the link measures slower than compression. */
  method?: 'auto' | 'sftp' | 'gzip';
}

export interface UploadResult {
  skipped: boolean;
  bytes: number;
  seconds: number;
  sha256: string;
  /** How the bytes went (undefined when skipped), and on 'auto' the estimates the choice was made on. */
  method?: 'sftp' | 'gzip';
  choice?: UploadChoice & { linkBytesPerSecond: number; compressionRatio: number };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

export async function remoteSha256(node: NodeConnection, remotePath: string): Promise<string | undefined> {
  const result = await node.execAsRoot(['sha256sum', '--', remotePath]);
  return result.code === 0 ? result.stdout.split(/\s/)[0] : undefined;
}

/** Free bytes in the directory that will hold `remotePath` (or its nearest existing parent). */
export async function remoteFreeBytes(node: NodeConnection, remotePath: string): Promise<number> {
  const dir = path.posix.dirname(remotePath);
  const script = 'd=$1; while [ ! -d "$d" ]; do d=$(dirname "$d"); done; df -P -B1 "$d" | awk \'NR==2 {print $4}\'';
  const result = await node.exec(['/bin/sh', '-c', script, 'sh', dir]);
  const free = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isFinite(free)) {
    throw errors.remoteCommandFailed(node.spec, `checking free space for ${dir}`, result.code, result.stderr);
  }
  return free;
}

/**
 * Beside the binary: "sha256 size mtime ctime" as of our upload, so an unchanged binary needs no
 * hashing. Any later write changes the ctime (nanoseconds), which nobody can set back.
 */
export function sidecarPath(remotePath: string): string {
  return `${remotePath}.krd-sha256`;
}

/**
 * The SHA-256 our last upload recorded for `remotePath`, if the file is still exactly as we left it
 * (same size, mtime and ctime); undefined otherwise. One round trip instead of hashing 100+ MB on the node.
 */
async function recordedSha256(node: NodeConnection, remotePath: string): Promise<string | undefined> {
  const r = await node.execAsRoot([
    '/bin/sh',
    '-c',
    'stat -c "%s %.9Y %.9Z" -- "$1" && cat -- "$2"',
    'sh',
    remotePath,
    sidecarPath(remotePath),
  ]);
  const [now, recorded] = r.stdout.split('\n');
  const m = /^([0-9a-f]{64}) (\d+ [\d.]+ [\d.]+)$/.exec(recorded ?? '');
  return r.code === 0 && m && m[2] === now ? m[1] : undefined;
}

/** The exit code of the placing script when the staged file is not the local file's size. */
const SIZE_MISMATCH = 86;

export async function uploadBinary(
  node: NodeConnection,
  localPath: string,
  remotePath: string,
  options: UploadOptions = {},
): Promise<UploadResult> {
  const started = Date.now();
  const [{ size }, localSha, remoteSha] = await Promise.all([fs.stat(localPath), sha256File(localPath), recordedSha256(node, remotePath)]);
  if (remoteSha === localSha) {
    return { skipped: true, bytes: size, seconds: (Date.now() - started) / 1000, sha256: localSha };
  }
  const free = await remoteFreeBytes(node, remotePath);
  const needed = size + 16 * 1024 * 1024;
  if (free < needed) {
    throw new UserError(
      ErrorCode.NodeDiskFull,
      `${node.spec} has ${mib(free)} free for ${path.posix.dirname(remotePath)}, but the debug binary needs ${mib(needed)}. Free some space on the node (for example old images with crictl rmi --prune), or set remoteBinary to a roomier place.`,
    );
  }

  const asRoot = node.user === 'root';
  const dir = path.posix.dirname(remotePath);
  const nextToTarget = `${dir}/.${path.posix.basename(remotePath)}.upload-${randomBytes(4).toString('hex')}`;
  // Root writes next to the target, so the rename is atomic; others stage in /var/tmp and sudo-install.
  // OpenSSH's sftp batch takes only plain paths, so an unusual target directory stages in /var/tmp too.
  const atomic = asRoot && (node.transportKind !== 'openssh' || isSftpBatchSafe(nextToTarget));
  const staging = atomic ? nextToTarget : `/var/tmp/krd-upload-${randomBytes(6).toString('hex')}`;
  if (atomic) {
    await node.runAsRoot(`creating ${dir}`, ['mkdir', '-p', '--', dir]);
  }
  let written = staging;
  let method: 'sftp' | 'gzip' = options.method === 'gzip' ? 'gzip' : 'sftp';
  let choice: UploadResult['choice'];
  const progress = (transferred: number) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    options.onProgress?.({ transferred, total: size, bytesPerSecond: transferred / seconds });
  };
  try {
    if (method === 'sftp') {
      const judge =
        options.method === 'sftp' ? undefined : (m: { sent: number; linkBytesPerSecond: number }) => judgeLink(localPath, size, m);
      const outcome = await sftpPut(node, localPath, staging, remotePath, options, judge);
      if (outcome) {
        // SFTP's last writes may still land in its file, so the stream goes to a fresh one.
        choice = outcome;
        method = 'gzip';
        await node.exec(['rm', '-f', '--', staging]).catch(() => undefined);
        written = `${staging}-gz`;
      }
    }
    if (method === 'gzip') {
      let last = 0;
      await sendGzipped(node, localPath, written, {
        signal: options.signal,
        onBytes: (read) => {
          const now = Date.now();
          if (now - last > 200 || read === size) {
            last = now;
            progress(read);
          }
        },
      });
    }
    // Into place, then record what is there; SSH's MACs (and gzip's CRC) vouch for the bytes, the size
    // check before the rename catches a transfer cut short and leaves the old binary where it was.
    const place = atomic ? 'mv -f -- "$1" "$2"' : 'install -D -m 0755 -- "$1" "$2" && rm -f -- "$1"';
    const placed = await node.execAsRoot([
      '/bin/sh',
      '-c',
      `s=$(stat -c %s -- "$1") || exit 1; [ "$s" = "$5" ] || { echo "$s" >&2; exit ${SIZE_MISMATCH}; }; chmod 0755 -- "$1" && ${place} && meta=$(stat -c "%s %.9Y %.9Z" -- "$2") && printf '%s %s\\n' "$3" "$meta" > "$4" && echo "$meta"`,
      'sh',
      written,
      remotePath,
      localSha,
      sidecarPath(remotePath),
      String(size),
    ]);
    if (placed.code === SIZE_MISMATCH || (placed.code === 0 && Number(placed.stdout.split(' ')[0]) !== size)) {
      await node.execAsRoot(['rm', '-f', '--', sidecarPath(remotePath)]);
      throw new UserError(
        ErrorCode.UploadCorrupt,
        `The debug binary that reached ${node.spec} is ${placed.stderr.trim() || '?'} bytes, not ${size}; it was not put in place. Try again; if it persists, check the node's disk.`,
        ['retry'],
      );
    }
    if (placed.code !== 0) {
      throw errors.remoteCommandFailed(node.spec, 'moving the binary into place', placed.code, placed.stderr);
    }
  } catch (err) {
    await node.execAsRoot(['rm', '-f', '--', staging, written]).catch(() => undefined);
    throw err;
  }
  return { skipped: false, bytes: size, seconds: (Date.now() - started) / 1000, sha256: localSha, method, choice };
}

/** After SFTP's first window: whether a gzip stream from the start beats SFTP's rest (then its estimates). */
async function judgeLink(
  localPath: string,
  size: number,
  m: { sent: number; linkBytesPerSecond: number },
): Promise<UploadResult['choice']> {
  if (!worthJudging(size, m.sent, m.linkBytesPerSecond)) {
    return undefined;
  }
  const sample = await sampleCompression(localPath, size);
  const choice = chooseUploadMethod({
    size,
    sent: m.sent,
    linkBytesPerSecond: m.linkBytesPerSecond,
    compressBytesPerSecond: sample.bytesPerSecond,
    compressionRatio: sample.ratio,
  });
  return choice.method === 'gzip' ? { ...choice, linkBytesPerSecond: m.linkBytesPerSecond, compressionRatio: sample.ratio } : undefined;
}

/**
 * The transport's SFTP copy. With `judge`, the link's rate over the first MEASURE_WINDOW_MS of
 * progress is handed to it; if it answers, the copy is stopped and its answer is returned (the caller
 * then sends another way). Resolves undefined when SFTP sent the whole file.
 */
async function sftpPut(
  node: NodeConnection,
  localPath: string,
  staging: string,
  remotePath: string,
  options: UploadOptions,
  judge?: (m: { sent: number; linkBytesPerSecond: number }) => Promise<UploadResult['choice']>,
): Promise<UploadResult['choice']> {
  // The copy stops for the caller's cancel or for a switch to gzip; only the first is an error.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const started = Date.now();
  let last = 0; // the first report goes out at once, then at most one every 200 ms
  let switchTo: UploadResult['choice'];
  let window: { at: number; bytes: number } | undefined;
  let judging = false;
  try {
    await node.putFile(localPath, staging, {
      mode: 0o755,
      signal: stop.signal,
      concurrency: options.concurrency,
      chunkSize: options.chunkSize,
      onProgress: (transferred, total) => {
        const now = Date.now();
        if (now - last > 200 || transferred === total) {
          last = now;
          const seconds = Math.max((now - started) / 1000, 0.001);
          options.onProgress?.({ transferred, total, bytesPerSecond: transferred / seconds });
        }
        // The window starts at the first acknowledged write, after the session's set-up round trips.
        window ??= { at: now, bytes: transferred };
        if (judge && !judging && now - window.at >= MEASURE_WINDOW_MS && transferred < total) {
          judging = true;
          const linkBytesPerSecond = ((transferred - window.bytes) * 1000) / (now - window.at);
          void judge({ sent: transferred, linkBytesPerSecond }).then(
            (answer) => {
              if (answer && !options.signal?.aborted) {
                switchTo = answer;
                stop.abort();
              }
            },
            () => undefined,
          );
        }
      },
    });
    return undefined;
  } catch (err) {
    if (switchTo && !options.signal?.aborted) {
      return switchTo;
    }
    throw err instanceof UserError ? err : mapUploadError(node, err as PutFileError, remotePath);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function mapUploadError(node: NodeConnection, err: PutFileError, remotePath: string): UserError {
  // SFTP "Failure" (4) on write is what OpenSSH's sftp-server answers for ENOSPC and EDQUOT.
  if (err.code === 4 || /no space|quota/i.test(err.message)) {
    return new UserError(
      ErrorCode.NodeDiskFull,
      `${node.spec} ran out of disk space while receiving the debug binary for ${remotePath}. Nothing was changed; free some space on the node and try again.`,
      ['retry'],
    );
  }
  if (err.code === 3) {
    return new UserError(
      ErrorCode.NodeFileAccess,
      `${node.spec} refused the upload to ${remotePath} (permission denied). Log in as root or allow password-less sudo.`,
    );
  }
  return new UserError(ErrorCode.UploadFailed, `Uploading the debug binary to ${node.spec} failed: ${err.message}.`, ['retry', 'showLog']);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
