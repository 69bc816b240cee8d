// One shared SSH connection per node: concurrent callers share one attempt, keepalives notice a
// dead link, a lost connection is reported and reopened on the next use, and Disconnect is explicit.
import { EventEmitter } from 'events';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { errors, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import { connectHost, ConnectOptions, OpenConnection } from './connect';
import { ExecOptions, ExecResult, execOn } from './remoteExec';
import { shellCommand } from './shellQuote';
import type { ResolvedHost, SshConfigResolver } from './sshConfig';

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'ready'; user: string; hostName: string }
  | { kind: 'lost'; error: UserError }
  | { kind: 'failed'; error: UserError };

export interface NodeConnectionEvents {
  state: [ConnectionState];
}

export class NodeConnection extends EventEmitter<NodeConnectionEvents> {
  private open?: OpenConnection;
  private attempt?: Promise<OpenConnection>;
  private sftpSession?: Promise<SFTPWrapper>;
  private currentState: ConnectionState = { kind: 'idle' };
  private resolved?: ResolvedHost;

  constructor(
    readonly spec: string,
    private readonly resolver: SshConfigResolver,
    private readonly options: Omit<ConnectOptions, 'signal'>,
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

  /** The connected client, opening the connection if needed. Concurrent callers share one attempt. */
  async client(signal?: AbortSignal): Promise<Client> {
    if (this.open) {
      return this.open.client;
    }
    if (!this.attempt) {
      this.attempt = this.connect(signal).finally(() => {
        this.attempt = undefined;
      });
    }
    return (await this.attempt).client;
  }

  private async connect(signal?: AbortSignal): Promise<OpenConnection> {
    this.setState({ kind: 'connecting' });
    try {
      this.resolved = await this.resolver.resolve(this.spec);
      const open = await connectHost(this.resolved, { ...this.options, signal });
      this.open = open;
      const onGone = (cause: string) => {
        if (this.open !== open) {
          return;
        }
        this.open = undefined;
        this.sftpSession = undefined;
        for (const c of open.chain) {
          c.end();
        }
        const error = errors.connectionLost(this.spec, cause);
        this.log.warn(error.message);
        this.setState({ kind: 'lost', error });
      };
      for (const c of open.chain) {
        c.on('error', (err: Error) => onGone(err.message));
        c.on('close', () => onGone('closed by the node or the network'));
      }
      this.setState({ kind: 'ready', user: this.resolved.user, hostName: this.resolved.hostName });
      return open;
    } catch (err) {
      const error = err instanceof UserError ? err : errors.unreachable(this.spec, (err as Error).message);
      this.setState({ kind: 'failed', error });
      throw error;
    }
  }

  /** Runs an argv (each word shell-quoted) as the login user. */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return execOn(await this.client(options.signal), shellCommand(argv), options);
  }

  /**
   * Runs an argv as root: directly when we log in as root, else through `sudo -n`, which fails
   * at once instead of waiting for a password nobody can type.
   */
  async execAsRoot(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.client(options.signal);
    const root = this.resolved?.user === 'root';
    const result = await execOn(client, shellCommand(root ? argv : ['sudo', '-n', '--', ...argv]), options);
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

  /** One SFTP session per connection, opened on first use. */
  async sftp(): Promise<SFTPWrapper> {
    const client = await this.client();
    if (!this.sftpSession) {
      this.sftpSession = new Promise<SFTPWrapper>((resolve, reject) => {
        client.sftp((err, sftp) => {
          if (err) {
            this.sftpSession = undefined;
            reject(err);
            return;
          }
          sftp.on('close', () => {
            this.sftpSession = undefined;
          });
          resolve(sftp);
        });
      });
    }
    return this.sftpSession;
  }

  /** A TCP stream to host:port as seen from the node, carried inside the SSH connection. */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  disconnect(): void {
    const open = this.open;
    this.open = undefined;
    this.sftpSession = undefined;
    if (open) {
      for (const c of [...open.chain].reverse()) {
        c.end();
      }
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
    private readonly options: Omit<ConnectOptions, 'signal'>,
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
