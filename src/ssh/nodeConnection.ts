// One shared SSH connection per node: concurrent callers share one attempt, keepalives notice a
// dead link, a lost connection is reported and reopened on the next use, and Disconnect is explicit.
// The bytes go through a transport (ssh2, or the system's OpenSSH) chosen per node at connect time.
import { EventEmitter } from 'events';
import type { Client, SFTPWrapper } from 'ssh2';
import type { Duplex } from 'stream';
import { ErrorCode, errors, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import { connectHost, ConnectOptions } from './connect';
import { OpensshTransport } from './opensshTransport';
import { ExecOptions, ExecResult } from './remoteExec';
import { shellCommand } from './shellQuote';
import { Ssh2Transport } from './ssh2Transport';
import type { ResolvedHost, SshConfigResolver } from './sshConfig';
import type { CommandChannel, NodeTransport, PutFileOptions } from './transport';
import { chooseTransport, OpensshOnlyDirective, TransportKind, TransportSetting } from './transportChoice';

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'ready'; user: string; hostName: string }
  | { kind: 'lost'; error: UserError }
  | { kind: 'failed'; error: UserError };

export interface NodeConnectionEvents {
  state: [ConnectionState];
}

export interface NodeConnectionOptions extends Omit<ConnectOptions, 'signal'> {
  /** kubelet.ssh.transport, read at each connect so a changed setting applies to the next connection. */
  transport?: () => TransportSetting;
}

export class NodeConnection extends EventEmitter<NodeConnectionEvents> {
  private open?: NodeTransport;
  private attempt?: Promise<NodeTransport>;
  private sftpSession?: Promise<SFTPWrapper>;
  private currentState: ConnectionState = { kind: 'idle' };
  private resolved?: ResolvedHost;

  constructor(
    readonly spec: string,
    private readonly resolver: SshConfigResolver,
    private readonly options: NodeConnectionOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The login user, known once connected (or resolved). */
  get user(): string | undefined {
    return this.resolved?.user;
  }

  /** Which transport carries the connection, once connected. */
  get transportKind(): TransportKind | undefined {
    return this.open?.kind;
  }

  /** Opens the connection if needed. Concurrent callers share one attempt. */
  async connect(signal?: AbortSignal): Promise<NodeTransport> {
    if (this.open) {
      return this.open;
    }
    if (!this.attempt) {
      this.attempt = this.start(signal).finally(() => {
        this.attempt = undefined;
      });
    }
    return this.attempt;
  }

  /** The ssh2 client, for code that needs ssh2 itself; only the ssh2 transport has one. */
  async client(signal?: AbortSignal): Promise<Client> {
    const transport = await this.connect(signal);
    if (!(transport instanceof Ssh2Transport)) {
      throw new Error(`${this.spec} is connected through the system's OpenSSH, which has no ssh2 client.`);
    }
    return transport.open.client;
  }

  private async start(signal?: AbortSignal): Promise<NodeTransport> {
    this.setState({ kind: 'connecting' });
    try {
      this.resolved = await this.resolver.resolve(this.spec);
      const transport = await this.openTransport(this.resolved, signal);
      this.open = transport;
      transport.onLost((cause) => {
        if (this.open !== transport) {
          return;
        }
        this.open = undefined;
        this.sftpSession = undefined;
        const error = errors.connectionLost(this.spec, cause);
        this.log.warn(error.message);
        this.setState({ kind: 'lost', error });
      });
      this.setState({ kind: 'ready', user: this.resolved.user, hostName: this.resolved.hostName });
      return transport;
    } catch (err) {
      const error = err instanceof UserError ? err : errors.unreachable(this.spec, (err as Error).message);
      this.setState({ kind: 'failed', error });
      throw error;
    }
  }

  private async openTransport(resolved: ResolvedHost, signal?: AbortSignal): Promise<NodeTransport> {
    // The resolver has just run ssh -G; its sshBinary is false when there is no ssh here.
    const openssh = this.resolver.openssh;
    const setting = this.options.transport?.() ?? 'auto';
    const decision = chooseTransport(setting, resolved.opensshOnly, openssh.sshBinary !== false, this.spec);
    if (decision.transport === 'none') {
      this.log.error(`${this.spec}: no transport can connect: ${decision.error.message}`);
      throw decision.error;
    }
    this.log.info(`${this.spec}: using the ${decision.transport} transport (${decision.reason}).`);
    for (const d of decision.ignored) {
      this.log.warn(`${this.spec}: ${d.directive} ${d.value} is ignored by the ssh2 transport (the openssh transport would honour it).`);
    }
    if (decision.transport === 'openssh') {
      return OpensshTransport.start(resolved, {
        sshBinary: openssh.sshBinary || 'ssh',
        userConfigFile: openssh.userConfigFile,
        systemConfigFile: openssh.systemConfigFile,
        env: openssh.env,
        defaultTimeoutSeconds: this.options.defaultTimeoutSeconds,
        log: this.log,
        signal,
        prompts: this.options.prompts,
      });
    }
    const open = await connectHost(resolved, { ...this.options, signal }).catch((err: unknown) => {
      throw decision.ignored.length > 0 && err instanceof UserError && err.code === ErrorCode.AuthFailed
        ? withIgnoredDirectives(err, decision.ignored)
        : err;
    });
    return new Ssh2Transport(open, () => this.sftp());
  }

  /** Runs an argv (each word shell-quoted) as the login user. */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return (await this.connect(options.signal)).exec(shellCommand(argv), options);
  }

  /**
   * Runs an argv as root: directly when we log in as root, else through `sudo -n`, which fails
   * at once instead of waiting for a password nobody can type.
   */
  async execAsRoot(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const transport = await this.connect(options.signal);
    const root = this.resolved?.user === 'root';
    const result = await transport.exec(shellCommand(root ? argv : ['sudo', '-n', '--', ...argv]), options);
    if (!root && result.code === 1 && /sudo: (a password is required|a terminal is required)/.test(result.stderr)) {
      throw errors.sudoNeedsPassword(this.spec, this.resolved?.user ?? '?');
    }
    return result;
  }

  /** Like execAsRoot, but a non-zero exit becomes an error naming `what`. */
  async runAsRoot(what: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execAsRoot(argv, options);
    if (result.code !== 0) {
      throw errors.remoteCommandFailed(this.spec, what, result.code, result.stderr);
    }
    return result;
  }

  /** A command whose streams the caller carries (a relay); `command` is already shell-quoted. */
  async openCommand(command: string, signal?: AbortSignal): Promise<CommandChannel> {
    return (await this.connect(signal)).openCommand(command, signal);
  }

  /** One SFTP session per connection, opened on first use. */
  async sftp(): Promise<SFTPWrapper> {
    const transport = await this.connect();
    if (!this.sftpSession) {
      const session = transport.openSftp().then((sftp) => {
        sftp.on('close', () => {
          if (this.sftpSession === session) {
            this.sftpSession = undefined;
          }
        });
        return sftp;
      });
      this.sftpSession = session;
      session.catch(() => {
        if (this.sftpSession === session) {
          this.sftpSession = undefined;
        }
      });
    }
    return this.sftpSession;
  }

  /** A TCP stream to host:port as seen from the node, carried inside the SSH connection. */
  async forwardOut(host: string, port: number): Promise<Duplex> {
    return (await this.connect()).forwardOut(host, port);
  }

  /** Copies a local file to the node, as fast as the transport can. */
  async putFile(localPath: string, remotePath: string, options: PutFileOptions): Promise<void> {
    return (await this.connect(options.signal)).putFile(localPath, remotePath, options);
  }

  disconnect(): void {
    const open = this.open;
    this.open = undefined;
    this.sftpSession = undefined;
    if (open) {
      open.close();
      this.log.info(`Disconnected from ${this.spec}.`);
    }
    this.setState({ kind: 'idle' });
  }

  private setState(state: ConnectionState): void {
    this.currentState = state;
    this.emit('state', state);
  }
}

/** Hands out one NodeConnection per node name. */
export class ConnectionManager {
  private readonly connections = new Map<string, NodeConnection>();
  private readonly listeners = new Set<(spec: string, state: ConnectionState) => void>();

  constructor(
    private readonly resolver: SshConfigResolver,
    private readonly options: NodeConnectionOptions,
    private readonly log: Logger,
  ) {}

  get(spec: string): NodeConnection {
    let connection = this.connections.get(spec);
    if (!connection) {
      connection = new NodeConnection(spec, this.resolver, this.options, this.log);
      const c = connection;
      connection.on('state', (state) => this.listeners.forEach((l) => l(spec, state)));
      this.connections.set(spec, c);
    }
    return connection;
  }

  onDidChangeState(listener: (spec: string, state: ConnectionState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  dispose(): void {
    for (const connection of this.connections.values()) {
      // One connection failing to close (or to log that it did) must not leave the others open.
      try {
        connection.disconnect();
      } catch (err) {
        this.log.error(`Closing the connection to ${connection.spec} failed: ${(err as Error).message}`);
      }
      connection.removeAllListeners();
    }
    this.connections.clear();
    this.listeners.clear();
  }
}

/** A refused login on ssh2 may be what a directive only OpenSSH honours was for: name it, and the way out. */
function withIgnoredDirectives(err: UserError, ignored: OpensshOnlyDirective[]): UserError {
  const names = ignored.map((d) => d.directive).join(', ');
  return new UserError(
    err.code,
    `${err.message} The SSH config also sets ${names}, which the ssh2 transport ignores; set kubelet.ssh.transport to "auto" or "openssh" to log in with the system's OpenSSH.`,
    [...err.remedies, 'openSettings'],
    err.detail,
  );
}
