// The openssh transport in a real VS Code, from the bundle: with kubelet.ssh.transport "openssh" the
// extension holds an OpenSSH master for the node, and node files are stat'ed and read through ssh2's
// SFTP client over `ssh -s sftp` (dist/ssh2.js carries it) and saved through the master.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as vscode from 'vscode';
import { nodeSsh, testNode, until } from './testNodeAccess';

/** The extension's OpenSSH masters for this alias, from the local process list. */
function mastersFor(alias: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => /\bssh\b.* -M -S \S*krd-ssh-\S*\/c /.test(line) && line.trim().endsWith(`-- ${alias}`));
}

describe('The openssh transport (real VS Code, real node)', function () {
  this.timeout(120_000);
  const settings = () => vscode.workspace.getConfiguration('kubelet');

  before(async () => {
    await settings().update('ssh.transport', 'openssh', vscode.ConfigurationTarget.Global);
    // The setting applies to the next connection.
    await vscode.commands.executeCommand('kubelet.disconnectNode', testNode().alias);
  });

  after(async () => {
    await vscode.commands.executeCommand('kubelet.disconnectNode', testNode().alias);
    await settings().update('ssh.transport', undefined, vscode.ConfigurationTarget.Global);
  });

  it('stats, reads and saves a node file through the OpenSSH master, and Disconnect ends it', async () => {
    const alias = testNode().alias;
    const file = '/etc/krd-integration-openssh.conf';
    await nodeSsh(`printf 'before\\n' > ${file}`);
    try {
      const uri = vscode.Uri.from({ scheme: 'kubelet-node', authority: alias, path: file });
      assert.strictEqual((await vscode.workspace.fs.stat(uri)).size, 'before\n'.length);
      assert.strictEqual(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'), 'before\n');
      await vscode.workspace.fs.writeFile(uri, Buffer.from('after\n'));
      assert.strictEqual(await nodeSsh(`cat ${file}`), 'after\n');
      assert.strictEqual(mastersFor(alias).length, 1, `one OpenSSH master for ${alias}`);
      await vscode.commands.executeCommand('kubelet.disconnectNode', alias);
      await until('the master to end', () => (mastersFor(alias).length === 0 ? true : undefined), 10_000);
    } finally {
      await nodeSsh(`rm -f ${file}`);
    }
  });
});
