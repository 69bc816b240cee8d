// shellQuote against a real /bin/sh: every hostile word must come back byte for byte and run nothing.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { shellCommand, shellQuote } from '../../src/ssh/shellQuote';
import { hostileWords } from '../support/hostileInput';

describe('shellQuote', () => {
  let dir: string;
  let canary: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'krd-quote-'));
    canary = path.join(dir, 'pwned');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves plain words alone and quotes the rest', () => {
    assert.strictEqual(shellQuote('kubelet.service'), 'kubelet.service');
    assert.strictEqual(
      shellQuote('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf'),
      '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
    );
    assert.strictEqual(shellQuote(''), `''`);
    assert.strictEqual(shellQuote(`it's`), `'it'\\''s'`);
  });

  it('refuses NUL bytes and empty commands', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
    assert.throws(() => shellCommand([]), /empty command/);
  });

  it('round-trips hostile words through sh without running anything', () => {
    const words = hostileWords(canary);
    assert.ok(words.length >= 50, 'the hostile corpus is large enough to mean something');
    // printf prints each argument NUL-terminated, so we can split them back exactly.
    const script = `printf '%s\\0' ${shellCommand(words)}`;
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'buffer' });
    const back = out.toString('utf8').split('\0').slice(0, -1);
    assert.deepStrictEqual(back, words);
    assert.ok(!existsSync(canary), 'no hostile word ran a command');
  });
});
