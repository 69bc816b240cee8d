// Lists the sections of an ELF file through a random-access reader, so the same code inspects a
// local build and, over SFTP, a binary that lives on the node. Only the section headers are read.

export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export interface ElfSection {
  name: string;
  offset: number;
  size: number;
}

export async function readElfSections(readAt: ReadAt): Promise<ElfSection[]> {
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
  if (shnum === 0 || shstrndx >= shnum) {
    throw new Error('The ELF file has no section table.');
  }
  const table = await readAt(shoff, shentsize * shnum);
  if (table.length < shentsize * shnum) {
    throw new Error('The ELF section table is cut short: the file is truncated.');
  }
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
  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const end = names.indexOf(0, h.name);
    sections.push({ name: names.subarray(h.name, end < 0 ? undefined : end).toString('latin1'), offset: h.offset, size: h.size });
  }
  return sections;
}
