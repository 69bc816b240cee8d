// Version checks made before the kubelet is touched: Delve against the binary's Go, and the debug
// build against the running kubelet. The Go version comes from a real binary built here.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { checkDelveSupportsGo, parseDelveVersion, supportedGoWindow } from '../../src/build/delveCompatibility';
import { readLocalGoBuildInfo } from '../../src/build/goBuildInfo';
import { checkVersionSkew, parseKubernetesVersion } from '../../src/build/versionSkew';

describe('version checks', () => {
  it('reads the Go version and main path from a real Go binary, as `go version -m` does', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'krd-go-'));
    try {
      writeFileSync(path.join(dir, 'go.mod'), 'module example.com/probe\n\ngo 1.19\n');
      writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() { println("probe") }\n');
      execFileSync('go', ['build', '-o', 'probe', '.'], { cwd: dir, env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off', CGO_ENABLED: '0' } });
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

  it('knows which Go each Delve can debug', () => {
    assert.deepStrictEqual(parseDelveVersion('Delve Debugger\nVersion: 1.20.2\nBuild: $Id$\n'), { version: '1.20.2', minor: 20 });
    assert.strictEqual(parseDelveVersion('command not found'), undefined);
    assert.deepStrictEqual(supportedGoWindow(20), [18, 20]);
    assert.deepStrictEqual(supportedGoWindow(24), [21, 24]);
    assert.deepStrictEqual(checkDelveSupportsGo({ version: '1.20.2', minor: 20 }, 'go1.19.8'), { ok: true });
    const tooNew = checkDelveSupportsGo({ version: '1.20.2', minor: 20 }, 'go1.24.3');
    assert.ok(!tooNew.ok && /1\.18 to 1\.20/.test(tooNew.reason) && /Delve 1\.24\.x/.test(tooNew.suggestion), JSON.stringify(tooNew));
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
