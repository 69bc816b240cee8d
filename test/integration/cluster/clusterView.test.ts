// The Nodes view against a real control plane (runWithNode.mjs --cluster): the worker listed under its
// kubeconfig context, Ready, with its kubelet version and its SSH target from ~/.ssh/config; and bad
// kubeconfigs (wrong server, expired or garbled certificate), each with its message, while the
// SSH-configured node is still listed.
import * as assert from 'assert';
import { rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { extensionApi, testNode, treeChildren, treeLabel } from '../testNodeAccess';

interface ClusterInfo {
  workerName: string;
  contextName: string;
  /** Bad copies of the admin kubeconfig, each with its own context name. */
  bad: { wrongServer: string; expiredCertificate: string; garbledCertificate: string };
}

function clusterInfo(): ClusterInfo {
  const info = (testNode() as unknown as { cluster?: ClusterInfo }).cluster;
  assert.ok(info, 'runWithNode.mjs --cluster describes the cluster in KRD_TEST_NODE_JSON');
  return info;
}

describe('Nodes view: the cluster from the kubeconfig', function () {
  this.timeout(120_000);
  const original = process.env.KUBECONFIG;
  afterEach(async () => {
    if (original === undefined) {
      delete process.env.KUBECONFIG;
    } else {
      process.env.KUBECONFIG = original;
    }
    await vscode.commands.executeCommand('kubelet.refreshNodes');
  });

  it('lists the worker under its context: Ready, kubelet v1.20.2, reached through the SSH config Host whose HostName is its InternalIP', async () => {
    const { nodesTree } = await extensionApi();
    const { workerName, contextName } = clusterInfo();
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const roots = await treeChildren(nodesTree);
    const labels = roots.map((r) => treeLabel(r.item));
    assert.ok(labels.includes(testNode().alias), `the SSH-configured node is listed: ${labels.join(', ')}`);
    const context = roots.find((r) => treeLabel(r.item) === contextName);
    assert.ok(context, `the context is listed: ${labels.join(', ')}`);
    const nodes = await treeChildren(nodesTree, context.element);
    assert.deepStrictEqual(
      nodes.map((n) => treeLabel(n.item)),
      [workerName],
    );
    const worker = nodes[0];
    assert.match(String(worker.item.description), /^Ready · v1\.20\.2 · \d+ pods?$/);
    assert.match(String(worker.item.tooltip), /Kubelet: v1\.20\.2/);
    assert.strictEqual((worker.element as { spec?: string }).spec, testNode().alias);
    assert.match(String(worker.item.contextValue), /^node/, 'every node action applies');
    const children = await treeChildren(nodesTree, worker.element);
    assert.strictEqual(children[0].item.description, `${testNode().alias} (from SSH config)`);
    assert.strictEqual(treeLabel(children[1].item), 'kubelet.service', 'the unit rows of the node, as for an SSH-configured node');
  });

  it('shows each bad kubeconfig with its message, and the SSH-configured node still', async () => {
    const { nodesTree } = await extensionApi();
    const { bad } = clusterInfo();
    process.env.KUBECONFIG = [bad.wrongServer, bad.expiredCertificate, bad.garbledCertificate].join(':');
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const roots = await treeChildren(nodesTree);
    const labels = roots.map((r) => treeLabel(r.item));
    assert.ok(labels.includes(testNode().alias), `the SSH-configured node is still listed: ${labels.join(', ')}`);
    const messageOf = async (context: string) => {
      const entry = roots.find((r) => treeLabel(r.item) === context);
      assert.ok(entry, `${context} is listed: ${labels.join(', ')}`);
      const rows = await treeChildren(nodesTree, entry.element);
      assert.strictEqual(rows.length, 1);
      return treeLabel(rows[0].item);
    };
    assert.match(await messageOf('bad-wrong-server'), /cannot be reached: ECONNREFUSED.*\[KRD1802\]$/);
    assert.match(await messageOf('bad-expired-certificate'), /client certificate of user .* expired on 2020-01-02.*\[KRD1803\]$/);
    assert.match(await messageOf('bad-garbled-certificate'), /not a PEM certificate .*\[KRD1805\]$/);
  });

  it('says when a node has no SSH target, and takes the kubelet.cluster.sshTarget template', async () => {
    const { nodesTree } = await extensionApi();
    const { workerName, contextName } = clusterInfo();
    const settings = vscode.workspace.getConfiguration('kubelet');
    // No Host names the worker or its address; `Host *` only gives the key, so the template's target
    // logs in as a user's would instead of asking for a password nobody types here.
    const empty = path.join(os.tmpdir(), `krd-keyonly-ssh-config-${process.pid}`);
    writeFileSync(empty, `Host *\n  IdentityFile ${testNode().keyPath}\n  IdentitiesOnly yes\n`);
    const workerRows = async () => {
      await vscode.commands.executeCommand('kubelet.refreshNodes');
      const context = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === contextName);
      assert.ok(context, 'the context is listed');
      const worker = (await treeChildren(nodesTree, context.element)).find((r) => treeLabel(r.item) === workerName);
      assert.ok(worker, 'the worker is listed');
      return { worker, rows: await treeChildren(nodesTree, worker.element) };
    };
    try {
      await settings.update('ssh.configFile', empty, vscode.ConfigurationTarget.Global);
      const unmapped = await workerRows();
      assert.strictEqual(unmapped.worker.item.contextValue, 'clusterNode.unreachable', 'no node action without a target');
      assert.strictEqual(unmapped.rows.length, 1);
      assert.strictEqual(treeLabel(unmapped.rows[0].item), 'No SSH target');
      assert.match(
        String(unmapped.rows[0].item.description),
        new RegExp(`no Host in your SSH config is named ${workerName}.*kubelet\\.cluster\\.sshTarget is not set`),
      );
      await settings.update('cluster.sshTarget', 'root@${InternalIP}', vscode.ConfigurationTarget.Global);
      const mapped = await workerRows();
      const address = testNode().address;
      assert.strictEqual((mapped.worker.element as { spec?: string }).spec, `root@${address}`);
      assert.strictEqual(mapped.rows[0].item.description, `root@${address} (from kubelet.cluster.sshTarget)`);
      // The template's target is a node like any other: its kubelet unit is read over that login.
      assert.ok(
        mapped.rows.some((r) => treeLabel(r.item) === 'kubelet.service'),
        `the kubelet unit under the template's target: ${JSON.stringify(mapped.rows.map((r) => treeLabel(r.item)))}`,
      );
    } finally {
      await settings.update('ssh.configFile', undefined, vscode.ConfigurationTarget.Global);
      await settings.update('cluster.sshTarget', undefined, vscode.ConfigurationTarget.Global);
      rmSync(empty, { force: true });
    }
  });
});
