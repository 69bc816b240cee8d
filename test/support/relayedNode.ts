// A test node as seen through a link relay: the same Host aliases, users and keys, but HostName 127.0.0.1
// and the relay's port, with the node's host key recorded for [127.0.0.1]:PORT, so ssh2 and OpenSSH both
// still verify it (StrictHostKeyChecking yes) while every byte crosses the emulated link.
import { spawn } from 'child_process';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { runSsh, TestNode } from '../node/testNode';
import { LinkProfile, LinkRelay } from './linkRelay';
import { tempDir } from './tempDirs';

/** A relay running here or in a process of its own. */
export interface RunningRelay {
  port: number;
  profile: LinkProfile;
  close(): Promise<void>;
}

export interface RelayedNode extends TestNode {
  relay: RunningRelay;
  /** The node itself, without the relay (for setup and checks that should not pay the link). */
  direct: TestNode;
}

/**
 * `separateProcess`: the relay runs in a Node process of its own, so the code measured in this process
 * (ssh2's crypto, say) does not share an event loop with the link it is measured over, as OpenSSH does not.
 */
export async function relayedNode(node: TestNode, profile: LinkProfile, options: { separateProcess?: boolean } = {}): Promise<RelayedNode> {
  const target = { host: node.address, port: node.port };
  const relay = options.separateProcess ? await relayProcess(target, profile) : await LinkRelay.start(target, profile);
  const dir = tempDir('relay');
  const knownHostsPath = path.join(dir, 'known_hosts');
  const [keyType, key] = node.hostKeyPublic.trim().split(/\s+/);
  writeFileSync(knownHostsPath, `[127.0.0.1]:${relay.port} ${keyType} ${key}\n`);
  const sshConfigPath = path.join(dir, 'ssh_config');
  const users = { root: node.users.root, sudo: node.users.sudo, needsPassword: node.users.needsPassword };
  writeFileSync(
    sshConfigPath,
    (['root', 'sudo', 'needsPassword'] as const)
      .map((who) =>
        [
          `Host ${node.sshHosts[who]}`,
          '  HostName 127.0.0.1',
          `  Port ${relay.port}`,
          `  User ${users[who]}`,
          `  IdentityFile ${node.keyPath}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHostsPath}`,
          '  StrictHostKeyChecking yes',
          '',
        ].join('\n'),
      )
      .join('\n'),
  );
  return {
    ...node,
    address: '127.0.0.1',
    port: relay.port,
    knownHostsPath,
    sshConfigPath,
    relay,
    direct: node,
    ssh: (command) => runSsh(sshConfigPath, node.sshHosts.root, command),
    // Stops the relay only; the node belongs to whoever booted it.
    stop: () => relay.close(),
  };
}

/** Starts a LinkRelay in a child Node process; it prints its port, and ends when told or when we exit. */
async function relayProcess(target: { host: string; port: number }, profile: LinkProfile): Promise<RunningRelay> {
  const script = [
    `const { LinkRelay } = require(${JSON.stringify(require.resolve('./linkRelay'))});`,
    `LinkRelay.start(${JSON.stringify(target)}, ${JSON.stringify(profile)}).then((r) => console.log(r.port));`,
    // The parent's end of stdin closes when it exits, however it exits.
    "process.stdin.on('end', () => process.exit(0)).resume();",
  ].join('\n');
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) {
        resolve(Number(out.trim()));
      }
    });
    child.once('exit', (code) => reject(new Error(`the link relay process exited (${code}) before listening`)));
  });
  return {
    port,
    profile,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
