// Shutting down in a real VS Code: writing to a log channel that VS Code already disposed must not
// throw ("Channel has been closed"), so the connection manager still closes every connection.
import * as assert from 'assert';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { ConnectionManager } from '../../src/ssh/nodeConnection';
import { SshConfigResolver } from '../../src/ssh/sshConfig';
import { asLogger } from '../../src/ui/logChannels';
import { testNode, until } from './testNodeAccess';

interface BootedNode {
  address: string;
  port: number;
  keyPath: string;
  knownHostsPath: string;
}

describe('shutdown with the log channel already closed', function () {
  this.timeout(60_000);

  it('logging to the disposed channel does not throw, and ConnectionManager.dispose closes every connection', async () => {
    const node = testNode() as unknown as BootedNode;
    const dir = mkdtempSync(path.join(tmpdir(), 'krd-shutdown-'));
    const channel = vscode.window.createOutputChannel('Kubelet: shutdown test 2', { log: true });
    const log = asLogger(channel);
    const config = path.join(dir, 'config');
    const host = (alias: string) => [
      `Host ${alias}`,
      `  HostName ${node.address}`,
      `  Port ${node.port}`,
      '  User root',
      `  IdentityFile ${node.keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${node.knownHostsPath}`,
      '',
    ];
    writeFileSync(config, [...host('first'), ...host('second'), ...host('third')].join('\n'));
    const refuse = {
      trustHostKey: async () => false,
      passphrase: async () => undefined,
      password: async () => undefined,
      keyboardInteractive: async () => undefined,
    };
    const manager = new ConnectionManager(
      new SshConfigResolver({ userConfigFile: config }),
      { prompts: refuse, log, defaultTimeoutSeconds: 15 },
      log,
    );
    try {
      const closed = new Set<string>();
      for (const alias of ['first', 'second', 'third']) {
        const client = await manager.get(alias).client();
        client.on('close', () => closed.add(alias));
      }
      channel.dispose();
      // What VS Code does with a write to a closed channel: the reason the adapter must guard.
      assert.throws(() => channel.info('raw write'), /Channel has been closed/);
      for (const write of [log.trace, log.debug, log.info, log.warn, log.error]) {
        assert.doesNotThrow(() => write('after dispose'));
      }
      assert.doesNotThrow(() => manager.dispose());
      await until('every connection to close', () => (closed.size === 3 ? true : undefined), 15_000);
    } finally {
      manager.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
