// Hover and completion for systemd-unit documents in a real VS Code, through the same commands the
// editor uses: kubeadm's drop-in on disk, untitled units, and the kubelet unit opened from the node.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { nodeFileUri } from '../../src/files/nodeUri';
import { extensionApi, testNode } from './testNodeAccess';

async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position)) ?? [];
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

async function completions(uri: vscode.Uri, position: vscode.Position, trigger?: string): Promise<vscode.CompletionItem[]> {
  const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, position, trigger);
  return list?.items ?? [];
}

const labelOf = (item: vscode.CompletionItem) => (typeof item.label === 'string' ? item.label : item.label.label);
const insertOf = (item: vscode.CompletionItem) =>
  typeof item.insertText === 'string' ? item.insertText : (item.insertText?.value ?? labelOf(item));

/** The position just inside `word` on the first line that starts with it. */
function positionOf(doc: vscode.TextDocument, word: string): vscode.Position {
  for (let i = 0; i < doc.lineCount; i++) {
    const col = doc.lineAt(i).text.indexOf(word);
    if (col >= 0 && doc.lineAt(i).text.trimStart().startsWith(word)) {
      return new vscode.Position(i, col + 1);
    }
  }
  throw new Error(`${word} not found in ${doc.uri.toString()}`);
}

describe('systemd-unit hover and completion', function () {
  this.timeout(60_000);
  const repo = path.resolve(__dirname, '..', '..', '..');
  const dropIn = vscode.Uri.file(path.join(repo, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'));

  before(async () => {
    await extensionApi();
  });

  async function untitled(content: string): Promise<vscode.TextDocument> {
    return vscode.workspace.openTextDocument({ language: 'systemd-unit', content });
  }

  it("describes a directive of kubeadm's drop-in on hover, with its section", async () => {
    const doc = await vscode.workspace.openTextDocument(dropIn);
    assert.strictEqual(doc.languageId, 'systemd-unit');
    const envFile = await hoverText(dropIn, positionOf(doc, 'EnvironmentFile'));
    assert.match(envFile, /^\*\*EnvironmentFile\*\* — \[Service\] .*missing file/);
    assert.match(await hoverText(dropIn, positionOf(doc, 'ExecStart')), /^\*\*ExecStart\*\* — \[Service\] /);
    assert.match(await hoverText(dropIn, positionOf(doc, '[Service]')), /^\*\*\[Service\]\*\* — /);
    assert.strictEqual(await hoverText(dropIn, new vscode.Position(0, 3)), '', 'a comment has no hover');
  });

  it('warns on hover about a directive in the wrong section', async () => {
    const doc = await untitled('[Install]\nRestart=always\n');
    const text = await hoverText(doc.uri, new vscode.Position(1, 2));
    assert.match(text, /^\*\*Restart\*\* — \[Service\] /);
    assert.match(text, /Not valid in \[Install\]/);
    // [Socket] takes ExecStartPre= too; sections we do not describe get no warning.
    const socket = await untitled('[Socket]\nExecStartPre=/bin/true\n');
    const socketText = await hoverText(socket.uri, new vscode.Position(1, 2));
    assert.match(socketText, /^\*\*ExecStartPre\*\*/);
    assert.doesNotMatch(socketText, /Not valid/);
  });

  it('completes directive names valid in the current section, inserting Name=', async () => {
    const doc = await untitled('[Unit]\nDescription=x\n\n[Service]\nRes\n\n[Install]\n\n');
    const inService = await completions(doc.uri, new vscode.Position(4, 3));
    const restart = inService.find((i) => labelOf(i) === 'Restart');
    assert.ok(restart, `Restart is offered: ${inService.map(labelOf).join(', ')}`);
    assert.strictEqual(insertOf(restart), 'Restart=');
    assert.strictEqual(restart.detail, '[Service]');
    assert.ok(!inService.some((i) => labelOf(i) === 'WantedBy'), 'no [Install] directive in [Service]');

    const inInstall = (await completions(doc.uri, new vscode.Position(7, 0))).map(labelOf);
    assert.ok(inInstall.includes('WantedBy') && inInstall.includes('Alias'), inInstall.join(', '));
    assert.ok(!inInstall.includes('ExecStart'), 'no [Service] directive in [Install]');
    const inUnit = (await completions(doc.uri, new vscode.Position(2, 0))).map(labelOf);
    assert.ok(inUnit.includes('After') && !inUnit.includes('Restart'), inUnit.join(', '));
  });

  it('completes section names after [', async () => {
    const doc = await untitled('[Unit]\nDescription=x\n[\n');
    const items = (await completions(doc.uri, new vscode.Position(2, 1), '[')).filter((i) => i.kind === vscode.CompletionItemKind.Module);
    assert.deepStrictEqual(items.map(labelOf).sort(), ['Install', 'Service', 'Unit']);
    assert.strictEqual(insertOf(items.find((i) => labelOf(i) === 'Service')!), 'Service]');
  });

  it('replaces the typed word with Name= when its completion is applied in an editor', async () => {
    const doc = await untitled('[Service]\nRestartS\n');
    const editor = await vscode.window.showTextDocument(doc);
    const item = (await completions(doc.uri, new vscode.Position(1, 8))).find((i) => labelOf(i) === 'RestartSec')!;
    assert.ok(item, 'RestartSec is offered');
    const range = item.range instanceof vscode.Range ? item.range : item.range!.replacing;
    await editor.edit((e) => e.replace(range, insertOf(item)));
    assert.strictEqual(doc.lineAt(1).text, 'RestartSec=');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('works in the kubelet unit opened from the node (kubelet-node:)', async () => {
    const uri = nodeFileUri(testNode().alias, '/lib/systemd/system/kubelet.service');
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.strictEqual(doc.languageId, 'systemd-unit');
    assert.match(await hoverText(uri, positionOf(doc, 'StartLimitInterval')), /^\*\*StartLimitInterval\*\* — \[Unit\], \[Service\] /);
    assert.match(await hoverText(uri, positionOf(doc, 'WantedBy')), /^\*\*WantedBy\*\* — \[Install\] /);
  });
});
