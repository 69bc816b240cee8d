// ProxyJump and ProxyCommand against real sshd: a second node is reachable only through the shared
// node, over a veth that lives inside the two nodes' network namespaces, so the host has no path to it.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ErrorCode } from '../../src/common/errors';
import { bootTestNode, TestNode } from '../node/testNode';
import { managerFor, recordingPrompts } from '../support/nodeClient';
import { expectUserError } from '../support/expectUserError';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { sharedNode } from './hooks';

/** The container's PID 1 (nspawn's child in another PID namespace), whose network namespace is the node's. */
function nodeInitPid(node: TestNode): number {
  const nspawnPid = (JSON.parse(readFileSync(path.join(node.stateDir, 'node.json'), 'utf8')) as { nspawnPid: number }).nspawnPid;
  const nspawnPidNs = readlinkSync(`/proc/${nspawnPid}/ns/pid`);
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === nspawnPid && readlinkSync(`/proc/${entry}/ns/pid`) !== nspawnPidNs) {
        return Number(entry);
      }
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no init process found for ${node.name} (nspawn ${nspawnPid})`);
}

function inNode(pid: number, args: string[]): void {
  execFileSync('nsenter', ['-t', String(pid), '-n', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface NodeLink {
  /** The target's address on the link: reachable from the jump node, not from the host. */
  targetAddress: string;
  unlink(): void;
}

/**
 * Joins two nodes with a veth pair created straight into their namespaces. No host setting changes
 * (no forwarding, routes or bridges), and when either node stops its namespace goes and the pair
 * with it, so a killed run leaves nothing behind. The /30 is 10.213.T.4, inside the /24 that the
 * target's claimed index T reserves, so it collides with no other node.
 */
function linkNodes(jump: TestNode, target: TestNode): NodeLink {
  const index = Number(target.address.split('.')[2]);
  const jumpPid = nodeInitPid(jump);
  const targetPid = nodeInitPid(target);
  const jumpIf = `pj-${target.name}`;
  const targetIf = `pj-${jump.name}`;
  const targetAddress = `10.213.${index}.5`;
  execFileSync('ip', [
    'link',
    'add',
    jumpIf,
    'netns',
    String(jumpPid),
    'type',
    'veth',
    'peer',
    'name',
    targetIf,
    'netns',
    String(targetPid),
  ]);
  const unlink = () => {
    try {
      inNode(jumpPid, ['ip', 'link', 'delete', jumpIf]); // takes the peer with it
    } catch {
      // The node is gone already, and the pair with it.
    }
  };
  try {
    inNode(jumpPid, ['ip', 'addr', 'add', `10.213.${index}.6/30`, 'dev', jumpIf]);
    inNode(jumpPid, ['ip', 'link', 'set', jumpIf, 'up']);
    inNode(targetPid, ['ip', 'addr', 'add', `${targetAddress}/30`, 'dev', targetIf]);
    inNode(targetPid, ['ip', 'link', 'set', targetIf, 'up']);
  } catch (err) {
    unlink();
    throw err;
  }
  return { targetAddress, unlink };
}

/**
 * True if sshd answers the host at address:port within the time limit. A banner is required, not just
 * a connection: on some machines a transparent proxy accepts every outbound connection.
 */
function hostGetsSshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let received = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.length >= 4) {
        clearTimeout(timer);
        done(received.startsWith('SSH-'));
      }
    });
    socket.once('error', () => {
      clearTimeout(timer);
      done(false);
    });
  });
}

interface HostEntry {
  alias: string;
  hostName: string;
  lines?: string[];
}

/** PIDs of processes whose command line (words joined by spaces) contains `marker`. */
function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker)) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitUntil(what: string, condition: () => boolean, limitMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 100) {
    if (waited >= limitMs) {
      assert.fail(`${what} did not happen within ${limitMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('ProxyJump and ProxyCommand through a second node', function () {
  this.timeout(120_000);
  let jump: TestNode;
  let target: TestNode | undefined;
  let link: NodeLink | undefined;
  let dir: string;

  /** An SSH config in which every host uses the harness key; the extra lines go first, as the first value wins. */
  function writeConfig(name: string, hosts: HostEntry[], knownHosts: string): string {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      hosts
        .flatMap((h) => [
          `Host ${h.alias}`,
          ...(h.lines ?? []).map((l) => `  ${l}`),
          `  HostName ${h.hostName}`,
          '  Port 22',
          '  User root',
          `  IdentityFile ${jump.keyPath}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHosts}`,
          '  GlobalKnownHostsFile /nonexistent',
          '',
        ])
        .join('\n'),
    );
    return file;
  }

  /** A config where `target` (at hostName) is reached with `ProxyJump jump`. */
  function viaJump(name: string, hostName: string, knownHosts: string): string {
    return writeConfig(
      name,
      [
        { alias: 'target', hostName, lines: ['ProxyJump jump'] },
        { alias: 'jump', hostName: jump.address },
      ],
      knownHosts,
    );
  }

  /** A known_hosts file with a host key (by default the nodes' shared one) for each of these addresses. */
  function knownHostsFor(name: string, addresses: string[], key = jump.hostKeyPublic): string {
    const file = path.join(dir, name);
    writeFileSync(file, addresses.map((a) => `${a} ${key.split(' ').slice(0, 2).join(' ')}\n`).join(''));
    return file;
  }

  before(async function () {
    this.timeout(180_000);
    jump = sharedNode();
    dir = tempDir('pj');
    target = await bootTestNode({ log: (line) => process.stdout.write(`    [target] ${line}\n`) });
    link = linkNodes(jump, target);
  });

  after(async function () {
    this.timeout(60_000);
    link?.unlink();
    await target?.stop();
    if (dir) {
      removeTempDir(dir);
    }
  });

  it('reaches the target only through the jump node', async () => {
    const route = execFileSync('ip', ['-o', 'route', 'get', link!.targetAddress], { encoding: 'utf8' });
    assert.doesNotMatch(route, / dev ve-/, 'the host routes the target address to no node');
    assert.strictEqual(await hostGetsSshBanner(link!.targetAddress, 22, 2000), false, 'the host itself has no path to the target');
    const banner = await jump.ssh(`timeout 5 bash -c 'exec 3<>/dev/tcp/${link!.targetAddress}/22 && head -c 7 <&3'`);
    assert.strictEqual(banner.stdout, 'SSH-2.0', `the jump node reaches the target's sshd: ${banner.stderr}`);
  });

  it("runs a command on the target through the jump host, with every hop's key verified", async () => {
    const knownHosts = knownHostsFor('kh-ok', [jump.address, link!.targetAddress]);
    const config = viaJump('config-ok', link!.targetAddress, knownHosts);
    const prompts = recordingPrompts({ trust: false });
    const m = managerFor(config, prompts);
    try {
      const conn = m.get('target');
      assert.strictEqual((await conn.exec(['hostname'])).stdout.trim(), target!.name, 'the command ran on the target, not the jump node');
      assert.strictEqual((await conn.execAsRoot(['systemctl', 'is-active', 'kubelet'])).stdout.trim(), 'active');
      assert.deepStrictEqual(prompts.calls, [], 'both keys were known, so nothing was asked');
      assert.deepStrictEqual(conn.state, { kind: 'ready', user: 'root', hostName: link!.targetAddress });
    } finally {
      m.dispose();
    }
  });

  it('asks about an unknown target key with its fingerprint, behind a known jump key', async () => {
    const knownHosts = knownHostsFor('kh-unknown', [jump.address]);
    const config = viaJump('config-unknown', link!.targetAddress, knownHosts);
    const keyFile = path.join(dir, 'host.pub');
    writeFileSync(keyFile, target!.hostKeyPublic + '\n');
    const expectedFp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyFile], { encoding: 'utf8' }).split(' ')[1];

    const declined = recordingPrompts({ trust: false });
    const m1 = managerFor(config, declined);
    try {
      await expectUserError(m1.get('target').exec(['true']), ErrorCode.HostKeyUnknownRejected);
    } finally {
      m1.dispose();
    }
    assert.deepStrictEqual(
      declined.calls,
      [{ kind: 'trust', detail: `${link!.targetAddress}:22 ssh-ed25519 ${expectedFp}` }],
      'asked once, about the target only',
    );
    assert.strictEqual(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean).length, 1, 'nothing was saved');

    const accepted = recordingPrompts({ trust: true });
    const m2 = managerFor(config, accepted);
    try {
      assert.strictEqual((await m2.get('target').exec(['hostname'])).stdout.trim(), target!.name);
    } finally {
      m2.dispose();
    }
    assert.strictEqual(accepted.calls.length, 1);
    // OpenSSH agrees with the entry we saved, through its own ProxyJump, with strict checking.
    const out = execFileSync('ssh', ['-F', config, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'target', 'hostname'], {
      encoding: 'utf8',
    });
    assert.strictEqual(out.trim(), target!.name);
  });

  it('refuses a changed target key without asking', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'impostor')]);
    const impostor = readFileSync(path.join(dir, 'impostor.pub'), 'utf8');
    const knownHosts = path.join(dir, 'kh-changed');
    writeFileSync(
      knownHosts,
      readFileSync(knownHostsFor('kh-jump-only', [jump.address]), 'utf8') +
        readFileSync(knownHostsFor('kh-impostor', [link!.targetAddress], impostor), 'utf8'),
    );
    const config = viaJump('config-changed', link!.targetAddress, knownHosts);
    const prompts = recordingPrompts({ trust: true });
    const m = managerFor(config, prompts);
    try {
      const err = await expectUserError(m.get('target').exec(['true']), ErrorCode.HostKeyChanged);
      assert.ok(err.message.includes(`${knownHosts}:2`), err.message);
    } finally {
      m.dispose();
    }
    assert.deepStrictEqual(prompts.calls, []);
  });

  it('names the jump host and the target when the jump host cannot reach it', async () => {
    // The target's host-side address: the host reaches it, but the jump node has no route there.
    const knownHosts = knownHostsFor('kh-noroute', [jump.address, target!.address]);
    const config = viaJump('config-noroute', target!.address, knownHosts);
    const m = managerFor(config);
    try {
      const started = Date.now();
      const err = await expectUserError(m.get('target').exec(['true']), ErrorCode.ProxyJumpFailed);
      assert.ok(err.message.includes('Jump host jump') && err.message.includes(`${target!.address}:22`), err.message);
      assert.ok(Date.now() - started < 10_000, 'no route fails at once, without waiting for a timeout');
    } finally {
      m.dispose();
    }
  });

  it("follows a two-hop chain (ProxyJump a,b) to the last hop's loopback", async () => {
    const knownHosts = knownHostsFor('kh-chain', [jump.address, link!.targetAddress, '127.0.0.1']);
    const config = writeConfig(
      'config-chain',
      [
        { alias: 'chain', hostName: '127.0.0.1', lines: ['ProxyJump jump,target-link'] },
        { alias: 'target-link', hostName: link!.targetAddress },
        { alias: 'jump', hostName: jump.address },
      ],
      knownHosts,
    );
    const prompts = recordingPrompts({ trust: false });
    const m = managerFor(config, prompts);
    try {
      // host -> jump -> target over the link -> the target's own 127.0.0.1: three sshd sessions.
      const r = await m.get('chain').exec(['/bin/sh', '-c', 'hostname; echo "$SSH_CONNECTION"']);
      const [name, sshConnection] = r.stdout.trim().split('\n');
      assert.strictEqual(name, target!.name);
      assert.match(sshConnection, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 22$/);
      assert.deepStrictEqual(prompts.calls, []);
    } finally {
      m.dispose();
    }
  });

  it("reaches the jump node's own loopback as a second hop", async () => {
    const knownHosts = knownHostsFor('kh-loop', [jump.address, '127.0.0.1']);
    const config = writeConfig(
      'config-loop',
      [
        { alias: 'loop', hostName: '127.0.0.1', lines: ['ProxyJump jump'] },
        { alias: 'jump', hostName: jump.address },
      ],
      knownHosts,
    );
    const m = managerFor(config);
    try {
      const r = await m.get('loop').exec(['/bin/sh', '-c', 'hostname; echo "$SSH_CONNECTION"']);
      const [name, sshConnection] = r.stdout.trim().split('\n');
      assert.strictEqual(name, jump.name);
      assert.match(sshConnection, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 22$/);
    } finally {
      m.dispose();
    }
  });

  /** `ProxyCommand ssh -F <the jump node's own ssh_config> -W %h:%p <jump>`: a bastion as many shops have it. */
  function viaProxyCommand(name: string, hostName: string, knownHosts: string, extra: HostEntry[] = []): string {
    return writeConfig(
      name,
      [{ alias: 'target', hostName, lines: [`ProxyCommand ssh -F ${jump.sshConfigPath} -W %h:%p ${jump.name}`] }, ...extra],
      knownHosts,
    );
  }

  it('runs a command on the target through a ProxyCommand bastion, and ends the command with the connection', async () => {
    const knownHosts = knownHostsFor('kh-pc', [link!.targetAddress]);
    const config = viaProxyCommand('config-pc', link!.targetAddress, knownHosts);
    const prompts = recordingPrompts({ trust: false });
    const m = managerFor(config, prompts);
    try {
      const conn = m.get('target');
      assert.strictEqual((await conn.exec(['hostname'])).stdout.trim(), target!.name, 'the command ran on the target');
      assert.strictEqual(processesMentioning(`-W ${link!.targetAddress}:22`).length > 0, true, 'ssh -W runs while connected');
      assert.deepStrictEqual(prompts.calls, []);
    } finally {
      m.dispose();
    }
    await waitUntil('the ProxyCommand ending after disconnect', () => processesMentioning(`-W ${link!.targetAddress}:22`).length === 0);
  });

  it('refuses a changed target key behind a ProxyCommand without asking', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'impostor-pc')]);
    const knownHosts = knownHostsFor('kh-pc-changed', [link!.targetAddress], readFileSync(path.join(dir, 'impostor-pc.pub'), 'utf8'));
    const config = viaProxyCommand('config-pc-changed', link!.targetAddress, knownHosts);
    const prompts = recordingPrompts({ trust: true });
    const m = managerFor(config, prompts);
    try {
      const err = await expectUserError(m.get('target').exec(['true']), ErrorCode.HostKeyChanged);
      assert.ok(err.message.includes(`${knownHosts}:1`), err.message);
    } finally {
      m.dispose();
    }
    assert.deepStrictEqual(prompts.calls, []);
  });

  it('follows a ProxyJump chain whose first hop dials with a ProxyCommand', async () => {
    const knownHosts = knownHostsFor('kh-pc-chain', [link!.targetAddress, '127.0.0.1']);
    const config = viaProxyCommand('config-pc-chain', link!.targetAddress, knownHosts, [
      { alias: 'behind', hostName: '127.0.0.1', lines: ['ProxyJump target'] },
    ]);
    const m = managerFor(config);
    try {
      const r = await m.get('behind').exec(['/bin/sh', '-c', 'hostname; echo "$SSH_CONNECTION"']);
      const [name, sshConnection] = r.stdout.trim().split('\n');
      assert.strictEqual(name, target!.name);
      assert.match(sshConnection, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 22$/);
    } finally {
      m.dispose();
    }
  });

  it('blames the ProxyCommand, with its own words, never HostName or Port', async () => {
    const knownHosts = knownHostsFor('kh-pc-bad', [link!.targetAddress]);
    const config = writeConfig(
      'config-pc-bad',
      [{ alias: 'target', hostName: link!.targetAddress, lines: ['ProxyCommand sh -c \'echo "bastion says no to %h:%p" >&2; exit 3\''] }],
      knownHosts,
    );
    const m = managerFor(config);
    try {
      const err = await expectUserError(m.get('target').exec(['true']), ErrorCode.ProxyCommandFailed);
      assert.ok(
        err.message.includes('exited with code 3') && err.message.includes(`bastion says no to ${link!.targetAddress}:22`),
        err.message,
      );
      assert.ok(!/HostName|Port/.test(err.message), err.message);
    } finally {
      m.dispose();
    }
  });
});
