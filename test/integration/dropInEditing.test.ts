// Editing kubeadm's drop-in in a real VS Code: open it from the Nodes view, change it with a
// WorkspaceEdit, save, and the node has the new text and systemd has reloaded it; then put it back.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { extensionApi, nodeSsh, testNode, treeChildren, treeLabel, until } from './testNodeAccess';

describe('Drop-in editing', function () {
  this.timeout(120_000);

  async function unitDetails() {
    const { nodesTree } = await extensionApi();
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const entry = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === testNode().alias);
    assert.ok(entry, 'the node is listed');
    const [unit] = await treeChildren(nodesTree, entry.element);
    assert.strictEqual(unit.item.contextValue, 'unit', 'the unit item carries the unit menus');
    return new Map((await treeChildren(nodesTree, unit.element)).map((d) => [treeLabel(d.item), d.item]));
  }

  it('saves an edit of 10-kubeadm.conf to the node through the tree, and systemd reloads it', async () => {
    const details = await unitDetails();
    assert.match(String(details.get('Client certificate')?.description), /^expires 2035-01-01$/);
    const dropIn = details.get('10-kubeadm.conf');
    assert.ok(dropIn?.resourceUri && dropIn.command, 'the drop-in is listed with its open command');
    assert.strictEqual(dropIn.contextValue, 'file.dropIn');
    const path = dropIn.resourceUri.path;
    const original = await nodeSsh(`cat ${path}`);
    let doc: vscode.TextDocument | undefined;
    try {
      await vscode.commands.executeCommand(dropIn.command.command, ...(dropIn.command.arguments ?? []));
      doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === dropIn.resourceUri!.toString());
      assert.ok(doc, 'the drop-in is open');
      const edit = new vscode.WorkspaceEdit();
      edit.insert(doc.uri, new vscode.Position(doc.lineCount - 1, 0), 'Environment="KRD_INTEGRATION=edited"\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      // The "Restart kubelet.service" offer is a notification nobody answers; the save must not wait for it.
      assert.ok(await doc.save(), 'the save succeeded');
      assert.strictEqual(await nodeSsh(`cat ${path}`), doc.getText());
      assert.match(await nodeSsh(`cat ${path}`), /KRD_INTEGRATION=edited/);
      assert.strictEqual((await nodeSsh('systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'no', 'systemd reloaded it');
      assert.match(await nodeSsh('systemctl show -p Environment --value kubelet'), /KRD_INTEGRATION=edited/);
      // The kubelet still runs with the old settings, and the tree says so until it is restarted.
      await until('the restart-to-apply warning', async () => ((await unitDetails()).has('Restart to apply') ? true : undefined), 20_000);
      const pidBefore = (await nodeSsh('systemctl show -p MainPID --value kubelet')).trim();
      await vscode.commands.executeCommand('kubelet.restartUnit', { kind: 'unit', spec: testNode().alias });
      const pid = (await nodeSsh('systemctl show -p MainPID --value kubelet')).trim();
      assert.notStrictEqual(pid, pidBefore, 'the kubelet was restarted');
      assert.match(
        await nodeSsh(`tr '\\0' '\\n' < /proc/${pid}/environ`),
        /^KRD_INTEGRATION=edited$/m,
        'the new process has the new setting',
      );
      assert.ok(!(await unitDetails()).has('Restart to apply'), 'the warning is gone after the restart');
    } finally {
      // Put it back through the editor too, so the document VS Code keeps matches the node again.
      if (doc) {
        const undo = new vscode.WorkspaceEdit();
        undo.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), original);
        await vscode.workspace.applyEdit(undo);
        await doc.save();
      }
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await nodeSsh(
        `printf %s '${Buffer.from(original).toString('base64')}' | base64 -d > ${path} && systemctl daemon-reload && systemctl restart kubelet`,
      );
    }
    assert.strictEqual(await nodeSsh(`cat ${path}`), original);
  });

  it('refuses to save over a change made on the node after the file was opened, even within the same second', async () => {
    const file = '/root/krd-conflict.txt';
    await nodeSsh(`printf 'first\\n' > ${file}`);
    const uri = vscode.Uri.from({ scheme: 'kubelet-node', authority: testNode().alias, path: file });
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      // Same size and the same mtime, so only the content tells that someone else wrote it.
      await nodeSsh(`cp -p ${file} ${file}.ref && printf 'other\\n' > ${file} && touch -r ${file}.ref ${file} && rm ${file}.ref`);
      const edit = new vscode.WorkspaceEdit();
      edit.insert(uri, new vscode.Position(1, 0), 'mine\n');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.strictEqual(await doc.save(), false, 'the save was refused');
      assert.strictEqual(await nodeSsh(`cat ${file}`), 'other\n', "the node's change was kept");
      await vscode.commands.executeCommand('workbench.action.files.revert');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await nodeSsh(`rm -f ${file}`);
    }
  });

  it('follows the journal in a terminal, and closing the terminal ends journalctl on the node', async () => {
    const journalOnNode = async () => (await nodeSsh('pgrep -ax journalctl || true')).trim();
    await vscode.commands.executeCommand('kubelet.followJournal', { kind: 'unit', spec: testNode().alias });
    const terminal = vscode.window.terminals.find((t) => t.name === `Journal: kubelet.service @ ${testNode().alias}`);
    assert.ok(terminal, `a journal terminal: ${vscode.window.terminals.map((t) => t.name).join(', ')}`);
    await until('journalctl to run on the node', async () => ((await journalOnNode()) ? true : undefined), 20_000);
    terminal.dispose();
    await until('journalctl to end on the node', async () => ((await journalOnNode()) === '' ? true : undefined), 20_000);
  });
});
