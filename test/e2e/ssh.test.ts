// The extension's SSH layer against the real sshd of a real test node: host-key verification,
// authentication, privilege, quoting, and connection loss.
import * as assert from 'assert';
import { execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ErrorCode } from '../../src/common/errors';
import { readKnownHosts, verifyHostKey } from '../../src/ssh/knownHosts';
import { ConnectionManager } from '../../src/ssh/nodeConnection';
import { SshConfigResolver } from '../../src/ssh/sshConfig';
import { connect, customConfig, managerFor, memoryLogger, recordingPrompts } from '../support/nodeClient';
import { hostileWords } from '../support/hostileInput';
import { expectUserError } from '../support/expectUserError';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { sharedNode } from './hooks';

describe('SSH layer against a real node', () => {
  it('logs in as root with the host key checked against known_hosts', async () => {
    const node = sharedNode();
    const prompts = recordingPrompts();
    const conn = connect(node, 'root', prompts);
    try {
      const r = await conn.exec(['systemctl', 'is-active', 'kubelet']);
      assert.deepStrictEqual([r.code, r.stdout.trim()], [0, 'active']);
      assert.strictEqual((await conn.execAsRoot(['id', '-u'])).stdout.trim(), '0');
      assert.deepStrictEqual(prompts.calls, [], 'a known host key needs no question');
    } finally {
      conn.disconnect();
    }
  });

  it('runs root commands through sudo -n for the sudo user', async () => {
    const conn = connect(sharedNode(), 'sudo');
    try {
      assert.strictEqual((await conn.exec(['id', '-un'])).stdout.trim(), sharedNode().users.sudo);
      assert.strictEqual((await conn.execAsRoot(['id', '-u'])).stdout.trim(), '0');
    } finally {
      conn.disconnect();
    }
  });

  it('fails at once with the fix when sudo wants a password', async () => {
    const conn = connect(sharedNode(), 'needsPassword');
    try {
      const started = Date.now();
      const err = await expectUserError(conn.execAsRoot(['true']), ErrorCode.SudoNeedsPassword);
      assert.match(err.message, /NOPASSWD/);
      assert.match(err.message, /log in as root/);
      assert.ok(Date.now() - started < 10_000, 'it did not wait for a password');
    } finally {
      conn.disconnect();
    }
  });

  it('asks about an unknown host key with its real fingerprint, and saves it only when trusted', async () => {
    const node = sharedNode();
    const dir = tempDir('kh');
    const knownHosts = path.join(dir, 'known_hosts');
    const config = customConfig(node, 'fresh', [`UserKnownHostsFile ${knownHosts}`, 'GlobalKnownHostsFile /nonexistent']);
    const hostKeyFile = path.join(dir, 'host.pub');
    writeFileSync(hostKeyFile, node.hostKeyPublic + '\n');
    const expectedFp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', hostKeyFile], { encoding: 'utf8' }).split(' ')[1];

    const declined = recordingPrompts({ trust: false });
    const m1 = managerFor(config, declined);
    await expectUserError(m1.get('fresh').exec(['true']), ErrorCode.HostKeyUnknownRejected);
    assert.strictEqual(declined.calls.length, 1);
    assert.ok(declined.calls[0].detail.includes(expectedFp), `${declined.calls[0].detail} shows ${expectedFp}`);
    assert.throws(() => readFileSync(knownHosts), /ENOENT/, 'nothing was saved');
    m1.dispose();

    const accepted = recordingPrompts({ trust: true });
    const m2 = managerFor(config, accepted);
    assert.strictEqual((await m2.get('fresh').exec(['echo', 'ok'])).stdout, 'ok\n');
    m2.dispose();
    // OpenSSH itself now accepts the saved entry with strict checking.
    const out = execFileSync(
      'ssh',
      ['-F', config, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', 'fresh', 'echo', 'viaopenssh'],
      { encoding: 'utf8' },
    );
    assert.strictEqual(out.trim(), 'viaopenssh');

    const again = recordingPrompts({ trust: false });
    const m3 = managerFor(config, again);
    await m3.get('fresh').exec(['true']);
    assert.deepStrictEqual(again.calls, [], 'a saved key is not asked about again');
    m3.dispose();
  });

  it('refuses a changed host key, naming the file and line, without asking', async () => {
    const node = sharedNode();
    const dir = tempDir('kh');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'impostor')]);
    const impostor = readFileSync(path.join(dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const knownHosts = path.join(dir, 'known_hosts');
    writeFileSync(knownHosts, `# line 1\n${node.address} ${impostor}\n`);
    const config = customConfig(node, 'changed', [`UserKnownHostsFile ${knownHosts}`]);
    const prompts = recordingPrompts({ trust: true });
    const m = managerFor(config, prompts);
    const err = await expectUserError(m.get('changed').exec(['true']), ErrorCode.HostKeyChanged);
    assert.ok(err.message.includes(`${knownHosts}:2`), err.message);
    assert.deepStrictEqual(prompts.calls, []);
    assert.strictEqual((await readKnownHosts([knownHosts])).length, 1, 'known_hosts was not touched');
    m.dispose();
    // The fix we print is the one OpenSSH prints for the same host and file.
    const openssh = spawnSync('ssh', ['-F', config, '-o', 'BatchMode=yes', 'changed', 'true'], { encoding: 'utf8', timeout: 30_000 });
    const said = /remove with:\s*\n\s*(ssh-keygen .*)$/m.exec(openssh.stderr)?.[1].trim();
    assert.strictEqual(
      said,
      node.port === 22
        ? `ssh-keygen -f "${knownHosts}" -R "${node.address}"`
        : `ssh-keygen -f "${knownHosts}" -R "[${node.address}]:${node.port}"`,
      openssh.stderr,
    );
    assert.ok(err.message.includes(said!), err.message);
  });

  it('refuses an unknown key without asking under StrictHostKeyChecking yes', async () => {
    const node = sharedNode();
    const dir = tempDir('kh');
    const config = customConfig(node, 'strict', [`UserKnownHostsFile ${path.join(dir, 'none')}`, 'StrictHostKeyChecking yes']);
    const prompts = recordingPrompts({ trust: true });
    const m = managerFor(config, prompts);
    await expectUserError(m.get('strict').exec(['true']), ErrorCode.HostKeyUnknownRejected);
    assert.deepStrictEqual(prompts.calls, []);
    m.dispose();
  });

  it('reports a key the node does not accept, listing what was tried', async () => {
    const node = sharedNode();
    const dir = tempDir('key');
    const wrongKey = path.join(dir, 'wrong');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const config = customConfig(node, 'wrongkey', [`UserKnownHostsFile ${node.knownHostsPath}`]).replace(/$/, '');
    writeFileSync(config, readFileSync(config, 'utf8').replace(node.keyPath, wrongKey));
    const prompts = recordingPrompts({});
    const m = managerFor(config, prompts);
    const err = await expectUserError(m.get('wrongkey').exec(['true']), ErrorCode.AuthFailed);
    assert.ok(err.message.includes(wrongKey), err.message);
    assert.deepStrictEqual(prompts.calls, [], 'the node takes no passwords, so none is asked for');
    m.dispose();
  });

  it('names an unreachable node and a refused port', async () => {
    const node = sharedNode();
    const config = customConfig(node, 'closed', [`UserKnownHostsFile ${node.knownHostsPath}`, 'Port 2', 'ConnectTimeout 5']);
    const m = managerFor(config);
    const err = await expectUserError(m.get('closed').exec(['true']), ErrorCode.HostUnreachable);
    assert.match(err.message, /refused/);
    m.dispose();
  });

  it('follows Match host … exec "test -f FLAG": the login user switches with the flag, as ssh resolves it', async () => {
    const node = sharedNode();
    const dir = tempDir('match');
    const flag = path.join(dir, 'as-kubeadmin.flag');
    const config = path.join(dir, 'config');
    writeFileSync(
      config,
      [
        `Match host flagged exec "test -f ${flag}"`,
        '  User kubeadmin',
        'Host flagged',
        `  HostName ${node.address}`,
        `  Port ${node.port}`,
        '  User root',
        `  IdentityFile ${node.keyPath}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${node.knownHostsPath}`,
        '',
      ].join('\n'),
    );
    const m = managerFor(config);
    try {
      const conn = m.get('flagged');
      assert.strictEqual((await conn.exec(['id', '-un'])).stdout.trim(), 'root');
      conn.disconnect();
      writeFileSync(flag, '');
      assert.strictEqual((await conn.exec(['id', '-un'])).stdout.trim(), 'kubeadmin', 'the next connection resolves the host again');
      assert.strictEqual(
        execFileSync('ssh', ['-F', config, '-o', 'BatchMode=yes', 'flagged', 'id', '-un'], { encoding: 'utf8' }).trim(),
        'kubeadmin',
        'OpenSSH agrees',
      );
    } finally {
      m.dispose();
      removeTempDir(dir);
    }
  });

  it('shares one connection attempt between concurrent callers', async () => {
    const conn = connect(sharedNode());
    try {
      const [a, b, c] = await Promise.all([conn.client(), conn.client(), conn.client()]);
      assert.ok(a === b && b === c);
    } finally {
      conn.disconnect();
    }
  });

  it('notices a dropped connection, reports it, and reconnects on the next use', async () => {
    const node = sharedNode();
    const conn = connect(node);
    const states: string[] = [];
    conn.on('state', (s) => states.push(s.kind));
    try {
      await conn.exec(['true']);
      // Kill this connection's own sshd on the node, as a network cut or a node-side kill would.
      const killOwnSshd = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';
      await conn.exec(['/bin/sh', '-c', killOwnSshd]).catch(() => undefined);
      const deadline = Date.now() + 15_000;
      while (!states.includes('lost') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(states.includes('lost'), `states: ${states.join(',')}`);
      assert.strictEqual(conn.state.kind, 'lost');
      assert.strictEqual((await conn.exec(['echo', 'back'])).stdout, 'back\n');
      assert.strictEqual(conn.state.kind, 'ready');
    } finally {
      conn.disconnect();
    }
  });

  it('passes hostile arguments through as data: nothing runs on the node', async () => {
    const node = sharedNode();
    const canary = '/tmp/krd-canary';
    await node.ssh(`rm -f ${canary}`);
    const conn = connect(node, 'sudo');
    try {
      const words = hostileWords(canary);
      const r = await conn.exec(['printf', '%s\\0', ...words]);
      assert.deepStrictEqual(r.stdout.split('\0').slice(0, -1), words);
      for (const word of words) {
        // As paths, through sudo too: each must be one argument that names no file.
        const asRoot = await conn.execAsRoot(['cat', '--', `/nonexistent/${word}`]);
        assert.notStrictEqual(asRoot.code, 0);
      }
      assert.strictEqual((await node.ssh(`test -e ${canary}; echo $?`)).stdout.trim(), '1', 'the canary was never created');
    } finally {
      conn.disconnect();
    }
  });

  it('verifies the node key the harness wrote, like OpenSSH', async () => {
    const node = sharedNode();
    const entries = await readKnownHosts([node.knownHostsPath]);
    const blob = Buffer.from(node.hostKeyPublic.split(' ')[1], 'base64');
    assert.strictEqual(verifyHostKey(entries, node.address, node.port, blob).status, 'known');
  });

  it('authenticates through a real ssh-agent when no key file is configured', async () => {
    const node = sharedNode();
    const dir = tempDir('agent');
    const sock = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      execFileSync('ssh-add', ['-q', node.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: ['ignore', 'pipe', 'pipe'] });
      // No IdentityFile and no default key files: only the agent can log in.
      const config = path.join(dir, 'config');
      writeFileSync(
        config,
        [`Host viaagent`, `  HostName ${node.address}`, '  User root', `  UserKnownHostsFile ${node.knownHostsPath}`, ''].join('\n'),
      );
      const log = memoryLogger();
      const resolver = new SshConfigResolver({
        userConfigFile: config,
        systemConfigFile: '/nonexistent',
        homeDir: dir,
        env: { SSH_AUTH_SOCK: sock },
      });
      const manager = new ConnectionManager(resolver, { prompts: recordingPrompts(), log, defaultTimeoutSeconds: 10 }, log);
      try {
        assert.strictEqual((await manager.get('viaagent').exec(['id', '-un'])).stdout.trim(), 'root');
      } finally {
        manager.dispose();
      }
      // And without the agent the same config cannot log in at all.
      const noAgent = new ConnectionManager(
        new SshConfigResolver({ userConfigFile: config, systemConfigFile: '/nonexistent', homeDir: dir, env: {} }),
        { prompts: recordingPrompts(), log, defaultTimeoutSeconds: 10 },
        log,
      );
      await expectUserError(noAgent.get('viaagent').exec(['true']), ErrorCode.AuthFailed);
      noAgent.dispose();
    } finally {
      agent.kill();
      removeTempDir(dir);
    }
  });
});
