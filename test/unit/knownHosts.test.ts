// known_hosts handling checked against real OpenSSH: keys come from ssh-keygen, hashed entries
// from `ssh-keygen -H`, and what we append must be found by `ssh-keygen -F`.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  appendKnownHost,
  fingerprint,
  keyTypeOf,
  parseKnownHosts,
  readKnownHosts,
  removeKnownHostCommand,
  verifyHostKey,
} from '../../src/ssh/knownHosts';

function makeKey(dir: string, name: string, type = 'ed25519'): { blob: Buffer; line: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  return { blob: Buffer.from(line.split(' ')[1], 'base64'), line };
}

describe('knownHosts', () => {
  let dir: string;
  let keyA: { blob: Buffer; line: string };
  let keyB: { blob: Buffer; line: string };
  let rsa: { blob: Buffer; line: string };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'krd-kh-'));
    keyA = makeKey(dir, 'a');
    keyB = makeKey(dir, 'b');
    rsa = makeKey(dir, 'r', 'rsa');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const typeAndKey = (k: { line: string }) => k.line.split(' ').slice(0, 2).join(' ');

  it('reads the key type and prints the fingerprint ssh-keygen prints', () => {
    assert.strictEqual(keyTypeOf(keyA.blob), 'ssh-ed25519');
    assert.strictEqual(keyTypeOf(rsa.blob), 'ssh-rsa');
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'a.pub')], { encoding: 'utf8' }).split(' ')[1];
    assert.strictEqual(fingerprint(keyA.blob), expected);
  });

  it('matches plain, port, wildcard and negated entries', () => {
    const file = path.join(dir, 'plain');
    writeFileSync(
      file,
      [
        '# comment',
        `node1,10.0.0.1 ${typeAndKey(keyA)}`,
        `[node2]:2222 ${typeAndKey(keyA)}`,
        `*.k8s.test,!evil.k8s.test ${typeAndKey(keyB)}`,
        '',
      ].join('\n'),
    );
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.strictEqual(entries.length, 3);
    assert.deepStrictEqual(verifyHostKey(entries, 'node1', 22, keyA.blob), { status: 'known', file, line: 2 });
    assert.deepStrictEqual(verifyHostKey(entries, '10.0.0.1', 22, keyA.blob), { status: 'known', file, line: 2 });
    assert.deepStrictEqual(verifyHostKey(entries, 'node2', 2222, keyA.blob), { status: 'known', file, line: 3 });
    assert.deepStrictEqual(verifyHostKey(entries, 'node2', 22, keyA.blob), { status: 'unknown' }, 'port 22 is not [node2]:2222');
    assert.deepStrictEqual(verifyHostKey(entries, 'w1.k8s.test', 22, keyB.blob), { status: 'known', file, line: 4 });
    assert.deepStrictEqual(verifyHostKey(entries, 'evil.k8s.test', 22, keyB.blob), { status: 'unknown' });
  });

  it('reports a changed key with its file and line, and treats another key type as unknown', () => {
    const file = path.join(dir, 'changed');
    writeFileSync(file, `other ${typeAndKey(rsa)}\nnode1 ${typeAndKey(keyA)}\n`);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.deepStrictEqual(verifyHostKey(entries, 'node1', 22, keyB.blob), { status: 'changed', file, line: 2 });
    assert.deepStrictEqual(verifyHostKey(entries, 'other', 22, keyA.blob), { status: 'unknown' });
  });

  it('honours @revoked and ignores @cert-authority for plain keys', () => {
    const file = path.join(dir, 'markers');
    writeFileSync(file, `@revoked * ${typeAndKey(keyB)}\n@cert-authority * ${typeAndKey(keyA)}\n`);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.deepStrictEqual(verifyHostKey(entries, 'any', 22, keyB.blob), { status: 'revoked', file, line: 1 });
    assert.deepStrictEqual(verifyHostKey(entries, 'any', 22, keyA.blob), { status: 'unknown' });
  });

  it('matches entries hashed by ssh-keygen -H, including [host]:port', async () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `node9 ${typeAndKey(keyA)}\n[node9]:2200 ${typeAndKey(keyB)}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('node9') && text.includes('|1|'), 'ssh-keygen hashed the names');
    const entries = await readKnownHosts([file, path.join(dir, 'missing')]);
    assert.strictEqual(verifyHostKey(entries, 'node9', 22, keyA.blob).status, 'known');
    assert.strictEqual(verifyHostKey(entries, 'node9', 2200, keyB.blob).status, 'known');
    assert.strictEqual(verifyHostKey(entries, 'node9', 22, keyB.blob).status, 'changed');
    assert.strictEqual(verifyHostKey(entries, 'node8', 22, keyA.blob).status, 'unknown');
  });

  for (const hashed of [false, true]) {
    it(`appends ${hashed ? 'hashed' : 'plain'} entries that ssh-keygen -F finds`, async () => {
      const file = path.join(dir, `fresh-${hashed}`, 'known_hosts');
      await appendKnownHost(file, '10.1.2.3', 2022, keyA.blob, hashed);
      await appendKnownHost(file, 'node-x', 22, keyB.blob, hashed);
      assert.strictEqual(statSync(file).mode & 0o777, 0o600);
      assert.strictEqual(statSync(path.dirname(file)).mode & 0o777, 0o700);
      const found = execFileSync('ssh-keygen', ['-F', '[10.1.2.3]:2022', '-f', file], { encoding: 'utf8' });
      assert.ok(found.includes(keyA.blob.toString('base64')), found);
      const foundX = execFileSync('ssh-keygen', ['-F', 'node-x', '-f', file], { encoding: 'utf8' });
      assert.ok(foundX.includes(keyB.blob.toString('base64')), foundX);
      const entries = await readKnownHosts([file]);
      assert.strictEqual(verifyHostKey(entries, '10.1.2.3', 2022, keyA.blob).status, 'known');
    });
  }

  it('adds a newline before appending to a file that lacks one', async () => {
    const file = path.join(dir, 'nonl');
    writeFileSync(file, `node1 ${typeAndKey(keyA)}`);
    await appendKnownHost(file, 'node2', 22, keyB.blob, false);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.strictEqual(lines.length, 3);
    assert.ok(lines[1].startsWith('node2 ssh-ed25519 '));
  });

  it('prints the removal command as OpenSSH does: the plain host for port 22, [host]:port otherwise', () => {
    assert.strictEqual(
      removeKnownHostCommand('/home/u/.ssh/known_hosts', 'node1', 22),
      'ssh-keygen -f "/home/u/.ssh/known_hosts" -R "node1"',
    );
    assert.strictEqual(
      removeKnownHostCommand('/home/u/.ssh/known_hosts', 'node1', 2222),
      'ssh-keygen -f "/home/u/.ssh/known_hosts" -R "[node1]:2222"',
    );
  });
});
