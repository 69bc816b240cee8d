// The systemd-unit language in a real VS Code: drop-ins and units get the language and its comment
// rules, and the grammar VS Code loads from the installed extension colours kubeadm's drop-in.
// (The web workbench has no command that returns its tokens, so the grammar that VS Code was
// given is tokenized here with VS Code's own TextMate engine.)
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './testNodeAccess';

describe('systemd-unit language', () => {
  const repo = path.resolve(__dirname, '..', '..', '..');
  const dropIn = vscode.Uri.file(path.join(repo, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'));

  it("is the language of a *.conf inside a unit's .d folder", async () => {
    const doc = await vscode.workspace.openTextDocument(dropIn);
    assert.strictEqual(doc.languageId, 'systemd-unit');
  });

  it('comments lines with # through its language configuration', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'systemd-unit', content: 'Restart=always\n' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await vscode.commands.executeCommand('editor.action.commentLine');
    assert.strictEqual(doc.lineAt(0).text, '# Restart=always');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('colours sections, directives, variables and prefixes with the grammar VS Code registered', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed = (ext.packageJSON.contributes.grammars as { language: string; scopeName: string; path: string }[]).find(
      (g) => g.language === 'systemd-unit',
    );
    assert.ok(contributed, 'a grammar is contributed for systemd-unit');
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (s) => new oniguruma.OnigScanner(s),
        createOnigString: (s) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scope) =>
        scope === contributed.scopeName
          ? textmate.parseRawGrammar(readFileSync(path.join(ext.extensionPath, contributed.path), 'utf8'), contributed.path)
          : null,
    });
    const grammar = (await registry.loadGrammar(contributed.scopeName))!;
    const doc = await vscode.workspace.openTextDocument(dropIn);
    let state = textmate.INITIAL;
    const tokens: { text: string; scopes: string }[] = [];
    for (let i = 0; i < doc.lineCount; i++) {
      const line = doc.lineAt(i).text;
      const r = grammar.tokenizeLine(line, state);
      state = r.ruleStack;
      tokens.push(...r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes.join(' ') })));
    }
    const scopeOf = (text: string) => tokens.find((t) => t.text === text)?.scopes ?? '';
    assert.match(scopeOf('Service'), /entity\.name\.section\.systemd/);
    assert.match(scopeOf('EnvironmentFile'), /keyword\.other\.directive\.systemd/);
    assert.match(scopeOf('KUBELET_EXTRA_ARGS'), /variable\.other\.name\.systemd/);
    assert.match(scopeOf('-'), /keyword\.operator\.exec-prefix\.systemd/);
  });
});
