// Restricted Mode in a real VS Code with workspace trust on, on a folder nobody trusted whose
// .vscode/settings.json tries to choose the nodes, the unit and a Delve binary: the Nodes view still
// reads the node, the systemd-unit language works, and nothing changes the node.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { nodeFileUri } from '../../../src/files/nodeUri';
import { extensionApi, nodeSsh, testNode, treeChildren, treeLabel } from '../testNodeAccess';

const kubeletState = async () =>
  (await nodeSsh('echo "$(systemctl show -p MainPID --value kubelet) $(ls /run/systemd/system/kubelet.service.d 2>/dev/null)"')).trim();

describe('Restricted Mode (workspace trust on, untrusted folder)', function () {
  this.timeout(120_000);

  it('runs in an untrusted workspace, with the extension active', async () => {
    assert.strictEqual(vscode.workspace.isTrusted, false, 'the window is in Restricted Mode');
    await extensionApi();
  });

  it('ignores the workspace values of restricted and machine settings', () => {
    const settings = vscode.workspace.getConfiguration('kubelet');
    assert.deepStrictEqual(settings.get('nodes'), []);
    assert.strictEqual(settings.get('unit'), 'kubelet.service');
    assert.deepStrictEqual(settings.get('debug.skipVersionSkewWarning'), []);
    assert.strictEqual(settings.get('debug.localDlvPath'), '');
  });

  it('shows the node and its kubelet unit, read-only', async () => {
    const { nodesTree } = await extensionApi();
    const roots = await treeChildren(nodesTree);
    const node = testNode() as ReturnType<typeof testNode> & { second?: { alias: string } };
    const sshConfigHosts = [node.alias, ...(node.second ? [node.second.alias] : [])];
    assert.deepStrictEqual(
      roots.map((r) => treeLabel(r.item)),
      sshConfigHosts,
      "only the ~/.ssh/config nodes, not the workspace's",
    );
    const [unit] = await treeChildren(nodesTree, roots[0].element);
    assert.strictEqual(treeLabel(unit.item), 'kubelet.service');
    const details = new Map((await treeChildren(nodesTree, unit.element)).map((d) => [treeLabel(d.item), d.item]));
    assert.strictEqual(details.get('Version')?.description, (await nodeSsh('/usr/bin/kubelet --version')).trim());
    assert.ok(details.has('10-kubeadm.conf'), [...details.keys()].join(', '));
  });

  it('keeps the systemd-unit language: a local drop-in gets its language and hovers', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const dropIn = vscode.Uri.joinPath(folder, 'kubelet.service.d', '10-kubeadm.conf');
    const doc = await vscode.workspace.openTextDocument(dropIn);
    assert.strictEqual(doc.languageId, 'systemd-unit');
    const line = doc
      .getText()
      .split('\n')
      .findIndex((l) => l.startsWith('EnvironmentFile'));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      dropIn,
      new vscode.Position(line, 2),
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /^\*\*EnvironmentFile\*\* — \[Service\]/);
  });

  it('opens node files but does not save them', async () => {
    const file = '/root/krd-restricted.txt';
    await nodeSsh(`printf 'original\\n' > ${file}`);
    const uri = nodeFileUri(testNode().alias, file);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      assert.strictEqual(doc.getText(), 'original\n', 'reading works');
      await assert.rejects(
        Promise.resolve(vscode.workspace.fs.writeFile(uri, Buffer.from('changed\n'))),
        /read-?only|KRD1701|NoPermissions/i,
      );
      await assert.rejects(Promise.resolve(vscode.workspace.fs.delete(uri)), /read-?only|KRD1701|NoPermissions/i);
      assert.strictEqual(await nodeSsh(`cat ${file}`), 'original\n');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await nodeSsh(`rm -f ${file}`);
    }
  });

  it('refuses to debug, restart or reload the node, and the node is unchanged', async () => {
    const before = await kubeletState();
    const node = { kind: 'unit', spec: testNode().alias };
    assert.strictEqual(await vscode.commands.executeCommand('kubelet.debugOnNode', testNode().alias), false);
    assert.strictEqual(await vscode.commands.executeCommand('kubelet.restartUnit', node), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('kubelet.daemonReload', node), undefined);
    assert.strictEqual(await vscode.commands.executeCommand('kubelet.newDropIn', node), undefined);
    assert.strictEqual(await kubeletState(), before, 'same kubelet PID, no debug drop-in');
    assert.strictEqual(vscode.debug.activeDebugSession, undefined);
  });
});
