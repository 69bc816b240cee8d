// Every error a user can see, in one place, each with a code, what failed and what to do next.
// The core throws these; the UI layer turns their `remedy` into buttons.

export type Remedy = 'retry' | 'openSshConfig' | 'openKnownHosts' | 'openSettings' | 'showLog' | 'restore' | 'manageTrust';

export const enum ErrorCode {
  HostUnreachable = 'KRD1001',
  ConnectTimeout = 'KRD1002',
  AuthFailed = 'KRD1003',
  HostKeyUnknownRejected = 'KRD1004',
  HostKeyChanged = 'KRD1005',
  HostKeyRevoked = 'KRD1006',
  ConnectionLost = 'KRD1007',
  ProxyJumpFailed = 'KRD1008',
  BadHostSpec = 'KRD1009',
  SshConfigInvalid = 'KRD1010',
  ProxyCommandFailed = 'KRD1011',
  HandshakeClosed = 'KRD1012',
  TransportUnavailable = 'KRD1013',
  DirectiveNeedsOpenssh = 'KRD1014',
  OpensshFailed = 'KRD1015',
  SudoNeedsPassword = 'KRD1101',
  RemoteCommandFailed = 'KRD1102',
  Cancelled = 'KRD1103',
  RemoteCommandTimedOut = 'KRD1104',
  UnitNotFound = 'KRD1201',
  UnitQueryFailed = 'KRD1202',
  NodeFileNotFound = 'KRD1301',
  NodeFileAccess = 'KRD1302',
  NodeFileExists = 'KRD1303',
  NodeFileConflict = 'KRD1304',
  NodeFileWriteFailed = 'KRD1305',
  NodeFileIsDirectory = 'KRD1306',
  UnitFileCheckFailed = 'KRD1203',
  BadDropInName = 'KRD1204',
  NodeDiskFull = 'KRD1401',
  UploadFailed = 'KRD1402',
  UploadCorrupt = 'KRD1403',
  BuildFailed = 'KRD1501',
  DelveMissing = 'KRD1502',
  DelveTooOld = 'KRD1503',
  NotAGoBinary = 'KRD1504',
  VersionSkewDeclined = 'KRD1505',
  SessionHeld = 'KRD1601',
  StaleSession = 'KRD1602',
  DelveDidNotStart = 'KRD1603',
  RestoreFailed = 'KRD1604',
  UnsupportedUnit = 'KRD1605',
  NotDebuggable = 'KRD1506',
  WorkspaceNotTrusted = 'KRD1701',
  DelveUnreachable = 'KRD1606',
  KubeconfigInvalid = 'KRD1801',
  ClusterUnreachable = 'KRD1802',
  ClusterCredentialsExpired = 'KRD1803',
  ClusterCredentialsRejected = 'KRD1804',
  ClusterCredentialsInvalid = 'KRD1805',
  ClusterExecPluginFailed = 'KRD1806',
  ClusterServerUntrusted = 'KRD1807',
  ClusterRequestFailed = 'KRD1808',
  ClusterNodeNoSshTarget = 'KRD1809',
}

export class UserError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** What failed, then what to do next, in whole sentences. */
    message: string,
    readonly remedies: readonly Remedy[] = [],
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** The text shown to the user, code first so it can be searched for. */
  get display(): string {
    return `${this.message} [${this.code}]`;
  }
}

export function isCancelled(err: unknown): boolean {
  return err instanceof UserError && err.code === ErrorCode.Cancelled;
}

export const errors = {
  badHostSpec: (spec: string) =>
    new UserError(ErrorCode.BadHostSpec, `"${spec}" is not a node. Use a Host alias from your SSH config or user@host:port.`, [
      'openSettings',
    ]),
  unreachable: (host: string, cause: string) =>
    new UserError(
      ErrorCode.HostUnreachable,
      `Could not reach ${host}: ${cause}. Check that the node is up and that HostName and Port in your SSH config are right.`,
      ['retry', 'openSshConfig'],
    ),
  connectTimeout: (host: string, seconds: number) =>
    new UserError(
      ErrorCode.ConnectTimeout,
      `${host} did not answer the SSH handshake within ${seconds} s. Check the address and any ProxyJump, or raise ConnectTimeout.`,
      ['retry', 'openSshConfig'],
    ),
  authFailed: (host: string, user: string, tried: string[], partial = false) =>
    // The last method tried is the one refused: an answer a person typed is the likely culprit then.
    tried.at(-1) === 'keyboard-interactive' || tried.at(-1) === 'password'
      ? new UserError(
          ErrorCode.AuthFailed,
          `${user}@${host} ${partial ? 'accepted a first factor but ' : ''}refused the ${tried.at(-1) === 'password' ? 'password' : 'answer to its keyboard-interactive prompt'} (tried ${tried.join(', ')}). Check the password or code you typed and retry; repeated wrong answers can lock the account.`,
          ['retry', 'showLog'],
        )
      : partial
        ? new UserError(
            ErrorCode.AuthFailed,
            `${user}@${host} accepted a first factor but not the next one (tried ${tried.join(', ')}). The node requires more than one method (AuthenticationMethods); answer every prompt, or ask the node's admin which methods it wants.`,
            ['retry', 'showLog'],
          )
        : new UserError(
            ErrorCode.AuthFailed,
            `${user}@${host} refused every key we offered (${tried.join(', ') || 'none'}). Add your key to the node's authorized_keys, load it into ssh-agent, or set IdentityFile for this host.`,
            ['openSshConfig', 'showLog'],
          ),
  hostKeyRejected: (host: string, fingerprint: string) =>
    new UserError(
      ErrorCode.HostKeyUnknownRejected,
      `The host key of ${host} (${fingerprint}) is not trusted, so the connection was closed. Verify the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and accept it.`,
      ['retry'],
    ),
  hostKeyChanged: (host: string, fingerprint: string, file: string, line: number, removeCommand: string) =>
    new UserError(
      ErrorCode.HostKeyChanged,
      `WARNING: the host key of ${host} has CHANGED (now ${fingerprint}); ${file}:${line} has a different one. Someone may be intercepting the connection, or the node was reinstalled. If you are sure the new key is right, remove the old one and connect again: ${removeCommand}`,
      ['openKnownHosts'],
    ),
  hostKeyRevoked: (host: string, file: string, line: number) =>
    new UserError(ErrorCode.HostKeyRevoked, `The host key of ${host} is marked @revoked at ${file}:${line}. Connection refused.`, [
      'openKnownHosts',
    ]),
  sshConfigInvalid: (host: string, configFile: string, stderr: string) =>
    new UserError(
      ErrorCode.SshConfigInvalid,
      `OpenSSH could not resolve ${host} from ${configFile} (ssh -G): ${lastLine(stderr) || 'no output'}. Fix the SSH config; \`ssh ${host}\` fails the same way.`,
      ['openSshConfig'],
      stderr,
    ),
  proxyCommandFailed: (host: string, command: string, cause: string, stderr: string) =>
    new UserError(
      ErrorCode.ProxyCommandFailed,
      `The ProxyCommand for ${host} (${command}) ${cause}${stderr.trim() ? `: ${lastLine(stderr)}` : ''}. Run that command in a terminal to see why, and check the ProxyCommand in your SSH config.`,
      ['openSshConfig', 'showLog'],
      stderr,
    ),
  handshakeClosed: (host: string, stage: string) =>
    new UserError(
      ErrorCode.HandshakeClosed,
      `${host} answered, then closed the connection ${stage}. The address is right; look at the node's sshd log (journalctl -u ssh) for the reason, such as MaxStartups, AllowUsers or a refused key exchange.`,
      ['retry', 'showLog'],
    ),
  proxyJumpFailed: (jump: string, target: string, cause: string) =>
    new UserError(
      ErrorCode.ProxyJumpFailed,
      `Jump host ${jump} could not open a channel to ${target}: ${cause}. Check that ${jump} can reach ${target}.`,
      ['openSshConfig'],
    ),
  connectionLost: (host: string, cause: string) =>
    new UserError(ErrorCode.ConnectionLost, `The SSH connection to ${host} was lost (${cause}). It is reopened on the next use.`, [
      'retry',
    ]),
  transportUnavailable: (host: string, transport: string, why: string) =>
    new UserError(
      ErrorCode.TransportUnavailable,
      `${host} cannot use the ${transport} transport: ${why}. Install the OpenSSH client (ssh, sftp), or set kubelet.ssh.transport to "auto".`,
      ['openSettings'],
    ),
  /** ssh2 cannot log in with what the config asks for; only the system's OpenSSH can. */
  directiveNeedsOpenssh: (host: string, directives: string[], context: 'ssh2' | 'no-ssh') =>
    new UserError(
      ErrorCode.DirectiveNeedsOpenssh,
      context === 'ssh2'
        ? `The SSH config for ${host} uses ${directives.join(', ')}, which the ssh2 transport cannot do, and kubelet.ssh.transport is "ssh2". Set kubelet.ssh.transport to "auto" or "openssh" so the system's OpenSSH logs in.`
        : `The SSH config for ${host} uses ${directives.join(', ')}, which only the openssh transport can do, and there is no ssh program on this machine. Install the OpenSSH client, or change the SSH config.`,
      ['openSettings', 'openSshConfig'],
    ),
  /** The openssh transport's ssh could not log in or connect; its own words are the cause. */
  opensshFailed: (host: string, what: string, remedy: string, stderr: string) =>
    new UserError(
      ErrorCode.OpensshFailed,
      `OpenSSH (the openssh transport) could not ${what} ${host}${stderr.trim() ? `: ${lastLine(stderr)}` : ''}. ${remedy}`,
      ['retry', 'showLog', 'openSshConfig'],
      stderr,
    ),
  sudoNeedsPassword: (host: string, user: string) =>
    new UserError(
      ErrorCode.SudoNeedsPassword,
      `sudo on ${host} wants a password for ${user}. Allow password-less sudo for this user (a NOPASSWD rule in /etc/sudoers.d/), or log in as root.`,
      ['openSshConfig'],
    ),
  remoteCommandFailed: (host: string, what: string, code: number | null, stderr: string) =>
    new UserError(
      ErrorCode.RemoteCommandFailed,
      `${what} failed on ${host} (exit ${code ?? 'signal'})${stderr ? `: ${lastLine(stderr)}` : ''}.`,
      ['showLog'],
      stderr,
    ),
  cancelled: () => new UserError(ErrorCode.Cancelled, 'Cancelled.'),
  loginCancelled: (user: string, host: string) =>
    new UserError(
      ErrorCode.Cancelled,
      `Login to ${user}@${host} cancelled: a question of the SSH server was dismissed, so no connection was made and nothing changed on the node. Retry to be asked again.`,
      ['retry'],
    ),
  remoteCommandTimedOut: (command: string, seconds: number) =>
    new UserError(
      ErrorCode.RemoteCommandTimedOut,
      `A command on the node did not finish within ${seconds} s and was stopped: ${command.length > 120 ? `${command.slice(0, 117)}…` : command}. Check that the node is not overloaded, then try again.`,
      ['retry', 'showLog'],
    ),
  delveTooOld: (host: string, reason: string, install: string, installCommand: string | undefined) =>
    new UserError(
      ErrorCode.DelveTooOld,
      `${reason}. Install ${install} on ${host}${installCommand ? ` (${installCommand}, then set dlvPath)` : ''}, or set kubelet.debug.localDlvPath to upload one from here, and try again; the node was not touched. To let Delve try anyway, add "--check-go-version=false" to dlvFlags in the launch configuration.`,
      ['openSettings'],
    ),
  delveRelayFailed: (host: string, port: number, cause: string, stderr: string) =>
    new UserError(
      ErrorCode.DelveUnreachable,
      `Could not reach Delve on ${host} at 127.0.0.1:${port} through the root relay (sudo -n bash): ${cause}${stderr.trim() ? ` (${lastLine(stderr)})` : ''}. A login that is not root reaches Delve only through this relay, so that no other user on the node can; check that the login user may run bash with sudo -n, or log in as root.`,
      ['showLog'],
      stderr,
    ),
  unitNotFound: (host: string, unit: string) =>
    new UserError(ErrorCode.UnitNotFound, `${host} has no unit ${unit}. Set kubelet.unit to the unit that runs the kubelet.`, [
      'openSettings',
    ]),
  nodeFileNotFound: (host: string, path: string) => new UserError(ErrorCode.NodeFileNotFound, `${path} does not exist on ${host}.`),
  nodeFileExists: (host: string, path: string) =>
    new UserError(ErrorCode.NodeFileExists, `${path} already exists on ${host}. Pick another name, or open the existing file.`),
  nodeFileIsDirectory: (host: string, path: string) =>
    new UserError(ErrorCode.NodeFileIsDirectory, `${path} on ${host} is a directory, not a file.`),
  nodeFileConflict: (host: string, path: string) =>
    new UserError(
      ErrorCode.NodeFileConflict,
      `${path} changed on ${host} since you opened it, so it was not saved. Compare the two versions, or overwrite the node's.`,
    ),
  nodeFileWriteFailed: (host: string, path: string, cause: string) =>
    new UserError(
      ErrorCode.NodeFileWriteFailed,
      `Saving ${path} on ${host} failed: ${cause}. Your text is still in the editor; save again to retry.`,
      ['showLog'],
    ),
  unitFileCheckFailed: (host: string, unit: string, problems: string) =>
    new UserError(
      ErrorCode.UnitFileCheckFailed,
      `Saved on ${host}, but systemd rejects it, so ${unit} was not reloaded: ${problems}. Fix the file and save again.`,
      ['showLog'],
    ),
  badDropInName: (name: string) =>
    new UserError(
      ErrorCode.BadDropInName,
      `"${name}" is not a drop-in name. Use letters, digits, _ . @ - and end it with .conf, e.g. 20-extra-args.conf.`,
    ),
  workspaceNotTrusted: (action: string) =>
    new UserError(
      ErrorCode.WorkspaceNotTrusted,
      `${action} changes the node as root, so it needs a trusted workspace. In Restricted Mode the Nodes view is read-only; trust this folder (Manage Workspace Trust) to go on.`,
      ['manageTrust'],
    ),
};

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1].slice(0, 300);
}
