// What the launcher checks before it touches a node: which debug build command fits a tree, and
// whether a binary is debuggable. The binaries are real: built here with the flags each case names.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { versionFromLdflags } from '../../src/binary/binaryVersion';
import { disablesOptimisationEverywhere, judgeDebugBinary } from '../../src/binary/debugBinaryCheck';
import { readElfSections } from '../../src/binary/elfSections';
import { chooseDebugBuildCommand } from '../../src/kube/debugBuildCommand';
import { readLocalGoBuildInfo } from '../../src/binary/goBuildInfo';

const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubernetes-golang-sh');

async function judgeFile(file: string) {
  const fd = await import('fs/promises').then((fs) => fs.open(file, 'r'));
  try {
    const readAt = async (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      const { bytesRead } = await fd.read(b, 0, length, offset);
      return b.subarray(0, bytesRead);
    };
    const info = await readLocalGoBuildInfo(file);
    return { verdict: judgeDebugBinary(await readElfSections(readAt), info.settings), info };
  } finally {
    await fd.close();
  }
}

describe('debug build command for a Kubernetes tree', () => {
  it('uses GOLDFLAGS/GOGCFLAGS for a v1.20 tree, whose golang.sh ignores DBG', () => {
    const choice = chooseDebugBuildCommand(readFileSync(path.join(fixtures, 'v1.20.sh'), 'utf8'));
    assert.strictEqual(choice.command, 'make WHAT=cmd/kubelet GOLDFLAGS="" GOGCFLAGS="all=-N -l" KUBE_BUILD_PLATFORMS=linux/${arch}');
    assert.match(choice.reason, /ignores DBG/);
  });

  for (const era of ['v1.24-era.sh', 'v1.30-era.sh']) {
    it(`uses DBG=1, and no GOGCFLAGS, for a tree whose golang.sh honours it (${era})`, () => {
      const choice = chooseDebugBuildCommand(readFileSync(path.join(fixtures, era), 'utf8'));
      assert.strictEqual(choice.command, 'make WHAT=cmd/kubelet DBG=1 KUBE_BUILD_PLATFORMS=linux/${arch}');
      assert.doesNotMatch(choice.command, /GOGCFLAGS/);
    });
  }

  it('does not count DBG in a comment as support', () => {
    const commented = '# if [[ "${DBG:-}" == 1 ]]; then\ngoldflags="${GOLDFLAGS=-s -w -buildid=}"\n';
    assert.match(chooseDebugBuildCommand(commented).command, /GOLDFLAGS=""/);
  });

  it('leaves DBG=1 to the Makefile of a tree without hack/lib/golang.sh', () => {
    assert.match(chooseDebugBuildCommand(undefined).command, /DBG=1/);
  });
});

describe('debuggable binary check', () => {
  let dir: string;
  const build = (name: string, ...flags: string[]) => {
    execFileSync('go', ['build', ...flags, '-o', name, '.'], {
      cwd: dir,
      env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off', CGO_ENABLED: '0' },
    });
    return path.join(dir, name);
  };

  before(function () {
    this.timeout(180_000);
    dir = mkdtempSync(path.join(tmpdir(), 'krd-bin-'));
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/probe\n\ngo 1.19\n');
    writeFileSync(
      path.join(dir, 'main.go'),
      'package main\n\nimport "fmt"\n\nvar gitVersion = "v0.0.0"\n\nfunc main() { fmt.Println(gitVersion) }\n',
    );
    writeFileSync(path.join(dir, 'version.go'), 'package main\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a stripped binary (-ldflags=-s -w), naming the flags', async function () {
    this.timeout(120_000);
    const { verdict } = await judgeFile(build('stripped', '-ldflags=-s -w'));
    assert.strictEqual(verdict.kind, 'stripped');
    assert.match((verdict as { evidence: string }).evidence, /-s -w/);
  });

  it('refuses a binary with DWARF but compiled with optimisations', async function () {
    this.timeout(120_000);
    const { verdict } = await judgeFile(build('optimised'));
    assert.strictEqual(verdict.kind, 'optimised');
  });

  it('refuses -N -l given only to the main package (no all=)', async function () {
    this.timeout(120_000);
    const { verdict, info } = await judgeFile(build('mainonly', '-gcflags=-N -l'));
    assert.strictEqual(info.settings.get('-gcflags'), '-N -l');
    assert.strictEqual(verdict.kind, 'optimised');
  });

  it('accepts a binary built with -gcflags=all=-N -l', async function () {
    this.timeout(180_000);
    const { verdict } = await judgeFile(build('debug', '-gcflags=all=-N -l'));
    assert.deepStrictEqual(verdict, { kind: 'ok' });
  });

  it('reads the version a build stamps with -X, without running the binary', async function () {
    this.timeout(120_000);
    const { info } = await judgeFile(build('stamped', "-ldflags=-X 'example.com/probe/version.gitVersion=v1.20.2' -X main.gitVersion=v9"));
    assert.strictEqual(versionFromLdflags(info.settings.get('-ldflags') ?? ''), 'v1.20.2');
  });

  it('reads the flags as go build does', () => {
    assert.ok(disablesOptimisationEverywhere('all=-N -l -trimpath=/src/kubernetes'));
    assert.ok(disablesOptimisationEverywhere(' all=-N -l'));
    assert.ok(!disablesOptimisationEverywhere('-N -l'));
    assert.ok(!disablesOptimisationEverywhere('all=-trimpath=/x'));
    assert.ok(
      !disablesOptimisationEverywhere('-trimpath=/x all=-N -l'),
      'GOGCFLAGS spliced in front makes the whole value one unpatterned group',
    );
    assert.ok(!disablesOptimisationEverywhere('std=-N -l'));
    assert.strictEqual(
      versionFromLdflags('-s -w -buildid= -X k8s.io/component-base/version.gitVersion=v1.20.2 -X k8s.io/component-base/version.gitMajor=1'),
      'v1.20.2',
    );
    assert.strictEqual(versionFromLdflags('-s -w'), undefined);
  });
});
