// Uploads the debug binary: skipped when the node already has the same SHA-256; otherwise SFTP with
// several large requests in flight (see SSH-PERF.md) into a temporary file that is renamed into
// place, so a half-sent binary never sits where the kubelet could run it.
import { createHash, randomBytes } from 'crypto';
import { createReadStream, promises as fs } from 'fs';
import * as path from 'path';
import { errors, ErrorCode, UserError } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';

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
}

export interface UploadResult {
  skipped: boolean;
  bytes: number;
  seconds: number;
  sha256: string;
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

export async function uploadBinary(node: NodeConnection, localPath: string, remotePath: string, options: UploadOptions = {}): Promise<UploadResult> {
  const started = Date.now();
  const [{ size }, localSha] = await Promise.all([fs.stat(localPath), sha256File(localPath)]);
  if ((await remoteSha256(node, remotePath)) === localSha) {
    return { skipped: true, bytes: size, seconds: (Date.now() - started) / 1000, sha256: localSha };
  }
  const free = await remoteFreeBytes(node, remotePath);
  const needed = size + 16 * 1024 * 1024;
  if (free < needed) {
    throw new UserError(ErrorCode.NodeDiskFull, `${node.spec} has ${mib(free)} free for ${path.posix.dirname(remotePath)}, but the debug binary needs ${mib(needed)}. Free some space on the node (for example old images with crictl rmi --prune), or set remoteBinary to a roomier place.`);
  }

  const asRoot = node.user === 'root';
  const dir = path.posix.dirname(remotePath);
  // Root writes next to the target, so the rename is atomic; others stage in /var/tmp and sudo-install.
  const staging = asRoot ? `${dir}/.${path.posix.basename(remotePath)}.upload-${randomBytes(4).toString('hex')}` : `/var/tmp/krd-upload-${randomBytes(6).toString('hex')}`;
  if (asRoot) {
    await node.runAsRoot(`creating ${dir}`, ['mkdir', '-p', '--', dir]);
  }
  const sftp = await node.sftp();
  try {
    await new Promise<void>((resolve, reject) => {
      let last = started;
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        // ssh2 cannot stop a fastPut; ending the SFTP session fails its requests at once.
        sftp.end();
        reject(errors.cancelled());
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      sftp.fastPut(localPath, staging, {
        concurrency: options.concurrency ?? 8,
        chunkSize: options.chunkSize ?? 128 * 1024,
        mode: 0o755,
        step: (transferred, _chunk, total) => {
          const now = Date.now();
          if (now - last > 200 || transferred === total) {
            last = now;
            const seconds = Math.max((now - started) / 1000, 0.001);
            options.onProgress?.({ transferred, total, bytesPerSecond: transferred / seconds });
          }
        },
      }, (err) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (aborted) {
          return;
        }
        if (err) {
          reject(mapUploadError(node, err, remotePath));
        } else {
          resolve();
        }
      });
    });
    if (asRoot) {
      await node.runAsRoot('moving the binary into place', ['mv', '-f', '--', staging, remotePath]);
    } else {
      await node.runAsRoot('installing the binary', ['install', '-D', '-m', '0755', '--', staging, remotePath]);
      await node.exec(['rm', '-f', '--', staging]);
    }
  } catch (err) {
    await node.execAsRoot(['rm', '-f', '--', staging]).catch(() => undefined);
    throw err;
  }
  const remoteSum = await remoteSha256(node, remotePath);
  if (remoteSum !== localSha) {
    throw new UserError(ErrorCode.UploadCorrupt, `The binary on ${node.spec} does not match the local one after the upload (SHA-256 differs). Try again; if it persists, check the node's disk.`, ['retry']);
  }
  return { skipped: false, bytes: size, seconds: (Date.now() - started) / 1000, sha256: localSha };
}

function mapUploadError(node: NodeConnection, err: Error & { code?: number }, remotePath: string): UserError {
  // SFTP "Failure" (4) on write is what OpenSSH's sftp-server answers for ENOSPC and EDQUOT.
  if (err.code === 4 || /no space|quota/i.test(err.message)) {
    return new UserError(ErrorCode.NodeDiskFull, `${node.spec} ran out of disk space while receiving the debug binary for ${remotePath}. Nothing was changed; free some space on the node and try again.`, ['retry']);
  }
  if (err.code === 3) {
    return new UserError(ErrorCode.NodeFileAccess, `${node.spec} refused the upload to ${remotePath} (permission denied). Log in as root or allow password-less sudo.`);
  }
  return new UserError(ErrorCode.UploadFailed, `Uploading the debug binary to ${node.spec} failed: ${err.message}.`, ['retry', 'showLog']);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
