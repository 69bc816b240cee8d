// The Marketplace package: `npm run package`'s vsce command on a copy of the repository prints no
// warning, and every file package.json points at (icon, walkthrough media, grammar, l10n) is inside.
import * as assert from 'assert';
import { execFile } from 'child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { promisify } from 'util';

const root = path.resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

/** The vsce arguments of the `package` script, so the test packages exactly as the script does. */
function vsceArgsOfPackageScript(): string[] {
  const script: string = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.package;
  const vsce = script
    .split('&&')
    .map((s) => s.trim())
    .find((s) => s.startsWith('vsce package'));
  assert.ok(vsce, `the package script runs vsce package: ${script}`);
  return vsce
    .split(/\s+/)
    .slice(1)
    .filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
}

/** Every file the manifest refers to, relative to the extension root. */
function referencedFiles(manifest: Record<string, any>): string[] {
  const c = manifest.contributes;
  const files = [manifest.icon, manifest.main.replace(/^\.\//, '')];
  if (manifest.l10n) {
    files.push(`${manifest.l10n.replace(/^\.\//, '')}/bundle.l10n.json`);
  }
  files.push(...c.viewsContainers.activitybar.map((v: { icon: string }) => v.icon));
  files.push(...c.grammars.map((g: { path: string }) => g.path.replace(/^\.\//, '')));
  files.push(...c.languages.map((l: { configuration: string }) => l.configuration.replace(/^\.\//, '')));
  for (const walkthrough of c.walkthroughs ?? []) {
    for (const step of walkthrough.steps) {
      files.push(step.media.image ?? step.media.markdown ?? step.media.svg);
      if (step.media.markdown) {
        // Pictures a walkthrough page shows, relative to the page.
        const page = readFileSync(path.join(root, step.media.markdown), 'utf8');
        for (const [, link] of page.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
          files.push(path.posix.normalize(path.posix.join(path.posix.dirname(step.media.markdown), link)));
        }
      }
    }
  }
  return files;
}

describe('the .vsix', function () {
  this.timeout(120_000);
  let dir: string;
  let output: string;
  let listed: string[];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'krd-vsix-'));
    for (const entry of [
      'package.json',
      'package.nls.json',
      '.vscodeignore',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'media',
      'syntaxes',
      'l10n',
    ]) {
      if (existsSync(path.join(root, entry))) {
        cpSync(path.join(root, entry), path.join(dir, entry), { recursive: true });
      }
    }
    await run(process.execPath, [path.join(root, 'esbuild.mjs'), '--production', '--outdir', path.join(dir, 'dist')], { cwd: root });
    const vsce = path.join(root, 'node_modules', '.bin', 'vsce');
    const packed = await run(vsce, [...vsceArgsOfPackageScript(), '--out', path.join(dir, 'x.vsix')], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    output = `${packed.stdout}\n${packed.stderr}`;
    listed = (await run(vsce, ['ls', '--no-dependencies'], { cwd: dir })).stdout.split('\n').filter(Boolean);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is packaged without a warning', () => {
    const warnings = output.split('\n').filter((l) => /WARNING|\bis large\b/i.test(l));
    assert.deepStrictEqual(warnings, [], output);
    assert.match(output, /DONE\s+Packaged/);
  });

  it('holds every file package.json refers to', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const missing = referencedFiles(manifest).filter((f) => !listed.includes(f));
    assert.deepStrictEqual(missing, [], `packaged: ${listed.join(', ')}`);
  });

  it('keeps ssh2 out of the activation bundle, loaded from beside it', () => {
    const bundle = readFileSync(path.join(dir, 'dist', 'extension.js'), 'utf8');
    assert.match(bundle, /require\("\.\/ssh2\.js"\)/);
    assert.ok(listed.includes('dist/ssh2.js'));
  });
});
