// Host-key verification against OpenSSH known_hosts files: plain, wildcard, negated, hashed (|1|)
// and [host]:port entries, plus @revoked. Unknown keys are appended the way OpenSSH writes them.
import { createHash, createHmac, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { matchesPatternList } from './hostPatterns';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: 'cert-authority' | 'revoked';
  hosts: string;
  keyType: string;
  keyBase64: string;
}

export type HostKeyVerdict =
  | { status: 'known'; file: string; line: number }
  | { status: 'changed'; file: string; line: number }
  | { status: 'revoked'; file: string; line: number }
  | { status: 'unknown' };

/** OpenSSH writes non-default ports as [host]:port and matches them that way too. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The command OpenSSH prints to drop a host's entries from one known_hosts file, quoted as it quotes it. */
export function removeKnownHostCommand(file: string, host: string, port: number): string {
  return `ssh-keygen -f "${file}" -R "${knownHostsName(host, port)}"`;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      return;
    }
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'cert-authority' && name !== 'revoked') {
        return;
      }
      marker = name;
    }
    if (fields.length < 3) {
      return;
    }
    entries.push({ file, line: index + 1, marker, hosts: fields[0], keyType: fields[1], keyBase64: fields[2] });
  });
  return entries;
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt, hash] = entry.hosts.split('|');
    if (!salt || !hash) {
      return false;
    }
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  return matchesPatternList(name, entry.hosts.split(','));
}

/** The algorithm name that leads an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) {
    return 'unknown';
  }
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The SHA256 fingerprint OpenSSH prints, e.g. SHA256:abc… (unpadded base64). */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export async function readKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    try {
      all.push(...parseKnownHosts(await fs.readFile(file, 'utf8'), file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
  }
  return all;
}

/**
 * Decides about a presented key. A matching entry with the same key wins; one of the same type
 * with another key means the key changed. Entries of other key types alone leave the key unknown,
 * as OpenSSH does, so the user is asked rather than refused.
 */
export function verifyHostKey(entries: readonly KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const presented = blob.toString('base64');
  const type = keyTypeOf(blob);
  const matching = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
  const revoked = entries.find((e) => e.marker === 'revoked' && e.keyBase64 === presented);
  if (revoked) {
    return { status: 'revoked', file: revoked.file, line: revoked.line };
  }
  const same = matching.find((e) => !e.marker && e.keyBase64 === presented);
  if (same) {
    return { status: 'known', file: same.file, line: same.line };
  }
  const changed = matching.find((e) => !e.marker && e.keyType === type);
  if (changed) {
    return { status: 'changed', file: changed.file, line: changed.line };
  }
  return { status: 'unknown' };
}

/** Appends a trusted key as OpenSSH would, creating ~/.ssh (0700) and the file (0600) if needed. */
export async function appendKnownHost(file: string, host: string, port: number, blob: Buffer, hashed: boolean): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const name = knownHostsName(host, port);
  const hostField = hashed ? hashHostName(name) : name;
  let prefix = '';
  try {
    const existing = await fs.readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) {
      prefix = '\n';
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err;
    }
  }
  await fs.appendFile(file, `${prefix}${hostField} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

function hashHostName(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
}
