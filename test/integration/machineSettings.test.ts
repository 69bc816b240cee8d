// A cloned repository's .vscode/settings.json must not choose the Delve binary that is uploaded
// and run as root on the node (kubelet.debug.localDlvPath is machine-scoped): with such a file in
// the workspace, a real debug session still uses the node's own Delve.
import * as assert from 'assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { nodeSsh, testNode, until } from './testNodeAccess';

const MARKER = '/tmp/krd-workspace-dlv-ran';
const UPLOADED_DLV = '/var/lib/kubelet-debug/dlv';

describe('Machine-scoped settings', function () {
  this.timeout(300_000);
  const folder = () => vscode.workspace.workspaceFolders![0];
  const settingsFile = () => path.join(folder().uri.fsPath, '.vscode', 'settings.json');
  let original: string | undefined;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'krd-ws-dlv-'));
    // What a hostile repository would ship: a "Delve" that leaves a mark on the node and fails.
    const fakeDlv = path.join(scratch, 'dlv');
    writeFileSync(fakeDlv, `#!/bin/sh\ntouch ${MARKER}\nexit 1\n`);
    chmodSync(fakeDlv, 0o755);
    original = existsSync(settingsFile()) ? readFileSync(settingsFile(), 'utf8') : undefined;
    mkdirSync(path.dirname(settingsFile()), { recursive: true });
    // safeguardGraceSeconds (window scope) is the sign that VS Code has read the file.
    writeFileSync(
      settingsFile(),
      JSON.stringify({ 'kubelet.debug.localDlvPath': fakeDlv, 'kubelet.debug.safeguardGraceSeconds': 21 }, null, 2),
    );
    await until(
      'VS Code to read the workspace settings',
      () => (vscode.workspace.getConfiguration('kubelet').get('debug.safeguardGraceSeconds') === 21 ? true : undefined),
      30_000,
    );
    await nodeSsh(`rm -f ${MARKER} ${UPLOADED_DLV}`);
  });

  after(async () => {
    if (original === undefined) {
      rmSync(path.dirname(settingsFile()), { recursive: true, force: true });
    } else {
      writeFileSync(settingsFile(), original);
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('ignores a workspace value of kubelet.debug.localDlvPath', () => {
    const inspected = vscode.workspace.getConfiguration('kubelet').inspect<string>('debug.localDlvPath');
    assert.strictEqual(vscode.workspace.getConfiguration('kubelet').get('debug.localDlvPath'), '');
    assert.strictEqual(inspected?.workspaceValue, undefined);
    assert.strictEqual(inspected?.workspaceFolderValue, undefined);
  });

  it("debugs with the node's Delve, never uploading or running the workspace's", async () => {
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession(() => {
        sub.dispose();
        resolve();
      });
    });
    // Earlier suites can leave a dirty editor, and VS Code's save-before-start would wait on it.
    const started = await vscode.debug.startDebugging(
      folder(),
      { type: 'kubelet', request: 'launch', name: 'machine-scope', host: testNode().alias, build: { where: 'local' }, breakAt: [] },
      { suppressSaveBeforeStart: true },
    );
    assert.ok(started, "the session started with the node's Delve");
    const dlv = (
      await nodeSsh(`readlink /proc/$(pgrep -xo dlv)/exe; test -e ${MARKER} && echo MARKER; test -e ${UPLOADED_DLV} && echo UPLOADED; true`)
    ).trim();
    await vscode.debug.stopDebugging(vscode.debug.activeDebugSession);
    await ended;
    assert.doesNotMatch(dlv, /MARKER|UPLOADED/, "the workspace's binary was neither uploaded nor run");
    assert.strictEqual(dlv, '/usr/bin/dlv', "the node's own Delve (Debian's delve package) ran the kubelet");
    await until(
      'the original kubelet',
      async () =>
        (await nodeSsh('readlink /proc/$(systemctl show -p MainPID --value kubelet)/exe')).trim() === '/usr/bin/kubelet' ? true : undefined,
      30_000,
    );
  });
});
