// Random-access readers over a binary, local or on the node (through SFTP, so a 150 MB file is
// inspected by reading a few kilobytes of it, not by copying it).
import { promises as fs } from 'fs';
import type { SFTPWrapper } from 'ssh2';
import type { ReadAt } from './elfSections';

/** Runs `use` with a reader over a local file. */
export async function withLocalReader<T>(file: string, use: (readAt: ReadAt) => Promise<T>): Promise<T> {
  const handle = await fs.open(file, 'r');
  try {
    return await use(async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await handle.close();
  }
}

/** Runs `use` with a reader over a file on the node, through SFTP (no binary crosses the wire whole). */
export async function withSftpReader<T>(sftp: SFTPWrapper, file: string, use: (readAt: ReadAt) => Promise<T>): Promise<T> {
  const handle = await new Promise<Buffer>((resolve, reject) => sftp.open(file, 'r', (err, h) => (err ? reject(err) : resolve(h))));
  try {
    return await use(
      (offset, length) =>
        new Promise((resolve, reject) => {
          const buffer = Buffer.alloc(length);
          sftp.read(handle, buffer, 0, length, offset, (err, bytesRead) => (err ? reject(err) : resolve(buffer.subarray(0, bytesRead))));
        }),
    );
  } finally {
    sftp.close(handle, () => undefined);
  }
}
