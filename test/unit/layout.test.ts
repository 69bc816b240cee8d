// The house rule that keeps the core testable in plain Node: only the VS Code layer imports `vscode`.
import * as assert from 'assert';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

const src = path.resolve(__dirname, '..', '..', '..', 'src');
/** Folders that are VS Code glue, and the few files of the debug feature that register it with VS Code. */
const VSCODE_LAYER = new Set(['views', 'files', 'commands', 'ui', 'extension.ts', 'services.ts']);
const VSCODE_FILES = new Set([
  'debug/registerDebugger.ts',
  'debug/configurationProvider.ts',
  'debug/haltTimer.ts',
  'debug/leftoverSessionWatcher.ts',
  'debug/debuggerPicker.ts',
  'debug/sessionTrace.ts',
  'language/unitLanguageFeatures.ts',
]);

function tsFiles(dir: string, rel = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? tsFiles(path.join(dir, e.name), r) : e.name.endsWith('.ts') ? [r] : [];
  });
}

describe('layout', () => {
  it('imports vscode only in the VS Code layer', () => {
    const offenders = tsFiles(src)
      .filter((f) => !VSCODE_LAYER.has(f.split('/')[0]) && !VSCODE_FILES.has(f))
      .filter((f) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(path.join(src, f), 'utf8')));
    assert.deepStrictEqual(offenders, []);
    assert.ok(tsFiles(src).length > 60, 'the scan sees the source tree');
  });
});
