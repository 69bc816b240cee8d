// Test folders are removed when the test process ends, even when it ends by a failure.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { removeTempDir, tempDir } from '../support/tempDirs';

describe('test temp folders', () => {
  const helper = path.resolve(__dirname, '..', 'support', 'tempDirs.js');

  for (const [how, ending] of [
    ['an uncaught error', 'throw new Error("a failing test run")'],
    ['process.exit(3)', 'process.exit(3)'],
  ]) {
    it(`are gone after a process that made them ended by ${how}`, () => {
      const child = spawnSync(
        process.execPath,
        ['-e', `const { tempDir } = require(${JSON.stringify(helper)}); console.log(tempDir('selftest')); ${ending};`],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.notStrictEqual(child.status, 0, 'the child failed, as intended');
      const dir = child.stdout.trim();
      assert.match(dir, /\/krd-selftest-/);
      assert.strictEqual(existsSync(dir), false, `${dir} was removed`);
    });
  }

  it('removes a folder at once on request', () => {
    const dir = tempDir('selftest');
    assert.ok(existsSync(dir));
    removeTempDir(dir);
    assert.strictEqual(existsSync(dir), false);
  });
});
