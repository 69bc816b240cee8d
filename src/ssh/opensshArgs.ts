// The command lines of the openssh transport: one ControlMaster per node, and mux clients that run
// commands, stdio forwards, the SFTP subsystem and sftp's batch upload through it. Pure, so every
// argv is unit-tested.
import * as path from 'path';
import type { HostSpec } from './sshConfig';

export interface MasterOptions {
  sshBinary: string;
  /** The config wrapper (user config, then system config), as `ssh -G` read it. */
  configFile: string;
  /** The host as the user named it: the alias, and only the user/port the spec itself gave. */
  target: HostSpec;
  controlPath: string;
  keepaliveSeconds: number;
  keepaliveCountMax: number;
  connectTimeoutSeconds: number;
  /** No SSH_ASKPASS to answer questions: then ssh must not ask any (BatchMode). */
  batchMode: boolean;
  /**
   * The known_hosts files the resolver found, ~ already expanded with $HOME as the extension does
   * (ssh would use the passwd entry's home); both transports then check, and save to, the same files.
   */
  knownHostsFiles: string[];
}

/**
 * The master: authenticates once and holds the connection in the foreground (ControlPersist=no),
 * so its exit is the connection's end. Its questions go to SSH_ASKPASS; without one, BatchMode makes
 * a password or keyboard-interactive login fail at once instead of hanging. StrictHostKeyChecking is
 * left to the user's config: it is never turned off.
 */
export function masterArgs(o: MasterOptions): string[] {
  return [
    '-F',
    o.configFile,
    ...targetArgs(o.target),
    '-M',
    '-S',
    controlPathOption(o.controlPath),
    '-N',
    '-o',
    'ControlPersist=no',
    ...(o.batchMode ? ['-o', 'BatchMode=yes'] : []),
    ...(o.knownHostsFiles.length > 0 ? ['-o', `UserKnownHostsFile=${o.knownHostsFiles.map(configWord).join(' ')}`] : []),
    // The user's LocalForward/RemoteForward/RemoteCommand/LocalCommand are for their shells, not for us.
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'RemoteCommand=none',
    '-o',
    'PermitLocalCommand=no',
    '-o',
    'RequestTTY=no',
    '-o',
    `ServerAliveInterval=${o.keepaliveSeconds}`,
    '-o',
    `ServerAliveCountMax=${o.keepaliveCountMax}`,
    '-o',
    `ConnectTimeout=${o.connectTimeoutSeconds}`,
    '--',
    o.target.host,
  ];
}

/**
 * Options every client of the master shares. -F /dev/null: the master already holds the resolved
 * connection, so the user's config (its Match exec, RemoteCommand, SendEnv) must not run again per
 * command. ProxyCommand=false: when the master is gone, ssh would otherwise dial the host on its own
 * with an empty config; this makes it fail instead, and the caller reports the lost connection.
 */
export function muxClientOptions(controlPath: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-o',
    `ControlPath=${controlPathOption(controlPath)}`,
    '-o',
    'ControlMaster=no',
    '-o',
    'ProxyCommand=false',
    '-o',
    'BatchMode=yes',
  ];
}

/**
 * Runs one command. OpenSSH joins every word after the host with spaces and hands the line to the
 * login shell, so the command goes as one word that is already shell-quoted (shellCommand()).
 */
export function commandArgs(controlPath: string, host: string, command: string): string[] {
  return [...muxClientOptions(controlPath), '-T', '--', host, command];
}

/** A stdio forward to host:port on the node (`ssh -W`): the caller's pipes are the stream, no local port opens. */
export function stdioForwardArgs(controlPath: string, host: string, toHost: string, toPort: number): string[] {
  const target = toHost.includes(':') ? `[${toHost}]:${toPort}` : `${toHost}:${toPort}`;
  return [...muxClientOptions(controlPath), '-T', '-W', target, '--', host];
}

export function subsystemArgs(controlPath: string, host: string, subsystem: string): string[] {
  return [...muxClientOptions(controlPath), '-T', '-s', '--', host, subsystem];
}

/** 32 KiB × 8 requests in flight: OpenSSH's best measured upload (0.63 s for 120 MiB, see SSH-PERF.md). */
export const SFTP_BUFFER_BYTES = 32768;
export const SFTP_REQUESTS = 8;

/** sftp reading a batch from stdin, through the master. */
export function sftpBatchArgs(sshBinary: string, controlPath: string, host: string): string[] {
  return [
    '-S',
    sshBinary,
    '-B',
    String(SFTP_BUFFER_BYTES),
    '-R',
    String(SFTP_REQUESTS),
    '-b',
    '-',
    ...muxClientOptions(controlPath),
    '--',
    host,
  ];
}

/**
 * sftp's batch syntax has its own quoting and globs local names, so only paths made of plain
 * characters go in; the caller stages elsewhere (and links the local file under a plain name).
 */
export function isSftpBatchSafe(file: string): boolean {
  return /^\/[A-Za-z0-9_@+=:,./-]+$/.test(file);
}

export function sftpPutScript(localPath: string, remotePath: string, mode: number): string {
  for (const file of [localPath, remotePath]) {
    if (!isSftpBatchSafe(file)) {
      throw new Error(`${file} cannot go into an sftp batch as it is.`);
    }
  }
  return `put ${localPath} ${remotePath}\nchmod ${mode.toString(8)} ${remotePath}\n`;
}

/** The sftp program beside the ssh one, so both come from the same OpenSSH. */
export function sftpBinaryFor(sshBinary: string): string {
  return sshBinary.includes('/') ? path.join(path.dirname(sshBinary), 'sftp') : 'sftp';
}

function targetArgs(target: HostSpec): string[] {
  return [...(target.user !== undefined ? ['-l', target.user] : []), ...(target.port !== undefined ? ['-p', String(target.port)] : [])];
}

/** One word of an ssh option value: quoted (ssh splits on spaces) and with % doubled (ssh expands tokens). */
function configWord(word: string): string {
  const literal = word.replace(/%/g, '%%');
  return /^[A-Za-z0-9_@+=:,./~-]+$/.test(literal) ? literal : `"${literal.replace(/(["\\])/g, '\\$1')}"`;
}

/** ssh expands % tokens in a ControlPath; ours is literal. */
function controlPathOption(controlPath: string): string {
  return controlPath.replace(/%/g, '%%');
}
