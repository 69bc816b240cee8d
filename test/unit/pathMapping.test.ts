// Path mapping derived from the binary's own file list against the workspace's files (a real
// temporary tree on disk, with the symlink a Kubernetes build leaves in _output).
import * as assert from 'assert';
import * as fs from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { deriveMapping, localWorkspaceFiles, mappingsFor } from '../../src/debug/pathMapping';

describe('path mapping', () => {
  let ws: string;
  const files = [
    'pkg/kubelet/kubelet.go',
    'pkg/kubelet/kubelet_pods.go',
    'cmd/kubelet/app/server.go',
    'cmd/kubelet/kubelet.go',
    'pkg/util/node/node.go',
  ];
  before(() => {
    ws = fs.mkdtempSync(path.join(tmpdir(), 'krd-map-'));
    for (const f of files) {
      fs.mkdirSync(path.join(ws, path.dirname(f)), { recursive: true });
      fs.writeFileSync(path.join(ws, f), 'package x\n');
    }
    // What Kubernetes' make leaves: a GOPATH inside _output that links back to the tree.
    fs.mkdirSync(path.join(ws, '_output/local/go/src/k8s.io'), { recursive: true });
    fs.symlinkSync(ws, path.join(ws, '_output/local/go/src/k8s.io/kubernetes'));
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  const goroot = ['/usr/lib/go-1.19/src/runtime/proc.go', '/usr/lib/go-1.19/src/fmt/print.go'];
  const vendored = ['_output/local/go/src/k8s.io/kubernetes/vendor/k8s.io/klog/v2/klog.go'];

  it('maps the relative paths of a -trimpath Kubernetes build (v1.20) to the workspace, not through its _output link', () => {
    const sources = [...goroot, ...vendored, ...files.map((f) => `_output/local/go/src/k8s.io/kubernetes/${f}`)];
    const outcome = deriveMapping(sources, ws, localWorkspaceFiles(ws, fs));
    assert.deepStrictEqual(outcome, {
      kind: 'mapped',
      mapping: { from: ws, to: '_output/local/go/src/k8s.io/kubernetes' },
      agreeing: files.length,
      sampled: files.length,
    });
  });

  it('maps the absolute paths of a build made elsewhere (DBG=1 on another machine)', () => {
    const sources = [...goroot, ...files.map((f) => `/home/builder/go/src/k8s.io/kubernetes/${f}`)];
    const outcome = deriveMapping(sources, ws, localWorkspaceFiles(ws, fs));
    assert.strictEqual(outcome.kind, 'mapped');
    assert.deepStrictEqual(outcome.kind === 'mapped' && outcome.mapping, { from: ws, to: '/home/builder/go/src/k8s.io/kubernetes' });
  });

  it('works for any Go program, not only the kubelet', () => {
    const demo = fs.mkdtempSync(path.join(tmpdir(), 'krd-demo-'));
    try {
      for (const f of ['main.go', 'internal/server/server.go', 'internal/server/routes.go']) {
        fs.mkdirSync(path.join(demo, path.dirname(f)), { recursive: true });
        fs.writeFileSync(path.join(demo, f), 'package x\n');
      }
      const sources = [
        ...goroot,
        '/build/demo/main.go',
        '/build/demo/internal/server/server.go',
        '/build/demo/internal/server/routes.go',
        '/root/go/pkg/mod/github.com/x/y@v1/y.go',
      ];
      const { mappings } = mappingsFor([{ from: '/mine', to: '/theirs' }], demo, sources);
      // main.go matches by its bare name only; the internal/ files back it up.
      assert.deepStrictEqual(mappings, [
        { from: '/mine', to: '/theirs' },
        { from: demo, to: '/build/demo' },
      ]);
    } finally {
      fs.rmSync(demo, { recursive: true, force: true });
    }
  });

  it('does not map on bare file names alone', () => {
    const demo = fs.mkdtempSync(path.join(tmpdir(), 'krd-bare-'));
    try {
      fs.writeFileSync(path.join(demo, 'main.go'), 'package main\n');
      fs.writeFileSync(path.join(demo, 'util.go'), 'package main\n');
      const outcome = deriveMapping([...goroot, '/elsewhere/tool/main.go', '/elsewhere/tool/util.go'], demo, localWorkspaceFiles(demo, fs));
      assert.strictEqual(outcome.kind, 'none');
    } finally {
      fs.rmSync(demo, { recursive: true, force: true });
    }
  });

  it('needs no mapping when the binary was built in the workspace', () => {
    assert.deepStrictEqual(deriveMapping([...goroot, ...files.map((f) => `${ws}/${f}`)], ws, localWorkspaceFiles(ws, fs)), {
      kind: 'same',
    });
  });

  it('says so when the binary comes from another tree, with an example path', () => {
    const outcome = deriveMapping(
      [...goroot, '/src/other/pkg/thing/thing.go', '/src/other/pkg/thing/more.go', '/src/other/cmd/x/x.go'],
      ws,
      localWorkspaceFiles(ws, fs),
    );
    assert.deepStrictEqual(outcome, { kind: 'none', example: '/src/other/pkg/thing/thing.go' });
  });
});
