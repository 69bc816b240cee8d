// The system's OpenSSH as the transport, against the real node: a user certificate from a CA (which
// only OpenSSH can offer) picks it automatically, streams reach the node's loopback through the
// master without a local port, and a killed master, Cancel, time limits and sudo behave as on ssh2.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Duplex } from 'stream';
import { ErrorCode } from '../../src/common/errors';
import { openDelveStream } from '../../src/debug/delveStream';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { OpensshTransport } from '../../src/ssh/opensshTransport';
import { shellQuote } from '../../src/ssh/shellQuote';
import type { TestNode } from '../node/testNode';
import { expectUserError } from '../support/expectUserError';
import { connect, customConfig, managerFor, memoryLogger, recordingPrompts } from '../support/nodeClient';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { until } from '../support/until';
import { sharedNode } from './hooks';

const CA_FILE = '/etc/ssh/krd-test-user-ca.pub';
const CA_DROP_IN = '/etc/ssh/sshd_config.d/06-krd-test-user-ca.conf';
const CERT_ID = 'krd-cert-test';

/** Runs OpenSSH with a config and says whether it logged in (test setup only, not the code under test). */
function opensshLogsIn(config: string, alias: string): Promise<boolean> {
  return new Promise((resolve) =>
    execFile('ssh', ['-F', config, '-o', 'BatchMode=yes', alias, 'true'], { timeout: 30_000 }, (err) => resolve(!err)),
  );
}

async function masterOf(conn: NodeConnection): Promise<OpensshTransport> {
  const transport = await conn.connect();
  assert.ok(transport instanceof OpensshTransport, `connected over ${transport.kind}`);
  return transport;
}

/** The first bytes a stream gives. */
function firstBytes(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    stream.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
    stream.once('error', reject);
    stream.once('end', () => reject(new Error('the stream ended without data')));
  });
}

/** The base64 part of a freshly made ed25519 public key. */
function otherKeyBlob(dir: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')]);
  return readFileSync(path.join(dir, 'other.pub'), 'utf8').split(' ')[1];
}

/** Local ssh processes whose command line names this control socket. */
function sshClientsOf(controlPath: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(controlPath) && /\bssh\b/.test(line));
}

describe('OpenSSH transport: user certificates (real sshd with TrustedUserCAKeys)', function () {
  this.timeout(120_000);
  let node: TestNode;
  let dir: string;
  let config: string;
  const alias = 'cert-node';

  before(async () => {
    node = sharedNode();
    dir = tempDir('cert');
    const keygen = (args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'pipe' });
    keygen(['-t', 'ed25519', '-N', '', '-C', 'krd-test-ca', '-f', path.join(dir, 'ca')]);
    // A key the node does not know: only the certificate can let it in.
    keygen(['-t', 'ed25519', '-N', '', '-C', 'krd-cert-user', '-f', path.join(dir, 'user')]);
    keygen(['-s', path.join(dir, 'ca'), '-I', CERT_ID, '-n', 'root', '-V', '-5m:+1h', path.join(dir, 'user.pub')]);
    // Not at user-cert.pub, where OpenSSH would find it without being told: CertificateFile must do it.
    renameSync(path.join(dir, 'user-cert.pub'), path.join(dir, 'issued.pub'));
    config = path.join(dir, 'config');
    writeFileSync(
      config,
      [
        `Host ${alias}`,
        `  HostName ${node.address}`,
        `  Port ${node.port}`,
        '  User root',
        `  IdentityFile ${path.join(dir, 'user')}`,
        `  CertificateFile ${path.join(dir, 'issued.pub')}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${node.knownHostsPath}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await node.ssh(`rm -f ${CA_DROP_IN} ${CA_FILE} && systemctl reload ssh`);
    removeTempDir(dir);
  });

  it('without the CA on the node, the openssh transport is refused with an error about logging in, not the address', async () => {
    const conn = managerFor(config).get(alias);
    try {
      const err = await expectUserError(conn.exec(['true']), ErrorCode.OpensshFailed);
      assert.match(err.message, /could not log in to cert-node: .*Permission denied/);
      assert.doesNotMatch(err.message, /HostName|Port/);
    } finally {
      conn.disconnect();
    }
  });

  it('with TrustedUserCAKeys on the node, auto picks OpenSSH for CertificateFile and logs in with the certificate', async () => {
    const caPublic = readFileSync(path.join(dir, 'ca.pub'), 'utf8').trim();
    const setup = await node.ssh(
      `printf '%s\\n' ${shellQuote(caPublic)} > ${CA_FILE} && printf 'TrustedUserCAKeys ${CA_FILE}\\n' > ${CA_DROP_IN} && sshd -t && systemctl reload ssh`,
    );
    assert.strictEqual(setup.code, 0, setup.stderr);
    // The reload is a SIGHUP that sshd acts on after systemctl returns.
    await until('sshd to trust the CA', async () => ((await opensshLogsIn(config, alias)) ? true : undefined), 15_000);

    const since = (await node.ssh('date +%s')).stdout.trim();
    const log = memoryLogger();
    const conn = managerFor(config, undefined, 'auto', log).get(alias);
    try {
      assert.strictEqual((await conn.exec(['id', '-un'])).stdout, 'root\n');
      assert.strictEqual(conn.transportKind, 'openssh');
      assert.ok(
        log.lines.some((l) => /using the openssh transport \(the SSH config uses CertificateFile/.test(l)),
        `the log says which transport and why:\n${log.lines.join('\n')}`,
      );
    } finally {
      conn.disconnect();
    }
    const journal = await node.ssh(`journalctl --no-pager -o cat -u ssh --since @${since}`);
    assert.match(journal.stdout, new RegExp(`Accepted publickey for root .*CERT.* ID ${CERT_ID}`), 'sshd saw the certificate');
  });

  it('with the ssh2 transport forced, says that CertificateFile needs the openssh transport', async () => {
    const conn = managerFor(config, undefined, 'ssh2').get(alias);
    try {
      const err = await expectUserError(conn.exec(['true']), ErrorCode.DirectiveNeedsOpenssh);
      assert.match(err.message, /CertificateFile/);
      assert.match(err.message, /"openssh"/);
      assert.strictEqual(conn.state.kind, 'failed');
    } finally {
      conn.disconnect();
    }
  });
});

describe('OpenSSH transport: streams, lost connections, cancel and limits (real node)', function () {
  this.timeout(120_000);

  it('reaches the node loopback with ssh -W as root, and through the sudo relay as another user', async () => {
    const node = sharedNode();
    const root = connect(node, 'root', undefined, 'openssh');
    const sudo = connect(node, 'sudo', undefined, 'openssh');
    try {
      // sshd on the node's loopback greets first, so its banner proves the stream reached the node.
      const direct = await openDelveStream(root, 22);
      assert.match(await firstBytes(direct), /^SSH-2\.0-OpenSSH/);
      direct.destroy();
      const relayed = await openDelveStream(sudo, 22);
      assert.match(await firstBytes(relayed), /^SSH-2\.0-OpenSSH/);
      relayed.destroy();
      assert.strictEqual(sudo.transportKind, 'openssh');
    } finally {
      root.disconnect();
      sudo.disconnect();
    }
  });

  it('reports a killed master as a lost connection, and opens a new one on the next use', async () => {
    const node = sharedNode();
    const conn = connect(node, 'root', undefined, 'openssh');
    const states: string[] = [];
    conn.on('state', (s) => states.push(s.kind));
    try {
      const first = await masterOf(conn);
      const pid = first.masterPid!;
      process.kill(pid, 'SIGKILL');
      await until('the lost state', () => (conn.state.kind === 'lost' ? true : undefined), 15_000);
      assert.ok(conn.state.kind === 'lost' && conn.state.error.code === ErrorCode.ConnectionLost);
      assert.strictEqual((await conn.exec(['echo', 'back'])).stdout, 'back\n');
      assert.strictEqual(conn.state.kind, 'ready');
      assert.notStrictEqual((await masterOf(conn)).masterPid, pid, 'a new master');
      assert.deepStrictEqual(states, ['connecting', 'ready', 'lost', 'connecting', 'ready']);
    } finally {
      conn.disconnect();
    }
  });

  it('notices the node side dropping the connection', async () => {
    const node = sharedNode();
    const conn = connect(node, 'root', undefined, 'openssh');
    try {
      await conn.exec(['true']);
      const killOwnSshd = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';
      const r = await conn.exec(['/bin/sh', '-c', killOwnSshd]);
      assert.strictEqual(r.code, null, 'a command cut off by the lost connection has no exit code, as on ssh2');
      await until('the lost state', () => (conn.state.kind === 'lost' ? true : undefined), 15_000);
    } finally {
      conn.disconnect();
    }
  });

  it('cancels a running command by ending its ssh client, and enforces time limits', async () => {
    const node = sharedNode();
    const conn = connect(node, 'root', undefined, 'openssh');
    try {
      const { controlPath } = await masterOf(conn);
      const abort = new AbortController();
      const running = conn.exec(['sleep', '30'], { signal: abort.signal });
      await until('the ssh client to start', () => (sshClientsOf(controlPath).length > 1 ? true : undefined), 10_000);
      abort.abort();
      await expectUserError(running, ErrorCode.Cancelled);
      assert.strictEqual(sshClientsOf(controlPath).length, 1, `only the master is left: ${sshClientsOf(controlPath).join('\n')}`);

      const slow = await expectUserError(conn.exec(['sleep', '30'], { timeoutMs: 500 }), ErrorCode.RemoteCommandTimedOut);
      assert.match(slow.message, /within 0\.5 s/);
      assert.strictEqual(conn.state.kind, 'ready', 'the connection itself is fine');
      assert.strictEqual((await conn.exec(['sh', '-c', 'exit 7'])).code, 7, 'exit codes come through');
    } finally {
      conn.disconnect();
    }
  });

  it('fails at once with the fix when sudo wants a password', async () => {
    const conn = connect(sharedNode(), 'needsPassword', undefined, 'openssh');
    try {
      await expectUserError(conn.execAsRoot(['true']), ErrorCode.SudoNeedsPassword);
      assert.strictEqual(conn.transportKind, 'openssh');
    } finally {
      conn.disconnect();
    }
  });

  it('removes its private control folder on disconnect', async () => {
    const conn = connect(sharedNode(), 'root', undefined, 'openssh');
    const { controlPath } = await masterOf(conn);
    const folder = path.dirname(controlPath);
    assert.strictEqual(statSync(folder).mode & 0o777, 0o700);
    conn.disconnect();
    await until('the private folder to go', () => (existsSync(folder) ? undefined : true), 5000);
  });

  it('asks about an unknown host key through SSH_ASKPASS; OpenSSH saves it only when trusted, and refuses a changed one', async () => {
    const node = sharedNode();
    const dir = tempDir('okh');
    try {
      const knownHosts = path.join(dir, 'known_hosts');
      const config = customConfig(node, 'fresh', [
        `UserKnownHostsFile ${knownHosts}`,
        'GlobalKnownHostsFile /dev/null',
        'StrictHostKeyChecking ask',
      ]);
      const hostKeyFile = path.join(dir, 'host.pub');
      writeFileSync(hostKeyFile, node.hostKeyPublic + '\n');
      const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', hostKeyFile], { encoding: 'utf8' }).split(' ')[1];

      const declined = recordingPrompts({ trust: false });
      const m1 = managerFor(config, declined, 'openssh');
      const refused = await expectUserError(m1.get('fresh').exec(['true']), ErrorCode.HostKeyUnknownRejected);
      assert.ok(refused.message.includes(fingerprint), refused.message);
      assert.deepStrictEqual(declined.calls, [{ kind: 'trust', detail: `${node.address}:22 ssh-ed25519 ${fingerprint}` }]);
      assert.ok(!existsSync(knownHosts), 'nothing was saved');
      m1.dispose();

      const accepted = recordingPrompts({ trust: true });
      const m2 = managerFor(config, accepted, 'openssh');
      assert.strictEqual((await m2.get('fresh').exec(['echo', 'ok'])).stdout, 'ok\n');
      assert.strictEqual(accepted.calls.length, 1);
      assert.match(readFileSync(knownHosts, 'utf8'), /ssh-ed25519/, 'OpenSSH saved the key');
      m2.dispose();

      // A different key for that address: refused as changed, naming the file and line, without asking.
      writeFileSync(knownHosts, readFileSync(knownHosts, 'utf8').replace(/ssh-ed25519 \S+/, `ssh-ed25519 ${otherKeyBlob(dir)}`));
      const again = recordingPrompts({ trust: true });
      const m3 = managerFor(config, again, 'openssh');
      const changed = await expectUserError(m3.get('fresh').exec(['true']), ErrorCode.HostKeyChanged);
      assert.ok(changed.message.includes(`${knownHosts}:1`), changed.message);
      assert.deepStrictEqual(again.calls, [], 'a changed key is never offered for trust');
      m3.dispose();
    } finally {
      removeTempDir(dir);
    }
  });

  it('on a forced ssh2 transport, a refused login names the directive ssh2 ignored and the transport that honours it', async () => {
    const node = sharedNode();
    const dir = tempDir('gss');
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'wrong')]);
      const config = customConfig(node, 'gss', [`UserKnownHostsFile ${node.knownHostsPath}`, 'GSSAPIAuthentication yes']);
      writeFileSync(config, readFileSync(config, 'utf8').replace(node.keyPath, path.join(dir, 'wrong')));
      const m = managerFor(config, recordingPrompts(), 'ssh2');
      const err = await expectUserError(m.get('gss').exec(['true']), ErrorCode.AuthFailed);
      assert.match(err.message, /GSSAPIAuthentication, which the ssh2 transport ignores; .*"openssh"/);
      assert.doesNotMatch(err.message, /HostName|Port/);
      m.dispose();
    } finally {
      removeTempDir(dir);
    }
  });
});
