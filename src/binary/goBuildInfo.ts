// Reads the Go version and main module recorded in a Go binary's .go.buildinfo section, without a
// Go toolchain. It reads through a random-access callback, so it works on a local file and, over
// SFTP, on a binary that lives on the node.
import { ReadAt, readElfSections } from './elfSections';
import { withLocalReader } from './fileReaders';

export type { ReadAt };

export interface GoBuildInfo {
  /** e.g. "go1.22.5" */
  goVersion: string;
  /** e.g. "k8s.io/kubernetes/cmd/kubelet" */
  mainPath: string;
  /** The raw module info lines (path/mod/dep/build …). */
  modInfo: string;
  /** The `build` settings Go records (-gcflags, -ldflags, CGO_ENABLED …), in order; empty when none were recorded. */
  settings: Map<string, string>;
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

export async function readGoBuildInfo(readAt: ReadAt): Promise<GoBuildInfo> {
  const section = (await readElfSections(readAt)).find((s) => s.name === '.go.buildinfo');
  if (!section) {
    throw new Error('The binary has no .go.buildinfo section; it was not built by the Go toolchain.');
  }
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
  return { goVersion, mainPath, modInfo, settings: parseBuildSettings(modInfo) };
}

export function readLocalGoBuildInfo(file: string): Promise<GoBuildInfo> {
  return withLocalReader(file, readGoBuildInfo);
}

/** The `build\tKEY=VALUE` lines of the module info, e.g. -gcflags → "all=-N -l -trimpath=/src". */
export function parseBuildSettings(modInfo: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const m of modInfo.matchAll(/^build\t([^=\n]+)=(.*)$/gm)) {
    settings.set(m[1], unquoteSetting(m[2]));
  }
  return settings;
}

/** Go quotes a setting value (strconv.Quote) when it holds spaces, quotes or control characters. */
function unquoteSetting(value: string): string {
  if (!value.startsWith('"')) {
    return value;
  }
  try {
    return JSON.parse(value) as string;
  } catch {
    return value.slice(1, -1);
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
