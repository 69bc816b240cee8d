// Proves the integration harness itself: the tests run in a real VS Code extension host, on the
// folder the runner passed, with the runner's environment and the extension under development.
import * as assert from 'assert';
import * as os from 'os';
import * as vscode from 'vscode';

describe('integration harness', () => {
  it('runs inside a real VS Code extension host', () => {
    assert.match(vscode.version, /^1\.\d+\.\d+/);
    assert.strictEqual(typeof vscode.commands.executeCommand, 'function');
  });

  it('opened the workspace folder that the runner passed', () => {
    const expected = process.env.KRD_TEST_WORKSPACE;
    assert.ok(expected, 'the runner sets KRD_TEST_WORKSPACE');
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.strictEqual(folders.length, 1, `workspace folders: ${folders.map((f) => f.uri.toString()).join(', ')}`);
    // uri.path is the absolute path both on desktop (file:) and in the VS Code server (vscode-remote:).
    assert.strictEqual(folders[0].uri.path, expected);
  });

  it("inherits the runner's HOME and KRD_* variables", () => {
    const expected = process.env.KRD_TEST_RUNNER_HOME;
    assert.ok(expected, 'the runner sets KRD_TEST_RUNNER_HOME');
    assert.strictEqual(process.env.HOME, expected);
    assert.strictEqual(os.homedir(), expected);
  });

  it('loaded the extension under development', () => {
    const ext = vscode.extensions.getExtension('kubelet-remote-debug.kubelet-remote-debug');
    assert.ok(ext, 'extension kubelet-remote-debug.kubelet-remote-debug is not registered');
  });
});
