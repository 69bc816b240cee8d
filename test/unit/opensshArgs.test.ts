// The openssh transport's command lines: what the master is told, and that every client of it goes
// through the private control socket with the user's config out of the way.
import * as assert from 'assert';
import {
  commandArgs,
  isSftpBatchSafe,
  masterArgs,
  sftpBatchArgs,
  sftpPutScript,
  stdioForwardArgs,
  subsystemArgs,
} from '../../src/ssh/opensshArgs';
import { shellCommand } from '../../src/ssh/shellQuote';

const ctl = '/tmp/krd-ssh-abc/c';

/** The value of each `-o Key=value`, by key. */
function options(argv: string[]): Map<string, string> {
  const found = new Map<string, string>();
  argv.forEach((a, i) => {
    if (a === '-o') {
      const [k, ...v] = argv[i + 1].split('=');
      found.set(k, v.join('='));
    }
  });
  return found;
}

describe('openssh transport argv', () => {
  it('starts a foreground batch-mode master on the private socket, with only the user/port the spec gave', () => {
    const argv = masterArgs({
      sshBinary: 'ssh',
      configFile: '/tmp/krd-ssh-abc/config',
      target: { host: 'node-1', user: 'kube' },
      controlPath: ctl,
      keepaliveSeconds: 15,
      keepaliveCountMax: 3,
      connectTimeoutSeconds: 10,
      batchMode: true,
      knownHostsFiles: ['/home/me/.ssh/known_hosts', '/home/me/my hosts%1'],
    });
    assert.deepStrictEqual(argv.slice(0, 4), ['-F', '/tmp/krd-ssh-abc/config', '-l', 'kube']);
    assert.ok(!argv.includes('-p'));
    assert.deepStrictEqual(argv.slice(-2), ['--', 'node-1']);
    assert.strictEqual(argv[argv.indexOf('-S') + 1], ctl);
    assert.ok(argv.includes('-M') && argv.includes('-N'));
    const o = options(argv);
    assert.strictEqual(o.get('ControlPersist'), 'no');
    assert.strictEqual(o.get('BatchMode'), 'yes');
    assert.strictEqual(o.get('ServerAliveInterval'), '15');
    assert.strictEqual(o.get('ConnectTimeout'), '10');
    assert.ok(!o.has('StrictHostKeyChecking'), 'host key checking stays as the user configured it');
    assert.strictEqual(o.get('UserKnownHostsFile'), '/home/me/.ssh/known_hosts "/home/me/my hosts%%1"', 'the files the resolver found');
    const asking = masterArgs({
      sshBinary: 'ssh',
      configFile: '/c',
      target: { host: 'n' },
      controlPath: ctl,
      keepaliveSeconds: 15,
      keepaliveCountMax: 3,
      connectTimeoutSeconds: 10,
      batchMode: false,
      knownHostsFiles: [],
    });
    assert.ok(!options(asking).has('BatchMode'), 'with SSH_ASKPASS to answer, ssh may ask');
  });

  it('sends a command as one already-quoted word after the host, since ssh joins words with spaces', () => {
    const command = shellCommand(['printf', '%s\\n', "it's a $HOME; rm -rf /"]);
    const argv = commandArgs(ctl, 'node-1', command);
    assert.deepStrictEqual(argv.slice(-3), ['--', 'node-1', command]);
    const o = options(argv);
    assert.strictEqual(o.get('ControlPath'), ctl);
    assert.strictEqual(o.get('ControlMaster'), 'no');
    assert.strictEqual(o.get('ProxyCommand'), 'false', 'never dials on its own when the master is gone');
    assert.strictEqual(argv[argv.indexOf('-F') + 1], '/dev/null');
  });

  it('escapes % in the control path, which ssh would expand', () => {
    assert.strictEqual(options(commandArgs('/tmp/a%b/c', 'h', 'true')).get('ControlPath'), '/tmp/a%%b/c');
  });

  it('forwards stdio to Delve on the node loopback and opens the SFTP subsystem', () => {
    assert.deepStrictEqual(stdioForwardArgs(ctl, 'node-1', '127.0.0.1', 2345).slice(-4), ['-W', '127.0.0.1:2345', '--', 'node-1']);
    assert.deepStrictEqual(stdioForwardArgs(ctl, 'node-1', '::1', 2345).slice(-3), ['[::1]:2345', '--', 'node-1']);
    assert.deepStrictEqual(subsystemArgs(ctl, 'node-1', 'sftp').slice(-4), ['-s', '--', 'node-1', 'sftp']);
  });

  it('uploads with sftp -B 32768 -R 8 from a batch that holds only plain paths', () => {
    const argv = sftpBatchArgs('/usr/bin/ssh', ctl, 'node-1');
    assert.strictEqual(argv[argv.indexOf('-B') + 1], '32768');
    assert.strictEqual(argv[argv.indexOf('-R') + 1], '8');
    assert.strictEqual(argv[argv.indexOf('-S') + 1], '/usr/bin/ssh');
    assert.strictEqual(argv[argv.indexOf('-b') + 1], '-');
    assert.strictEqual(
      sftpPutScript('/tmp/krd-ssh-abc/put-1', '/usr/bin/.kubelet.upload-1', 0o755),
      'put /tmp/krd-ssh-abc/put-1 /usr/bin/.kubelet.upload-1\nchmod 755 /usr/bin/.kubelet.upload-1\n',
    );
    for (const bad of ['/opt/my dir/kubelet', '/opt/*/k', "/opt/it's", '/opt/"x"', 'relative/path', '/opt/a\nget /etc/shadow']) {
      assert.ok(!isSftpBatchSafe(bad), bad);
      assert.throws(() => sftpPutScript('/tmp/x', bad, 0o755));
    }
  });
});
