// A test node as seen through a link relay: the same Host aliases, users and keys, but HostName 127.0.0.1
// and the relay's port, with the node's host key recorded for [127.0.0.1]:PORT, so ssh2 and OpenSSH both
// still verify it (StrictHostKeyChecking yes) while every byte crosses the emulated link.
import { writeFileSync } from 'fs';
import * as path from 'path';
import { runSsh, TestNode } from '../node/testNode';
import { LinkProfile, LinkRelay } from './linkRelay';
import { tempDir } from './tempDirs';

export interface RelayedNode extends TestNode {
  relay: LinkRelay;
  /** The node itself, without the relay (for setup and checks that should not pay the link). */
  direct: TestNode;
}

export async function relayedNode(node: TestNode, profile: LinkProfile): Promise<RelayedNode> {
  const relay = await LinkRelay.start({ host: node.address, port: node.port }, profile);
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
