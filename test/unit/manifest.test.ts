// package.json as VS Code reads it: every %key% has its English text in package.nls.json, the
// l10n bundle matches the strings in the code, settings that run or pick files on this machine
// cannot come from a workspace, and the grammar's scope is ours alone.
import * as assert from 'assert';
import { execFile } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';

const root = path.resolve(__dirname, '..', '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));

/** Every string value in a JSON tree. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('package.json', () => {
  const manifest = readJson('package.json');
  const nls: Record<string, string> = readJson('package.nls.json');

  it('takes every user-visible text from package.nls.json, and the file has no unused key', () => {
    const keys = strings(manifest).flatMap((s) => [...s.matchAll(/^%([^%\s]+)%$/g)].map((m) => m[1]));
    assert.deepStrictEqual(
      keys.filter((k) => !(k in nls)),
      [],
      'keys without text',
    );
    assert.deepStrictEqual(
      Object.keys(nls).filter((k) => !keys.includes(k)),
      [],
      'unused keys',
    );
    const c = manifest.contributes;
    const visible = [
      manifest.displayName,
      manifest.description,
      ...c.commands.flatMap((x: { title: string; category: string }) => [x.title, x.category]),
      ...Object.values(c.configuration.properties).map((p: any) => p.markdownDescription ?? p.description),
      ...(c.walkthroughs ?? []).flatMap((w: any) => [w.title, w.description, ...w.steps.flatMap((s: any) => [s.title, s.description])]),
      manifest.capabilities.untrustedWorkspaces.description,
    ];
    assert.deepStrictEqual(
      visible.filter((t: string) => !/^%[^%]+%$/.test(t)),
      [],
      'texts written into package.json',
    );
  });

  it('has an l10n bundle that matches the vscode.l10n.t strings in the code', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'krd-l10n-'));
    try {
      await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'vscode-l10n-dev'), ['export', '-o', out, path.join(root, 'src')]);
      const fresh = JSON.parse(readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8'));
      assert.deepStrictEqual(readJson(`${manifest.l10n}/bundle.l10n.json`), fresh, 'npm run l10n updates l10n/bundle.l10n.json');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reads settings that run a program on the node or choose SSH files from this machine only', () => {
    const props = manifest.contributes.configuration.properties;
    for (const key of ['kubelet.debug.localDlvPath', 'kubelet.ssh.configFile', 'kubelet.ssh.transport']) {
      assert.strictEqual(props[key].scope, 'machine', `${key} is machine-scoped`);
    }
    const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    assert.strictEqual(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    for (const key of restricted) {
      assert.ok(key in props, `${key} is a setting`);
      assert.notStrictEqual(props[key].scope, 'machine', `${key}: machine scope already keeps it out of workspaces`);
    }
    assert.ok(restricted.includes('kubelet.nodes') && restricted.includes('kubelet.debug.skipVersionSkewWarning'));
  });

  it('names the grammar with a scope of its own, the same in package.json and the grammar file', () => {
    const [grammar] = manifest.contributes.grammars;
    const file = readJson(grammar.path);
    assert.strictEqual(file.scopeName, grammar.scopeName);
    // "Systemd Helper" (hangxingliu.vscode-systemd-support) registers source.systemd for .service files.
    assert.notStrictEqual(grammar.scopeName, 'source.systemd');
    assert.match(grammar.scopeName, /\.kubelet-remote-debug$/);
  });
});
