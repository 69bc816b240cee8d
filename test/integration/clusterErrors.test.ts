// The Nodes view with kubeconfigs that cannot work (made here, no API server needed to fail): a
// server where nothing listens, an expired and a garbled client certificate, a failing exec
// credential plugin, a file that is not YAML. Each shows its own message in its own row, and the
// SSH-configured test node is still listed and still expands.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { writeBadKubeconfigSet } from '../support/kubeconfigFixtures';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { extensionApi, testNode, treeChildren, treeLabel } from './testNodeAccess';

describe('Nodes view: bad kubeconfigs', function () {
  this.timeout(120_000);
  const original = process.env.KUBECONFIG;
  let dir: string;
  before(() => {
    dir = tempDir('bad-kubeconfig');
  });
  after(async () => {
    if (original === undefined) {
      delete process.env.KUBECONFIG;
    } else {
      process.env.KUBECONFIG = original;
    }
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    removeTempDir(dir);
  });

  it('shows each context with its own message, and the SSH-configured node still', async () => {
    const { nodesTree } = await extensionApi();
    const bad = await writeBadKubeconfigSet(dir);
    // The extension reads KUBECONFIG on every refresh, as kubectl reads it on every run.
    process.env.KUBECONFIG = [bad.wrongServer, bad.expiredCertificate, bad.garbledCertificate, bad.failingExecPlugin, bad.notYaml].join(
      path.delimiter,
    );
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const roots = await treeChildren(nodesTree);
    const labels = roots.map((r) => treeLabel(r.item));
    const node = roots.find((r) => treeLabel(r.item) === testNode().alias);
    assert.ok(node, `the SSH-configured node is listed: ${labels.join(' | ')}`);
    const [unit] = await treeChildren(nodesTree, node.element);
    assert.strictEqual(treeLabel(unit.item), 'kubelet.service', 'and it still expands to its unit');

    const messageOf = async (context: string) => {
      const entry = roots.find((r) => treeLabel(r.item) === context);
      assert.ok(entry, `${context} is listed: ${labels.join(' | ')}`);
      const rows = await treeChildren(nodesTree, entry.element);
      assert.strictEqual(rows.length, 1, rows.map((r) => treeLabel(r.item)).join(' | '));
      return treeLabel(rows[0].item);
    };
    assert.match(
      await messageOf('bad-wrong-server'),
      /context "bad-wrong-server" \(https:\/\/127\.0\.0\.1:\d+\) cannot be reached: ECONNREFUSED.*\[KRD1802\]$/,
    );
    assert.match(
      await messageOf('bad-expired-certificate'),
      /client certificate of user "bad-expired-certificate-user" .* expired on 2020-01-02T00:00:00\.000Z.*\[KRD1803\]$/,
    );
    assert.match(
      await messageOf('bad-garbled-certificate'),
      /its client certificate is not a PEM certificate \(garbled or truncated\).*\[KRD1805\]$/,
    );
    assert.match(
      await messageOf('bad-exec-plugin'),
      /credential plugin of context "bad-exec-plugin" \(\/bin\/sh\) failed: .*log in first.*\[KRD1806\]$/,
    );
    const problem = labels.find((l) => l.includes('not-yaml.conf'));
    assert.match(problem ?? '', /The kubeconfig .*not-yaml\.conf cannot be read: .*\[KRD1801\]$/);
  });
});
