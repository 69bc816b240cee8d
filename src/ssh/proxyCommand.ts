// ProxyCommand for the ssh2 transport: the command runs under /bin/sh with OpenSSH's tokens expanded,
// and its stdin/stdout become the socket ssh2 speaks SSH over. The child ends with the connection.
import { spawn } from 'child_process';
import { Duplex } from 'stream';
import { errors, UserError } from '../common/errors';
import type { Logger } from '../common/logger';
import { parseHostSpec } from './sshConfig';

export interface ProxyTarget {
  /** The name the user gave (user@host:port or an alias); %n is its host part, as ssh's host argument. */
  alias: string;
  /** %h: HostName after the config. */
  hostName: string;
  port: number;
  user: string;
}

/** The tokens OpenSSH expands in ProxyCommand (%h %k %n %p %r %%); any other is an error there too. */
export function expandProxyCommand(command: string, target: ProxyTarget): string {
  const hostArgument = parseHostSpec(target.alias).host;
  return command.replace(/%(.)/g, (whole, token: string) => {
    switch (token) {
      case '%':
        return '%';
      case 'h':
        return target.hostName;
      case 'n':
        return hostArgument;
      case 'k':
        return hostArgument;
      case 'p':
        return String(target.port);
      case 'r':
        return target.user;
      default:
        throw errors.proxyCommandFailed(
          target.alias,
          command,
          `uses ${whole}, which ProxyCommand does not accept (only %h, %p, %r, %n, %k and %%)`,
          '',
        );
    }
  });
}

export interface ProxyProcess {
  /** The stream ssh2 uses as its socket. */
  sock: Duplex;
  /** Ends the command (SIGTERM); harmless once it has exited. */
  kill(): void;
  /** The command as run, tokens expanded. */
  command: string;
  /** The end of what the command wrote to stderr. */
  stderr(): string;
  /** Why the command failed, once it exited or could not start; undefined while it runs. */
  failure(): UserError | undefined;
  /** Resolves when the command has exited. */
  exited: Promise<void>;
}

const STDERR_KEPT = 4096;

export function startProxyCommand(command: string, target: ProxyTarget, log: Logger): ProxyProcess {
  const expanded = expandProxyCommand(command, target);
  log.info(`ProxyCommand for ${target.alias}: ${expanded}`);
  // exec, as OpenSSH does, so the shell does not linger between us and the command.
  const child = spawn('/bin/sh', ['-c', `exec ${expanded}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
    log.debug(`ProxyCommand (${target.alias}): ${chunk.trimEnd()}`);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      log.debug(`ProxyCommand for ${target.alias} exited (${code ?? signal}).`);
      resolve();
    });
  });
  const sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
  // The pair only closes when both halves end; a command that exited has no more to say, so the
  // socket closes with it and ssh2 reports at once instead of at its ready timeout.
  child.once('close', () => sock.destroy());
  // A write after the command exited is an EPIPE on its stdin; ssh2 sees the close and reports it.
  sock.on('error', (err) => log.debug(`ProxyCommand stream for ${target.alias}: ${err.message}`));
  child.stdin.on('error', () => undefined);

  return {
    sock,
    exited,
    command: expanded,
    stderr: () => stderr,
    kill() {
      if (exit === undefined && spawnError === undefined) {
        child.kill('SIGTERM');
      }
    },
    failure() {
      if (spawnError) {
        return errors.proxyCommandFailed(target.alias, expanded, `could not start (${spawnError.message})`, stderr);
      }
      if (exit) {
        return errors.proxyCommandFailed(
          target.alias,
          expanded,
          exit.code !== null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`,
          stderr,
        );
      }
      return undefined;
    },
  };
}
