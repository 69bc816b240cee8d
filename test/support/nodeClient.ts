// Builds the extension's own SSH stack (resolver, connection, prompts) against a test node's SSH
// config, so end-to-end tests exercise exactly the code the extension runs.
import { writeFileSync } from 'fs';
import * as path from 'path';
import { tempDir } from './tempDirs';
import type { Logger } from '../../src/common/logger';
import type { ConnectPrompts } from '../../src/ssh/connect';
import { ConnectionManager, NodeConnection } from '../../src/ssh/nodeConnection';
import { SshConfigResolver } from '../../src/ssh/sshConfig';
import type { TransportSetting } from '../../src/ssh/transportChoice';
import type { TestNode } from '../node/testNode';

export interface RecordingPrompts extends ConnectPrompts {
  calls: { kind: string; detail: string }[];
}

/** Prompts that answer as told and record what was asked. */
export function recordingPrompts(
  answers: { trust?: boolean; passphrase?: string; password?: string; keyboardInteractive?: (prompt: string) => string | undefined } = {},
): RecordingPrompts {
  const calls: { kind: string; detail: string }[] = [];
  return {
    calls,
    async trustHostKey(r) {
      calls.push({ kind: 'trust', detail: `${r.host}:${r.port} ${r.keyType} ${r.fingerprint}` });
      return answers.trust ?? false;
    },
    async passphrase(file) {
      calls.push({ kind: 'passphrase', detail: file });
      return answers.passphrase;
    },
    async password(user, host) {
      calls.push({ kind: 'password', detail: `${user}@${host}` });
      return answers.password;
    },
    async keyboardInteractive(r) {
      const replies: string[] = [];
      for (const p of r.prompts) {
        calls.push({ kind: 'keyboard-interactive', detail: `${r.user}@${r.host} ${JSON.stringify(p.prompt)} echo=${p.echo}` });
        const reply = answers.keyboardInteractive?.(p.prompt);
        if (reply === undefined) {
          return undefined;
        }
        replies.push(reply);
      }
      return replies;
    },
  };
}

export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, trace: add('trace'), debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

/**
 * The transports a suite that runs over both loops over. KRD_TRANSPORTS=openssh (comma-separated)
 * narrows it while working on one; npm test runs both.
 */
export const TRANSPORTS: readonly TransportSetting[] = (process.env.KRD_TRANSPORTS ?? 'ssh2,openssh')
  .split(',')
  .map((t) => t.trim())
  .filter((t): t is TransportSetting => t === 'ssh2' || t === 'openssh' || t === 'auto');

/** KRD_TRANSPORT=openssh runs every suite's default connections over that transport (a whole-suite check). */
const DEFAULT_TRANSPORT: TransportSetting =
  process.env.KRD_TRANSPORT === 'openssh' || process.env.KRD_TRANSPORT === 'ssh2' ? process.env.KRD_TRANSPORT : 'auto';

export function managerFor(
  configFile: string,
  prompts: ConnectPrompts = recordingPrompts(),
  transport: TransportSetting = DEFAULT_TRANSPORT,
  log: Logger = memoryLogger(),
): ConnectionManager {
  const resolver = new SshConfigResolver({ userConfigFile: configFile, systemConfigFile: '/nonexistent', env: {} });
  return new ConnectionManager(resolver, { prompts, log, defaultTimeoutSeconds: 10, transport: () => transport }, log);
}

export function connect(
  node: TestNode,
  who: 'root' | 'sudo' | 'needsPassword' = 'root',
  prompts?: ConnectPrompts,
  transport: TransportSetting = DEFAULT_TRANSPORT,
): NodeConnection {
  return managerFor(node.sshConfigPath, prompts, transport).get(node.sshHosts[who]);
}

/** A private SSH config for one test: the node's address and key, with the given extra lines. */
export function customConfig(node: TestNode, alias: string, lines: string[], user = 'root'): string {
  const dir = tempDir('cfg');
  const file = path.join(dir, 'config');
  // The extra lines go first: in an SSH config the first value wins.
  writeFileSync(
    file,
    [
      `Host ${alias}`,
      ...lines.map((l) => `  ${l}`),
      `  HostName ${node.address}`,
      `  Port ${node.port}`,
      `  User ${user}`,
      `  IdentityFile ${node.keyPath}`,
      '  IdentitiesOnly yes',
      '',
    ].join('\n'),
  );
  return file;
}
