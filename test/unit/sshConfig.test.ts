// Host resolution checked against OpenSSH itself: for every case, `ssh -G` (which prints the
// configuration ssh would use) is the expected answer.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { homedir, tmpdir } from 'os';
import * as path from 'path';
import { ErrorCode } from '../../src/common/errors';
import { parseHostSpec, SshConfigResolver } from '../../src/ssh/sshConfig';
import { expectUserError } from '../support/expectUserError';

function sshG(configFile: string, spec: string): Map<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', configFile, spec], {
    encoding: 'utf8',
    env: { ...process.env, SSH_AUTH_SOCK: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) {
      const key = line.slice(0, sp);
      map.set(key, [...(map.get(key) ?? []), line.slice(sp + 1)]);
    }
  }
  return map;
}

describe('SshConfigResolver', () => {
  let dir: string;
  let config: string;
  const home = homedir();

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'krd-sshcfg-'));
    mkdirSync(path.join(dir, 'conf.d'));
    writeFileSync(
      path.join(dir, 'conf.d', '10-lab.conf'),
      ['Host lab-*', '  User labuser', '  Port 2201', '  IdentityFile ~/.ssh/lab_%h_%r', ''].join('\n'),
    );
    config = path.join(dir, 'config');
    writeFileSync(
      config,
      [
        '# first value wins, as in OpenSSH',
        `Include ${path.join(dir, 'conf.d', '*.conf')}`,
        'Host node-a',
        '  HostName 10.20.30.40',
        '  User kube',
        '  IdentityFile ~/.ssh/node_a',
        '  IdentityFile %d/.ssh/second_%n',
        '  IdentitiesOnly yes',
        '  ServerAliveInterval 7',
        '',
        'Host bastion',
        '  HostName 192.0.2.10',
        '  User jump',
        '',
        'Host inner',
        '  HostName 10.9.9.9',
        '  ProxyJump bastion,jump2@192.0.2.11:2022',
        '',
        'Host deep',
        '  HostName 10.9.9.10',
        '  ProxyJump inner',
        '',
        'Host *.prod !db.prod',
        '  User produser',
        '  StrictHostKeyChecking yes',
        '',
        `Host ${'node-a'} lab-1`,
        '  Port 2999',
        '  User ignored-because-first-wins',
        '',
        'Host *',
        '  UserKnownHostsFile ~/.ssh/known_hosts_lab',
        '  HashKnownHosts yes',
        '  User fallback',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const resolver = () =>
    new SshConfigResolver({ userConfigFile: config, systemConfigFile: path.join(dir, 'no-system-config'), homeDir: home, env: {} });
  /** The fallback for machines without an ssh binary: our own parser only. */
  const parserOnly = () =>
    new SshConfigResolver({
      userConfigFile: config,
      systemConfigFile: path.join(dir, 'no-system-config'),
      homeDir: home,
      env: {},
      sshBinary: false,
    });

  for (const spec of ['node-a', 'lab-1', 'lab-7', 'web.prod', 'db.prod', 'unknown-host', 'other@node-a', 'inner']) {
    it(`agrees with ssh -G for ${spec}`, async () => {
      const expected = sshG(config, spec);
      const got = await resolver().resolve(spec);
      assert.strictEqual(got.hostName, expected.get('hostname')![0], 'hostname');
      assert.strictEqual(got.user, expected.get('user')![0], 'user');
      assert.strictEqual(got.port, Number(expected.get('port')![0]), 'port');
      // ssh -G prints IdentityFile before token expansion; expand the tokens this config uses.
      const alias = spec.includes('@') ? spec.split('@')[1] : spec;
      const files = (expected.get('identityfile') ?? []).map((f) =>
        f.replace(/^~/, home).replace(/%d/g, home).replace(/%h/g, got.hostName).replace(/%r/g, got.user).replace(/%n/g, alias),
      );
      assert.deepStrictEqual(got.identityFiles, files, 'identity files');
      assert.strictEqual(got.identitiesOnly, expected.get('identitiesonly')![0] === 'yes', 'identitiesonly');
      assert.deepStrictEqual(
        got.knownHostsFiles.slice(0, 1),
        (expected.get('userknownhostsfile') ?? [])[0]
          .split(' ')
          .slice(0, 1)
          .map((f) => f.replace(/^~/, home)),
        'known hosts',
      );
      assert.strictEqual(got.hashKnownHosts, expected.get('hashknownhosts')![0] === 'yes', 'hashknownhosts');
      const strict = expected.get('stricthostkeychecking')![0];
      assert.strictEqual(got.strictHostKeyChecking === 'yes', strict === 'true' || strict === 'yes', 'stricthostkeychecking');
      const jump = expected.get('proxyjump')?.[0];
      assert.deepStrictEqual(
        got.proxyJump.map((h) => parseHostSpec(h.alias)),
        jump ? jump.split(',').map(parseHostSpec) : [],
        'proxyjump',
      );
      const alive = Number(expected.get('serveraliveinterval')?.[0] ?? '0');
      if (alive > 0) {
        assert.strictEqual(got.keepaliveIntervalMs, alive * 1000);
      }
    });
  }

  for (const spec of [
    'node-a',
    'lab-1',
    'lab-7',
    'web.prod',
    'db.prod',
    'unknown-host',
    'other@node-a',
    'inner',
    'deep',
    'other@lab-1:2022',
  ]) {
    it(`gives the same answer through ssh -G and through the fallback parser for ${spec}`, async () => {
      assert.deepStrictEqual(await resolver().resolve(spec), await parserOnly().resolve(spec));
    });
  }

  it('falls back to the parser when there is no ssh binary', async () => {
    const missing = new SshConfigResolver({
      userConfigFile: config,
      systemConfigFile: '/nonexistent',
      homeDir: home,
      env: {},
      sshBinary: path.join(dir, 'no-such-ssh'),
    });
    assert.deepStrictEqual(await missing.resolve('lab-7'), await parserOnly().resolve('lab-7'));
  });

  it("reads the system config after the user config, as ssh without -F does, and maps ssh's ~ to our HOME", async () => {
    const otherHome = path.join(dir, 'home');
    const system = path.join(dir, 'system_config');
    writeFileSync(system, 'Host *\n  HashKnownHosts yes\n  User from-system\n  ServerAliveInterval 9\n');
    const make = (sshBinary?: false) =>
      new SshConfigResolver({ userConfigFile: config, systemConfigFile: system, homeDir: otherHome, env: {}, sshBinary });
    const viaSsh = await make().resolve('lab-1');
    assert.deepStrictEqual(viaSsh, await make(false).resolve('lab-1'));
    assert.strictEqual(viaSsh.user, 'labuser', 'the user config comes first');
    assert.strictEqual(viaSsh.keepaliveIntervalMs, 9000, 'the system config fills in the rest');
    assert.deepStrictEqual(viaSsh.knownHostsFiles.slice(0, 1), [path.join(otherHome, '.ssh', 'known_hosts_lab')]);
  });

  it('reports a config that ssh refuses, naming the file, instead of guessing', async () => {
    const bad = path.join(dir, 'bad_config');
    writeFileSync(bad, 'Host x\n  NoSuchOption yes\n');
    const r = new SshConfigResolver({ userConfigFile: bad, systemConfigFile: '/nonexistent', homeDir: home, env: {} });
    const err = await expectUserError(r.resolve('x'), ErrorCode.SshConfigInvalid);
    assert.ok(err.message.includes(bad) && /NoSuchOption|Bad configuration option/i.test(err.message), err.message);
  });

  it('follows Match host … exec "test -f FLAG" as ssh does: the User switches with the flag', async () => {
    const flag = path.join(dir, 'use-admin.flag');
    const matchConfig = path.join(dir, 'match_config');
    writeFileSync(
      matchConfig,
      [
        `Match host node-m exec "test -f ${flag}"`,
        '  User admin-when-flagged',
        'Host node-m',
        '  HostName 10.1.2.3',
        '  User plain',
        '',
      ].join('\n'),
    );
    const r = new SshConfigResolver({ userConfigFile: matchConfig, systemConfigFile: '/nonexistent', homeDir: home, env: {} });
    rmSync(flag, { force: true });
    assert.strictEqual((await r.resolve('node-m')).user, 'plain');
    assert.strictEqual(sshG(matchConfig, 'node-m').get('user')![0], 'plain');
    writeFileSync(flag, '');
    assert.strictEqual(
      (await r.resolve('node-m')).user,
      'admin-when-flagged',
      'resolved again on each lookup, so the flag applies at once',
    );
    assert.strictEqual(sshG(matchConfig, 'node-m').get('user')![0], 'admin-when-flagged');
    assert.strictEqual((await r.resolve('other-host')).user !== 'admin-when-flagged', true, 'Match host limits it to node-m');
  });

  it('keeps ProxyCommand as written (tokens for connect time), and lets the first of ProxyJump/ProxyCommand win', async () => {
    const proxyConfig = path.join(dir, 'proxy_config');
    writeFileSync(
      proxyConfig,
      [
        'Host via-cmd',
        '  ProxyCommand ssh -W %h:%p "bastion host"',
        '  ProxyJump ignored-because-second',
        'Host via-jump',
        '  ProxyJump bastion',
        '  ProxyCommand ignored %h',
        '',
      ].join('\n'),
    );
    const r = new SshConfigResolver({ userConfigFile: proxyConfig, systemConfigFile: '/nonexistent', homeDir: home, env: {} });
    const cmd = await r.resolve('via-cmd');
    assert.strictEqual(cmd.proxyCommand, 'ssh -W %h:%p "bastion host"');
    assert.deepStrictEqual(cmd.proxyJump, []);
    const jump = await r.resolve('via-jump');
    assert.strictEqual(jump.proxyCommand, undefined);
    assert.deepStrictEqual(
      jump.proxyJump.map((h) => h.alias),
      ['bastion'],
    );
  });

  it('resolves every hop of a ProxyJump chain through the config, nested jumps first', async () => {
    const deep = await resolver().resolve('deep');
    assert.deepStrictEqual(
      deep.proxyJump.map((h) => `${h.user}@${h.hostName}:${h.port}`),
      ['jump@192.0.2.10:22', 'jump2@192.0.2.11:2022', 'fallback@10.9.9.9:22'],
    );
  });

  it('lists literal Host aliases, including those from Include files, but no patterns', async () => {
    const aliases = await resolver().listHostAliases();
    assert.deepStrictEqual(aliases.sort(), ['bastion', 'deep', 'inner', 'lab-1', 'node-a'].sort());
  });

  it('uses the agent from the environment unless IdentitiesOnly or IdentityAgent none says no', async () => {
    const r = new SshConfigResolver({
      userConfigFile: config,
      systemConfigFile: '/nonexistent',
      homeDir: home,
      env: { SSH_AUTH_SOCK: '/tmp/agent.sock' },
    });
    assert.strictEqual((await r.resolve('lab-1')).identityAgent, '/tmp/agent.sock');
    assert.strictEqual((await r.resolve('node-a')).identitiesOnly, true);
  });

  it('lets user@host:port override the config, which ssh itself only takes as -l and -p', async () => {
    const got = await resolver().resolve('other@node-a:2022');
    const expected = execFileSync('ssh', ['-G', '-F', config, '-l', 'other', '-p', '2022', 'node-a'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.ok(
      expected.includes(`hostname ${got.hostName}\n`) && expected.includes('port 2022\n') && expected.includes('user other\n'),
      expected,
    );
    assert.deepStrictEqual([got.user, got.port], ['other', 2022]);
  });

  it('parses user@host:port forms and refuses hostile ones', () => {
    assert.deepStrictEqual(parseHostSpec('root@10.0.0.1:2222'), { host: '10.0.0.1', user: 'root', port: 2222 });
    assert.deepStrictEqual(parseHostSpec('node-1'), { host: 'node-1', user: undefined, port: undefined });
    assert.deepStrictEqual(parseHostSpec('me@[::1]:22'), { host: '::1', user: 'me', port: 22 });
    for (const bad of ['', ' ', 'a b', 'x;rm', '$(id)', '-oProxyCommand=id', 'h:0', 'h:70000', "o'q", 'a`b`']) {
      assert.throws(() => parseHostSpec(bad), /is not a node/, bad);
    }
  });
});
