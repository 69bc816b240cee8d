// Host-key checks at the connection layer: connectHost against a real ssh2 server on loopback (a
// non-default port), with known_hosts files made by ssh-keygen, compared with what the real OpenSSH
// client says about the same server and file.
import * as assert from 'assert';
import { execFile, execFileSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { Server, type Connection } from 'ssh2';
import { ErrorCode } from '../../src/common/errors';
import type { Logger } from '../../src/common/logger';
import { connectHost, type ConnectPrompts } from '../../src/ssh/connect';
import type { ResolvedHost } from '../../src/ssh/sshConfig';
import { expectUserError } from '../support/expectUserError';
import { removeTempDir, tempDir } from '../support/tempDirs';

const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('connectHost: host keys against a real SSH server', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let serverKeyLine: string;
  let impostorKeyLine: string;
  let authAttempts = 0;
  const sessions = new Set<Connection>();

  before(async () => {
    dir = tempDir('hostkey');
    const keygen = (name: string) => {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, name)]);
      return readFileSync(path.join(dir, `${name}.pub`), 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
    };
    serverKeyLine = keygen('server');
    impostorKeyLine = keygen('impostor');
    server = new Server({ hostKeys: [readFileSync(path.join(dir, 'server'))] }, (client) => {
      sessions.add(client);
      client.on('close', () => sessions.delete(client));
      client.on('authentication', (ctx) => {
        authAttempts++;
        ctx.accept();
      });
      client.on('error', () => {
        /* the client hanging up mid-handshake is what these tests do */
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    // A wrongly accepted connection must not keep the server (and the run) open.
    for (const client of sessions) {
      client.end();
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    removeTempDir(dir);
  });

  beforeEach(() => {
    authAttempts = 0;
  });

  function host(knownHostsFile: string): ResolvedHost {
    return {
      alias: 'loopback-node',
      hostName: '127.0.0.1',
      port,
      user: 'tester',
      identityFiles: [],
      identitiesOnly: true,
      proxyJump: [],
      knownHostsFiles: [knownHostsFile],
      hashKnownHosts: false,
      strictHostKeyChecking: 'ask',
      keepaliveIntervalMs: 0,
      keepaliveCountMax: 3,
      connectTimeoutSeconds: 10,
      opensshOnly: [],
      sshTarget: { host: '127.0.0.1', port },
    };
  }

  function prompts(): ConnectPrompts & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      async trustHostKey(r) {
        asked.push(`trust ${r.fingerprint}`);
        return true;
      },
      async passphrase(f) {
        asked.push(`passphrase ${f}`);
        return undefined;
      },
      async password() {
        asked.push('password');
        return 'secret';
      },
      async keyboardInteractive() {
        asked.push('keyboard-interactive');
        return undefined;
      },
    };
  }

  /** What OpenSSH's own client prints about this server and known_hosts file (it exits 255). */
  async function openSshSays(knownHostsFile: string): Promise<string> {
    return new Promise((resolve) => {
      execFile(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-o',
          `UserKnownHostsFile=${knownHostsFile}`,
          '-o',
          'GlobalKnownHostsFile=/dev/null',
          '-o',
          'BatchMode=yes',
          '-o',
          'ConnectTimeout=10',
          '-p',
          String(port),
          'tester@127.0.0.1',
          'true',
        ],
        { timeout: 30_000 },
        (_err, _stdout, stderr) => resolve(String(stderr)),
      );
    });
  }

  it('connects when the key matches its [host]:port entry, asking nothing', async () => {
    const kh = path.join(dir, 'kh-known');
    writeFileSync(kh, `[127.0.0.1]:${port} ${serverKeyLine}\n`);
    const p = prompts();
    const conn = await connectHost(host(kh), { prompts: p, log: quiet, defaultTimeoutSeconds: 10 });
    conn.client.end();
    assert.deepStrictEqual(p.asked, ['password']);
    assert.strictEqual(authAttempts, 1);
  });

  it('refuses a changed key before authenticating, asks nothing, and prints the command OpenSSH prints', async () => {
    const kh = path.join(dir, 'kh-changed');
    const text = `# an older install of this node\n[127.0.0.1]:${port} ${impostorKeyLine}\n`;
    writeFileSync(kh, text);
    const p = prompts();
    const attempt = connectHost(host(kh), { prompts: p, log: quiet, defaultTimeoutSeconds: 10 });
    attempt.then(
      (wronglyOpen) => wronglyOpen.client.end(),
      () => undefined,
    );
    const err = await expectUserError(attempt, ErrorCode.HostKeyChanged);
    assert.deepStrictEqual(p.asked, [], 'no question, no password');
    assert.strictEqual(authAttempts, 0, 'no credentials were sent to the impostor');
    assert.strictEqual(readFileSync(kh, 'utf8'), text, 'known_hosts untouched');
    assert.ok(err.message.includes(`${kh}:2`), err.message);

    const openssh = await openSshSays(kh);
    const said = /remove with:\s*\n\s*(ssh-keygen .*)$/m.exec(openssh)?.[1].trim();
    assert.ok(said, `OpenSSH printed a remove command:\n${openssh}`);
    assert.strictEqual(said, `ssh-keygen -f "${kh}" -R "[127.0.0.1]:${port}"`);
    assert.ok(err.message.includes(said), `${err.message}\nshould include\n${said}`);
  });
});
