// Which transport carries a node: the pure decision, and the directives it is fed, found by the real
// `ssh -G` in a config like Debian's (whose /etc/ssh/ssh_config turns GSSAPI on for everyone).
import * as assert from 'assert';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { ErrorCode, UserError } from '../../src/common/errors';
import { parseSshG } from '../../src/ssh/opensshConfig';
import { SshConfigResolver } from '../../src/ssh/sshConfig';
import { chooseTransport, OpensshOnlyDirective, opensshOnlyDirectives } from '../../src/ssh/transportChoice';
import { removeTempDir, tempDir } from '../support/tempDirs';

const cert: OpensshOnlyDirective = { directive: 'CertificateFile', value: '~/.ssh/id_ed25519-cert.pub', neededToLogIn: true };
const gssapi: OpensshOnlyDirective = { directive: 'GSSAPIAuthentication', value: 'yes', neededToLogIn: false };

describe('transport choice', () => {
  it('auto keeps ssh2 when the config needs nothing else', () => {
    const d = chooseTransport('auto', [], true, 'node1');
    assert.strictEqual(d.transport, 'ssh2');
  });

  it('auto picks OpenSSH for what ssh2 cannot do, and says why', () => {
    const d = chooseTransport('auto', [cert, gssapi], true, 'node1');
    assert.ok(d.transport === 'openssh');
    assert.match(d.reason, /CertificateFile, GSSAPIAuthentication/);
  });

  it('forced ssh2 refuses a certificate login, naming CertificateFile and the openssh transport', () => {
    const d = chooseTransport('ssh2', [cert], true, 'node1');
    assert.ok(d.transport === 'none');
    assert.strictEqual(d.error.code, ErrorCode.DirectiveNeedsOpenssh);
    assert.match(d.error.message, /CertificateFile/);
    assert.match(d.error.message, /"openssh"/);
  });

  it('forced ssh2 goes on without what only changes how it connects, and lists it as ignored', () => {
    const d = chooseTransport('ssh2', [gssapi], true, 'node1');
    assert.ok(d.transport === 'ssh2');
    assert.deepStrictEqual(d.ignored, [gssapi]);
  });

  it('forced openssh without an ssh program is a clear error', () => {
    const d = chooseTransport('openssh', [], false, 'node1');
    assert.ok(d.transport === 'none');
    assert.strictEqual(d.error.code, ErrorCode.TransportUnavailable);
  });

  it('auto without an ssh program: a certificate login is an error, GSSAPI alone falls back to ssh2', () => {
    const refused = chooseTransport('auto', [cert], false, 'node1');
    assert.ok(refused.transport === 'none' && refused.error instanceof UserError);
    assert.match(refused.error.message, /no ssh program/);
    assert.strictEqual(chooseTransport('auto', [gssapi], false, 'node1').transport, 'ssh2');
  });

  it('counts GSSAPI and ControlMaster only when the user config sets them', () => {
    const all = parseSshG('gssapiauthentication yes\ncontrolmaster auto\ncontrolpath /tmp/cm-%C\n');
    assert.deepStrictEqual(
      opensshOnlyDirectives(all, parseSshG('gssapiauthentication no\ncontrolmaster false\ncontrolpath none\n'), false),
      [],
    );
    assert.deepStrictEqual(
      opensshOnlyDirectives(all, all, true).map((d) => d.directive),
      ['GSSAPIAuthentication', 'ControlMaster', 'Match exec'],
    );
    assert.deepStrictEqual(
      opensshOnlyDirectives(parseSshG('certificatefile ~/a-cert.pub\npkcs11provider /usr/lib/p11.so\n'), undefined, false).map(
        (d) => d.directive,
      ),
      ['CertificateFile', 'PKCS11Provider'],
    );
  });
});

describe('transport directives from ssh -G', () => {
  let dir: string;
  let system: string;

  before(() => {
    dir = tempDir('transport');
    system = path.join(dir, 'ssh_config');
    // What Debian ships for every host.
    writeFileSync(system, 'Host *\n    SendEnv LANG LC_*\n    HashKnownHosts yes\n    GSSAPIAuthentication yes\n');
  });
  after(() => removeTempDir(dir));

  function resolverFor(userConfig: string, sshBinary?: false): SshConfigResolver {
    const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, userConfig);
    return new SshConfigResolver({ userConfigFile: file, systemConfigFile: system, env: {}, homeDir: dir, sshBinary });
  }

  for (const via of ['ssh -G', 'the fallback parser'] as const) {
    const binary = via === 'ssh -G' ? undefined : false;
    it(`ignores the system config's GSSAPIAuthentication yes (${via})`, async () => {
      const host = await resolverFor('Host n1\n  HostName 10.0.0.1\n', binary).resolve('n1');
      assert.deepStrictEqual(host.opensshOnly, []);
    });

    it(`finds the user's own GSSAPIAuthentication, CertificateFile and ControlMaster (${via})`, async () => {
      const host = await resolverFor(
        'Host n1\n  HostName 10.0.0.1\n  GSSAPIAuthentication yes\n  CertificateFile ~/.ssh/id-cert.pub\n  ControlMaster auto\n  ControlPath ~/.ssh/cm-%C\n',
        binary,
      ).resolve('n1');
      assert.deepStrictEqual(host.opensshOnly.map((d) => d.directive).sort(), ['CertificateFile', 'ControlMaster', 'GSSAPIAuthentication']);
    });
  }

  it('notices a Match exec in the user config', async () => {
    const host = await resolverFor('Match host n1 exec "true"\n  User alice\nHost n1\n  HostName 10.0.0.1\n').resolve('n1');
    assert.strictEqual(host.user, 'alice');
    assert.deepStrictEqual(
      host.opensshOnly.map((d) => d.directive),
      ['Match exec'],
    );
  });
});
