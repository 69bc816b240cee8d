// Version checks made before the kubelet is touched: Delve against the binary's Go, and the debug
// build against the running kubelet. The Go version comes from a real binary built here.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  checkDelveSupportsGo,
  DELVE_RELEASES,
  disablesGoVersionCheck,
  newestDelveFor,
  parseDelveVersion,
  supportedGoWindow,
} from '../../src/binary/delveCompatibility';
import { errors } from '../../src/common/errors';
import { readLocalGoBuildInfo } from '../../src/binary/goBuildInfo';
import { checkVersionSkew, parseKubernetesVersion } from '../../src/kube/versionSkew';

describe('version checks', () => {
  it('reads the Go version and main path from a real Go binary, as `go version -m` does', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'krd-go-'));
    try {
      writeFileSync(path.join(dir, 'go.mod'), 'module example.com/probe\n\ngo 1.19\n');
      writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() { println("probe") }\n');
      execFileSync('go', ['build', '-o', 'probe', '.'], {
        cwd: dir,
        env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off', CGO_ENABLED: '0' },
      });
      const expected = execFileSync('go', ['version', '-m', path.join(dir, 'probe')], { encoding: 'utf8' });
      const info = await readLocalGoBuildInfo(path.join(dir, 'probe'));
      assert.ok(expected.startsWith(`${path.join(dir, 'probe')}: ${info.goVersion}\n`), expected);
      assert.strictEqual(info.mainPath, 'example.com/probe');
      await assert.rejects(readLocalGoBuildInfo('/bin/sh'), /no \.go\.buildinfo section/);
      await assert.rejects(readLocalGoBuildInfo(path.join(dir, 'go.mod')), /Not an ELF binary/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each row as Delve's pkg/goversion/compat.go has it at that release: [Delve, oldest Go, newest Go].
  const compatRows: Array<[string, number, number]> = [
    ['1.7.0', 15, 17],
    ['1.7.3', 15, 17],
    ['1.8.0', 16, 18],
    ['1.8.3', 16, 18],
    ['1.9.0', 17, 19],
    ['1.9.1', 17, 19],
    ['1.20.0', 18, 20],
    ['1.20.2', 18, 20],
    ['1.21.0', 19, 21],
    ['1.21.2', 19, 21],
    ['1.22.0', 20, 22],
    ['1.22.1', 20, 22],
    ['1.23.0', 21, 23],
    ['1.23.1', 21, 23],
    ['1.24.0', 21, 24],
    ['1.24.2', 21, 24],
    ['1.25.0', 21, 24],
    ['1.25.1', 21, 24],
    ['1.25.2', 22, 25],
    ['1.26.0', 24, 26],
    ['1.26.2', 24, 26],
    ['1.27.0', 25, 27],
    ['1.27.2', 25, 27],
  ];
  for (const [version, low, high] of compatRows) {
    it(`Delve ${version} accepts exactly Go 1.${low} to 1.${high}`, () => {
      const delve = parseDelveVersion(`Delve Debugger\nVersion: ${version}\nBuild: $Id$\n`)!;
      assert.deepStrictEqual(supportedGoWindow(delve), [low, high]);
      assert.deepStrictEqual(checkDelveSupportsGo(delve, `go1.${low}.3`), { ok: true });
      assert.deepStrictEqual(checkDelveSupportsGo(delve, `go1.${high}`), { ok: true });
      for (const outside of [low - 1, high + 1]) {
        const verdict = checkDelveSupportsGo(delve, `go1.${outside}.1`);
        assert.ok(!verdict.ok, `${version} must refuse go1.${outside}`);
        assert.match(
          verdict.reason,
          new RegExp(`Delve ${version.replace(/\./g, '\\.')} on the node debugs binaries built by Go 1\\.${low} to 1\\.${high}`),
        );
      }
    });
  }

  it('has no Delve 1.10 to 1.19 (never released) and does not invent windows for unknown releases', () => {
    for (let minor = 10; minor <= 19; minor++) {
      assert.strictEqual(supportedGoWindow({ minor, patch: 0 }), undefined);
    }
    assert.ok(DELVE_RELEASES.every((r) => r.minor < 10 || r.minor >= 20));
    assert.strictEqual(supportedGoWindow({ minor: 6, patch: 1 }), undefined);
    const unknown = checkDelveSupportsGo({ version: '1.40.0', minor: 40, patch: 0 }, 'go1.19.8');
    assert.ok(unknown.ok && /not in this extension's compatibility table/.test(unknown.warning ?? ''), JSON.stringify(unknown));
    // 1.25 changed window between patches, so without a patch there is no single answer.
    assert.strictEqual(supportedGoWindow({ minor: 25 }), undefined);
    // A later patch than we know keeps its minor's last window.
    assert.deepStrictEqual(supportedGoWindow({ minor: 24, patch: 9 }), [21, 24]);
  });

  it("names the newest Delve release that supports the binary's Go, never @latest when latest cannot", () => {
    const expected: Record<number, string> = {
      15: '1.7.3',
      16: '1.8.3',
      17: '1.9.1',
      18: '1.20.2',
      19: '1.21.2',
      20: '1.22.1',
      21: '1.25.1',
      22: '1.25.2',
      23: '1.25.2',
      24: '1.26.2',
      25: '1.27.2',
      26: '1.27.2',
      27: '1.27.2',
    };
    for (const [go, delve] of Object.entries(expected)) {
      assert.strictEqual(newestDelveFor(Number(go)), delve, `Go 1.${go}`);
    }
    const old = checkDelveSupportsGo({ version: '1.27.2', minor: 27, patch: 2 }, 'go1.19.8');
    assert.ok(!old.ok);
    assert.strictEqual(old.installCommand, 'go install github.com/go-delve/delve/cmd/dlv@v1.21.2');
    assert.strictEqual(old.install, 'Delve 1.21.2');
    const message = errors.delveTooOld('node-a', old.reason, old.install, old.installCommand).message;
    assert.match(message, /dlv@v1\.21\.2/);
    assert.doesNotMatch(message, /@latest/);
    assert.match(message, /--check-go-version=false/);
    // Newer than every release we know: only then is @latest the advice.
    const tooNew = checkDelveSupportsGo({ version: '1.27.2', minor: 27, patch: 2 }, 'go1.28.0');
    assert.ok(!tooNew.ok && tooNew.installCommand === 'go install github.com/go-delve/delve/cmd/dlv@latest', JSON.stringify(tooNew));
    const tooOld = checkDelveSupportsGo({ version: '1.20.2', minor: 20, patch: 2 }, 'go1.12.1');
    assert.ok(!tooOld.ok && tooOld.installCommand === undefined, JSON.stringify(tooOld));
  });

  it('turns a mismatch into a warning when dlvFlags has --check-go-version=false', () => {
    const delve = { version: '1.20.2', minor: 20, patch: 2 };
    const off = checkDelveSupportsGo(delve, 'go1.24.3', ['--log', '--check-go-version=false']);
    assert.ok(
      off.ok && /1\.18 to 1\.20/.test(off.warning ?? '') && /--check-go-version=false/.test(off.warning ?? ''),
      JSON.stringify(off),
    );
    assert.ok(!checkDelveSupportsGo(delve, 'go1.24.3', ['--check-go-version=true']).ok);
    assert.ok(!checkDelveSupportsGo(delve, 'go1.24.3', ['--check-go-version']).ok);
    assert.ok(disablesGoVersionCheck(['--check-go-version=0']));
    assert.ok(!disablesGoVersionCheck(undefined));
    assert.deepStrictEqual(checkDelveSupportsGo(delve, 'devel go1.25-abcdef'), { ok: true });
  });

  it('warns on minor-version skew and on crossing 1.31', () => {
    const v = (s: string) => parseKubernetesVersion(s);
    assert.deepStrictEqual(v('Kubernetes v1.30.2'), { major: 1, minor: 30, patch: 2, text: 'v1.30.2' });
    assert.strictEqual(checkVersionSkew(v('Kubernetes v1.30.2'), v('Kubernetes v1.30.9')), undefined);
    assert.match(checkVersionSkew(v('Kubernetes v1.30.2'), v('Kubernetes v1.31.0'))!, /changed in 1\.31/);
    assert.match(checkVersionSkew(v('Kubernetes v1.28.2'), v('Kubernetes v1.29.0'))!, /Across minor versions/);
    assert.strictEqual(checkVersionSkew(undefined, v('v1.30.0')), undefined);
  });
});
