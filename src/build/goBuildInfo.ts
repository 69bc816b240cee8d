// Reads the Go version and main module recorded in a Go binary's .go.buildinfo section, without a
// Go toolchain. It reads through a random-access callback, so it works on a local file and, over
// SFTP, on a binary that lives on the node.
import { promises as fs } from 'fs';

export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export interface GoBuildInfo {
  /** e.g. "go1.22.5" */
  goVersion: string;
  /** e.g. "k8s.io/kubernetes/cmd/kubelet" */
  mainPath: string;
  /** The raw module info lines (path/mod/dep/build …). */
  modInfo: string;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

export async function readGoBuildInfo(readAt: ReadAt): Promise<GoBuildInfo> {
  const section = await findSection(readAt, '.go.buildinfo');
  const head = await readAt(section.offset, Math.min(section.size, 64 * 1024));
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('The .go.buildinfo section has no Go build-info header.');
  }
  const flags = head[15];
  if ((flags & 0x2) === 0) {
    // Before Go 1.18 the strings sat behind pointers; Delve cannot debug those versions anyway.
    throw new Error('The binary was built by Go older than 1.18, which current Delve cannot debug.');
  }
  let pos = 32;
  const [goVersion, afterVersion] = readVarString(head, pos);
  pos = afterVersion;
  const [rawModInfo] = readVarString(head, pos);
  // The module info is framed by 16 sentinel bytes on both sides.
  const modInfo = rawModInfo.length >= 33 ? rawModInfo.slice(16, -16) : rawModInfo;
  const mainPath = /^path\t(.+)$/m.exec(modInfo)?.[1] ?? '';
  return { goVersion, mainPath, modInfo };
}

export async function readLocalGoBuildInfo(file: string): Promise<GoBuildInfo> {
  const handle = await fs.open(file, 'r');
  try {
    return await readGoBuildInfo(async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } finally {
    await handle.close();
  }
}

/** "go1.22.5" → [1, 22]; "devel …" or anything odd → undefined. */
export function goMinor(goVersion: string): [number, number] | undefined {
  const m = /^go(\d+)\.(\d+)/.exec(goVersion);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function readVarString(buf: Buffer, pos: number): [string, number] {
  let length = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) {
      throw new Error('The Go build info is cut short.');
    }
    const byte = buf[pos++];
    length |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      break;
    }
    shift += 7;
  }
  if (pos + length > buf.length) {
    throw new Error('The Go build info is cut short.');
  }
  return [buf.subarray(pos, pos + length).toString('utf8'), pos + length];
}

async function findSection(readAt: ReadAt, name: string): Promise<{ offset: number; size: number }> {
  const ident = await readAt(0, 64);
  if (ident.length < 64 || ident.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error('Not an ELF binary: the node runs Linux, so the kubelet must be built for linux.');
  }
  const is64 = ident[4] === 2;
  const le = ident[5] === 1;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  const shoff = is64 ? u64(ident, 0x28) : u32(ident, 0x20);
  const shentsize = u16(ident, is64 ? 0x3a : 0x2e);
  const shnum = u16(ident, is64 ? 0x3c : 0x30);
  const shstrndx = u16(ident, is64 ? 0x3e : 0x32);
  const table = await readAt(shoff, shentsize * shnum);
  const header = (i: number) => {
    const o = i * shentsize;
    return {
      name: u32(table, o),
      offset: is64 ? u64(table, o + 0x18) : u32(table, o + 0x10),
      size: is64 ? u64(table, o + 0x20) : u32(table, o + 0x14),
    };
  };
  const strtab = header(shstrndx);
  const names = await readAt(strtab.offset, strtab.size);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const end = names.indexOf(0, h.name);
    if (names.subarray(h.name, end).toString('latin1') === name) {
      return { offset: h.offset, size: h.size };
    }
  }
  throw new Error(`The binary has no ${name} section; it was not built by the Go toolchain.`);
}
