// Opens one authenticated ssh2 connection to a resolved host, dialling through each ProxyJump hop
// in turn, verifying every hop's host key, and trying the agent, then key files, then a password.
import { promises as fs } from 'fs';
import type { AnyAuthMethod, AuthenticationType, Client, ClientChannel, NextAuthHandler } from 'ssh2';
import type { Readable } from 'stream';
import { errors, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import { HandshakeDeadline } from './handshakeDeadline';
import { appendKnownHost, fingerprint, keyTypeOf, readKnownHosts, removeKnownHostCommand, verifyHostKey } from './knownHosts';
import { ProxyProcess, startProxyCommand } from './proxyCommand';
import type { ResolvedHost } from './sshConfig';

/** How long a failed proxied connection waits for the ProxyCommand to exit, so its error can be shown. */
const PROXY_EXIT_GRACE_MS = 1000;

/** What the connection needs from a person. The VS Code side answers with dialogs. */
export interface ConnectPrompts {
  /** An unknown host key: true to trust it (it is then saved to known_hosts). */
  trustHostKey(request: { host: string; port: number; keyType: string; fingerprint: string; knownHostsFile: string }): Promise<boolean>;
  /** A passphrase for an encrypted key file, or undefined to skip that key. */
  passphrase(keyFile: string): Promise<string | undefined>;
  /** A password for user@host, or undefined to give up. */
  password(user: string, host: string): Promise<string | undefined>;
  /**
   * A keyboard-interactive round (a PAM password, a one-time code): one answer per prompt, in order,
   * or undefined when the person cancels. `echo: false` means the answer is secret.
   */
  keyboardInteractive(request: KeyboardInteractiveRequest): Promise<string[] | undefined>;
}

export interface KeyboardInteractiveRequest {
  user: string;
  host: string;
  /** The server's title for this round, often empty. */
  name: string;
  instructions: string;
  prompts: { prompt: string; echo: boolean }[];
}

export interface ConnectOptions {
  prompts: ConnectPrompts;
  log: Logger;
  defaultTimeoutSeconds: number;
  signal?: AbortSignal;
}

/**
 * ssh2 is most of the extension's load time; it is loaded on the first connection, not at activation.
 * (esbuild keeps a require inside a function lazy.)
 */
function ssh2(): typeof import('ssh2') {
  return require('ssh2') as typeof import('ssh2');
}

export interface OpenConnection {
  client: Client;
  /** Every hop's client, target last; closing the first closes the whole chain. */
  chain: Client[];
}

export async function connectHost(target: ResolvedHost, options: ConnectOptions): Promise<OpenConnection> {
  const chain: Client[] = [];
  try {
    let sock: Readable | undefined;
    const hops = [...target.proxyJump, target];
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i];
      // As in OpenSSH, only the first hop dials with its ProxyCommand; later hops go through the one before.
      const proxy = i === 0 && hop.proxyCommand ? startProxyCommand(hop.proxyCommand, hop, options.log) : undefined;
      let client: Client;
      try {
        client = await connectHop(hop, proxy?.sock ?? sock, options, proxy);
      } catch (err) {
        proxy?.kill();
        throw err;
      }
      if (proxy) {
        client.once('close', () => proxy.kill());
      }
      chain.push(client);
      if (i < hops.length - 1) {
        const next = hops[i + 1];
        sock = await forwardTo(client, next.hostName, next.port).catch((err: Error) => {
          throw errors.proxyJumpFailed(hop.alias, `${next.hostName}:${next.port}`, err.message);
        });
      }
    }
    return { client: chain[chain.length - 1], chain };
  } catch (err) {
    for (const client of chain.reverse()) {
      client.end();
    }
    throw err;
  }
}

function forwardTo(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

async function connectHop(hop: ResolvedHost, sock: Readable | undefined, options: ConnectOptions, proxy?: ProxyProcess): Promise<Client> {
  const { log } = options;
  const timeoutSeconds = hop.connectTimeoutSeconds ?? options.defaultTimeoutSeconds;
  const knownHosts = await readKnownHosts(hop.knownHostsFiles);
  let onPersonCancelled = () => undefined as void;
  let onDeadline = () => undefined as void;
  // ssh2's readyTimeout would also count the time a person takes to answer a prompt.
  const deadline = new HandshakeDeadline(timeoutSeconds * 1000, () => onDeadline());
  const prompts = deadline.pausing(options.prompts);
  const authMethods = await planAuth(hop, prompts, log, () => onPersonCancelled());
  const tried: string[] = [];
  /** A first factor was accepted (AuthenticationMethods asks for more). */
  let partial = false;
  let hostKeyError: UserError | undefined;

  const client = new (ssh2().Client)();
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) {
        return;
      }
      settled = true;
      deadline.clear();
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.end();
        reject(err);
      } else {
        resolve(client);
      }
    };
    const onAbort = () => finish(errors.cancelled());
    // Sending no answers would make sshd drop the connection as a protocol error; the person said stop.
    onPersonCancelled = () => finish(errors.loginCancelled(hop.user, hop.alias));
    options.signal?.addEventListener('abort', onAbort);

    client.on('ready', () => {
      log.info(`Connected to ${hop.user}@${hop.hostName}:${hop.port}${sock ? ' (through a jump host)' : ''}.`);
      finish();
    });
    /** A failure on a proxied connection is the proxy's when the command ended (it gets a moment to). */
    const finishBlaming = (fallback: () => UserError) => {
      if (!proxy || hostKeyError) {
        finish(hostKeyError ?? fallback());
        return;
      }
      const grace = new Promise<void>((resolve) => setTimeout(resolve, PROXY_EXIT_GRACE_MS).unref());
      void Promise.race([proxy.exited, grace]).then(() => finish(proxy.failure() ?? fallback()));
    };
    const onError = (err: Error & { level?: string }) => {
      log.debug(`ssh2 error on ${hop.alias}: ${err.level ?? ''} ${err.message}`);
      if (err.level === 'client-authentication' || err instanceof UserError) {
        finish(hostKeyError ?? mapConnectError(hop, err, tried, timeoutSeconds, partial));
      } else if (proxy && (err.level === 'client-timeout' || /timed out/i.test(err.message))) {
        finish(
          proxy.failure() ??
            errors.proxyCommandFailed(hop.alias, proxy.command, `carried no SSH handshake within ${timeoutSeconds} s`, proxy.stderr()),
        );
      } else {
        finishBlaming(() => mapConnectError(hop, err, tried, timeoutSeconds, partial));
      }
    };
    client.on('error', onError);
    onDeadline = () => {
      onError(Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }));
      client.destroy();
    };
    // Where the connection got to decides whom an early close blames: the address only before sshd answered.
    let stage: 'dialling' | 'key exchange' | 'authentication' = 'dialling';
    client.on('connect', () => (stage = 'key exchange'));
    client.on('handshake', () => (stage = 'authentication'));
    client.on('close', () =>
      finishBlaming(() =>
        stage === 'dialling' || (proxy && stage === 'key exchange')
          ? proxy
            ? errors.proxyCommandFailed(hop.alias, proxy.command, 'closed the connection before an SSH server answered', proxy.stderr())
            : errors.unreachable(hop.alias, 'the connection closed before the SSH server answered')
          : errors.handshakeClosed(hop.alias, `during ${stage}${tried.length > 0 ? ` (after trying ${tried.join(', ')})` : ''}`),
      ),
    );

    client.connect({
      host: hop.hostName,
      port: hop.port,
      sock,
      username: hop.user,
      // 0: no timer of ssh2's own; the deadline above stands in for it.
      readyTimeout: 0,
      keepaliveInterval: hop.keepaliveIntervalMs,
      keepaliveCountMax: hop.keepaliveCountMax,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        checkHostKey(hop, key, knownHosts, prompts, log).then(
          () => verify(true),
          (err: UserError) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
      authHandler: (left: AuthenticationType[] | null, partialSuccess: boolean, next: NextAuthHandler) => {
        partial ||= partialSuccess;
        const method = nextAuth(authMethods, left);
        if (!method) {
          next(false as unknown as AuthenticationType);
          return;
        }
        tried.push(describeAuth(method));
        void method.resolve().then((resolved) => next(resolved ?? (false as unknown as AuthenticationType)));
      },
    });
    // Nagle's algorithm stalls small DAP messages and SFTP requests. Measured on loopback (ssh2 1.17,
    // 120 MiB): an SFTP write stream took 58 s without this and 1.25 s with it; connect-to-ready fell
    // from 93 to 53 ms.
    client.setNoDelay(true);
    deadline.start();
  });
}

async function checkHostKey(
  hop: ResolvedHost,
  key: Buffer,
  knownHosts: Awaited<ReturnType<typeof readKnownHosts>>,
  prompts: ConnectPrompts,
  log: Logger,
): Promise<void> {
  const verdict = verifyHostKey(knownHosts, hop.hostName, hop.port, key);
  const fp = fingerprint(key);
  switch (verdict.status) {
    case 'known':
      log.debug(`Host key of ${hop.hostName} matches ${verdict.file}:${verdict.line}.`);
      return;
    case 'revoked':
      throw errors.hostKeyRevoked(hop.alias, verdict.file, verdict.line);
    case 'changed':
      log.error(`Host key of ${hop.hostName}:${hop.port} changed: ${fp} does not match ${verdict.file}:${verdict.line}.`);
      throw errors.hostKeyChanged(hop.alias, fp, verdict.file, verdict.line, removeKnownHostCommand(verdict.file, hop.hostName, hop.port));
    case 'unknown': {
      const file = hop.knownHostsFiles[0];
      if (hop.strictHostKeyChecking === 'yes' || !file) {
        throw errors.hostKeyRejected(hop.alias, fp);
      }
      // accept-new and no would accept silently in OpenSSH; we still ask, as we promise never to.
      const trusted = await prompts.trustHostKey({
        host: hop.hostName,
        port: hop.port,
        keyType: keyTypeOf(key),
        fingerprint: fp,
        knownHostsFile: file,
      });
      if (!trusted) {
        throw errors.hostKeyRejected(hop.alias, fp);
      }
      await appendKnownHost(file, hop.hostName, hop.port, key, hop.hashKnownHosts);
      log.info(`Added the host key of ${hop.hostName} (${fp}) to ${file}.`);
      return;
    }
  }
}

interface PlannedAuth {
  kind: 'agent' | 'publickey' | 'keyboard-interactive' | 'password';
  label: string;
  resolve(): Promise<AnyAuthMethod | undefined>;
}

/** The order OpenSSH uses: the agent, then each readable key file, then a password as last resort. */
async function planAuth(hop: ResolvedHost, prompts: ConnectPrompts, log: Logger, cancelled: () => void): Promise<PlannedAuth[]> {
  const plan: PlannedAuth[] = [];
  if (hop.identityAgent && !hop.identitiesOnly) {
    const agent = hop.identityAgent;
    plan.push({ kind: 'agent', label: 'ssh-agent', resolve: async () => ({ type: 'agent', username: hop.user, agent }) });
  }
  for (const file of hop.identityFiles) {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      continue; // OpenSSH skips identity files that do not exist, too.
    }
    plan.push({
      kind: 'publickey',
      label: file,
      resolve: async () => {
        let parsed = ssh2().utils.parseKey(data);
        if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
          const passphrase = await prompts.passphrase(file);
          if (passphrase === undefined) {
            return skip();
          }
          parsed = ssh2().utils.parseKey(data, passphrase);
        }
        if (parsed instanceof Error) {
          log.warn(`Skipping key ${file}: ${parsed.message}`);
          return skip();
        }
        const key = Array.isArray(parsed) ? parsed[0] : parsed;
        return { type: 'publickey', username: hop.user, key };
      },
    });
  }
  plan.push({
    kind: 'keyboard-interactive',
    label: 'keyboard-interactive',
    resolve: async () => ({
      type: 'keyboard-interactive',
      username: hop.user,
      prompt: (name, instructions, _lang, serverPrompts, finish) => {
        // A round without prompts (PAM's info messages) needs no person.
        if (serverPrompts.length === 0) {
          finish([]);
          return;
        }
        log.info(`${hop.alias} asks ${serverPrompts.length} keyboard-interactive question(s)${name ? ` (${name})` : ''}.`);
        prompts
          .keyboardInteractive({
            user: hop.user,
            host: hop.alias,
            name,
            instructions,
            prompts: serverPrompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
          })
          .then((answers) => (answers ? finish(answers) : cancelled()), cancelled);
      },
    }),
  });
  plan.push({
    kind: 'password',
    label: 'password',
    resolve: async () => {
      const password = await prompts.password(hop.user, hop.alias);
      return password === undefined ? undefined : { type: 'password', username: hop.user, password };
    },
  });
  return plan;

  // ssh2 wants a method for every call; 'none' is a harmless way to move on to the next one.
  function skip(): AnyAuthMethod {
    return { type: 'none', username: hop.user };
  }
}

/**
 * Takes the next method the node takes. Until the node has listed its methods (the first attempt),
 * nothing that asks a person a server-side question is tried; once it has, methods it did not list
 * are dropped: no password it would refuse, and no more keys after a key was accepted as a first factor.
 */
function nextAuth(plan: PlannedAuth[], left: AuthenticationType[] | null): PlannedAuth | undefined {
  if (left === null) {
    const index = plan.findIndex((m) => m.kind !== 'keyboard-interactive');
    return index < 0 ? undefined : plan.splice(index, 1)[0];
  }
  let method = plan.shift();
  while (method && !left.includes(method.kind === 'agent' ? 'publickey' : method.kind)) {
    method = plan.shift();
  }
  return method;
}

function describeAuth(method: PlannedAuth): string {
  return method.kind === 'publickey' ? `key ${method.label}` : method.label;
}

function mapConnectError(
  hop: ResolvedHost,
  err: Error & { level?: string; code?: string },
  tried: string[],
  timeoutSeconds: number,
  partial: boolean,
): UserError {
  if (err instanceof UserError) {
    return err;
  }
  if (err.level === 'client-authentication') {
    return errors.authFailed(hop.alias, hop.user, tried, partial);
  }
  if (err.level === 'client-timeout' || /timed out/i.test(err.message)) {
    return errors.connectTimeout(hop.alias, timeoutSeconds);
  }
  const cause =
    err.code === 'ECONNREFUSED'
      ? `connection refused at ${hop.hostName}:${hop.port}`
      : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
        ? `the name ${hop.hostName} does not resolve`
        : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
          ? `no route to ${hop.hostName}`
          : err.message;
  return errors.unreachable(hop.alias, cause);
}
