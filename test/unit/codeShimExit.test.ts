// The VS Code shim's exit code (test/vscode/lib/exitCode.mjs, used by code-shim.mjs): a run passes
// only when the extension host reported exactly 0. A missing or unknown code is a failure.
import * as assert from 'assert';
import * as path from 'path';
import { pathToFileURL } from 'url';

type ShimExit = (reported: unknown) => { code: number; failure?: string };

// An ES module: tsc (CommonJS output) would turn a plain import() into require(), which cannot load it.
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<{ shimExit: ShimExit }>;

describe('code shim exit code', () => {
  let shimExit: ShimExit;
  before(async () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'test', 'vscode', 'lib', 'exitCode.mjs');
    ({ shimExit } = await importEsm(pathToFileURL(file).href));
  });

  it('passes only on an explicit 0', () => {
    assert.deepStrictEqual(shimExit(0), { code: 0, failure: undefined });
  });

  it('keeps a real failure code', () => {
    assert.deepStrictEqual(shimExit(1), { code: 1, failure: 'tests failed (exit code 1)' });
    assert.strictEqual(shimExit(3).code, 3);
  });

  it('counts a missing or unknown exit code as a failure', () => {
    for (const reported of [undefined, null, NaN, '', '0', 0.5, -1, 256, {}, 'killed']) {
      const exit = shimExit(reported);
      assert.strictEqual(exit.code, 1, `${String(reported)} must not pass`);
      assert.match(exit.failure ?? '', /no usable exit code .* counted as a failure/);
    }
  });
});
