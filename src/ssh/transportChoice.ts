// Decides which transport carries a node: ssh2 inside the extension (the fast default) or the
// system's OpenSSH, which the resolved config may need for things ssh2 cannot do. Pure: the
// resolver finds the directives, this file only judges them.
import { errors, UserError } from '../common/errors';
import type { SshDirectives } from './opensshConfig';

export type TransportSetting = 'auto' | 'ssh2' | 'openssh';
export type TransportKind = 'ssh2' | 'openssh';

/** A directive in the resolved config that only OpenSSH acts on. */
export interface OpensshOnlyDirective {
  /** As written in ssh_config, e.g. CertificateFile. */
  directive: string;
  value: string;
  /**
   * True when authentication depends on it (a certificate, a token): ssh2 would offer the wrong
   * credentials. False when ssh2 works without it, only differently (no GSSAPI, no shared master).
   */
  neededToLogIn: boolean;
}

export type TransportDecision =
  { transport: TransportKind; reason: string; ignored: OpensshOnlyDirective[] } | { transport: 'none'; error: UserError };

/**
 * What ssh2 cannot do, from `ssh -G` of the full config (`resolved`) and of the user's own config
 * alone (`userOnly`, undefined when it was not needed). GSSAPIAuthentication and ControlMaster
 * count only when the user's own config sets them: Debian's /etc/ssh/ssh_config says
 * `GSSAPIAuthentication yes` for every host, which would otherwise send every Debian user to
 * OpenSSH for a Kerberos login they do not have.
 */
export function opensshOnlyDirectives(
  resolved: SshDirectives,
  userOnly: SshDirectives | undefined,
  userConfigHasMatchExec: boolean,
): OpensshOnlyDirective[] {
  const found: OpensshOnlyDirective[] = [];
  const one = (d: SshDirectives | undefined, key: string) => d?.get(key)?.[0];
  for (const file of resolved.get('certificatefile') ?? []) {
    found.push({ directive: 'CertificateFile', value: file, neededToLogIn: true });
  }
  const pkcs11 = one(resolved, 'pkcs11provider');
  if (pkcs11 && pkcs11.toLowerCase() !== 'none') {
    found.push({ directive: 'PKCS11Provider', value: pkcs11, neededToLogIn: true });
  }
  if (isYes(one(resolved, 'gssapiauthentication')) && isYes(one(userOnly, 'gssapiauthentication'))) {
    found.push({ directive: 'GSSAPIAuthentication', value: 'yes', neededToLogIn: false });
  }
  const master = one(userOnly, 'controlmaster');
  if (master && !['false', 'no'].includes(master.toLowerCase())) {
    found.push({ directive: 'ControlMaster', value: master, neededToLogIn: false });
  } else {
    const controlPath = one(userOnly, 'controlpath');
    if (controlPath && controlPath.toLowerCase() !== 'none') {
      found.push({ directive: 'ControlPath', value: controlPath, neededToLogIn: false });
    }
  }
  if (userConfigHasMatchExec) {
    // ssh -G ran the exec once; OpenSSH runs it on every connection, so its answer (on a VPN or not) stays current.
    found.push({ directive: 'Match exec', value: '…', neededToLogIn: false });
  }
  return found;
}

/** Whether ssh -G's answer needs the user-only pass at all (it costs one more ssh -G). */
export function needsUserOnlyCheck(resolved: SshDirectives): boolean {
  const one = (key: string) => resolved.get(key)?.[0]?.toLowerCase();
  return isYes(one('gssapiauthentication')) || (one('controlmaster') ?? 'false') !== 'false' || (one('controlpath') ?? 'none') !== 'none';
}

export function chooseTransport(
  setting: TransportSetting,
  found: readonly OpensshOnlyDirective[],
  sshAvailable: boolean,
  host: string,
): TransportDecision {
  const names = found.map((d) => d.directive);
  if (setting === 'openssh') {
    return sshAvailable
      ? { transport: 'openssh', reason: 'kubelet.ssh.transport is "openssh"', ignored: [] }
      : { transport: 'none', error: errors.transportUnavailable(host, 'openssh', 'there is no ssh program on this machine') };
  }
  const needed = found.filter((d) => d.neededToLogIn).map((d) => d.directive);
  if (setting === 'ssh2') {
    if (needed.length > 0) {
      return { transport: 'none', error: errors.directiveNeedsOpenssh(host, needed, 'ssh2') };
    }
    return { transport: 'ssh2', reason: 'kubelet.ssh.transport is "ssh2"', ignored: [...found] };
  }
  if (found.length === 0) {
    return { transport: 'ssh2', reason: 'the SSH config uses nothing ssh2 lacks', ignored: [] };
  }
  if (!sshAvailable) {
    if (needed.length > 0) {
      return { transport: 'none', error: errors.directiveNeedsOpenssh(host, needed, 'no-ssh') };
    }
    return { transport: 'ssh2', reason: `there is no ssh program, so ${names.join(', ')} cannot apply`, ignored: [...found] };
  }
  return { transport: 'openssh', reason: `the SSH config uses ${names.join(', ')}, which ssh2 cannot do`, ignored: [] };
}

function isYes(value: string | undefined): boolean {
  return value !== undefined && ['yes', 'true'].includes(value.toLowerCase());
}
