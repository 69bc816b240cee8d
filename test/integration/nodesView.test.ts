// The Nodes view against the real test node: nodes from ~/.ssh/config, the kubelet unit with its
// state, version, unit file and kubeadm's drop-in, and the drop-in opened as a systemd-unit editor.
import * as assert from 'assert';
import { readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { shellQuote } from '../../src/ssh/shellQuote';
import { extensionApi, nodeSsh, testNode, treeChildren, treeLabel } from './testNodeAccess';

describe('Nodes view', function () {
  this.timeout(120_000);

  it('lists the node from ~/.ssh/config and shows its kubelet unit as systemd sees it', async () => {
    const { nodesTree } = await extensionApi();
    const node = testNode();
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const roots = await treeChildren(nodesTree);
    const entry = roots.find((r) => treeLabel(r.item) === node.alias);
    assert.ok(entry, `the node is listed: ${roots.map((r) => treeLabel(r.item)).join(', ')}`);

    const [unit] = await treeChildren(nodesTree, entry.element);
    assert.strictEqual(treeLabel(unit.item), 'kubelet.service', String(unit.item.tooltip ?? ''));
    const pid = (await nodeSsh('systemctl show -p MainPID --value kubelet')).trim();
    assert.strictEqual(unit.item.description, `active (running) · PID ${pid}`);

    const details = await treeChildren(nodesTree, unit.element);
    const byLabel = new Map(details.map((d) => [treeLabel(d.item), d.item]));
    const version = (await nodeSsh('/usr/bin/kubelet --version')).trim();
    assert.strictEqual(byLabel.get('Version')?.description, version);
    assert.ok(byLabel.has('kubelet.service'), 'the unit file is listed');
    const dropIn = byLabel.get('10-kubeadm.conf');
    assert.ok(dropIn, `kubeadm's drop-in is listed: ${[...byLabel.keys()].join(', ')}`);
    assert.match(String(dropIn.description), /^drop-in 1 · /);
    assert.ok(byLabel.has('kubeadm-flags.env'), 'environment files are listed');
    assert.match(String(byLabel.get('ExecStart')?.description), /^\/usr\/bin\/kubelet \$KUBELET_KUBECONFIG_ARGS/);
    // The command line worked out from the unit files is the one the running kubelet got.
    const running = (await nodeSsh(`tr '\\0' ' ' < /proc/${pid}/cmdline`)).trim();
    assert.strictEqual(byLabel.get('Command line')?.description, running);
    assert.ok(!byLabel.has('Restart to apply'), 'the running kubelet matches its unit files');

    // Opening it goes through the node file system, and VS Code treats it as a systemd unit.
    const uri = dropIn.resourceUri!;
    await vscode.commands.executeCommand(dropIn.command!.command, ...(dropIn.command!.arguments ?? []));
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    assert.ok(doc, `${uri.toString()} is open`);
    assert.strictEqual(doc.languageId, 'systemd-unit');
    assert.strictEqual(doc.getText(), await nodeSsh(`cat ${uri.path}`));
  });

  /** The kubelet unit's rows after a fresh read of the node, by label (several rows may share one). */
  async function unitRows(): Promise<{ label: string; item: vscode.TreeItem }[]> {
    const { nodesTree } = await extensionApi();
    await vscode.commands.executeCommand('kubelet.refreshNodes');
    const entry = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === testNode().alias);
    assert.ok(entry, 'the node is listed');
    const [unit] = await treeChildren(nodesTree, entry.element);
    return (await treeChildren(nodesTree, unit.element)).map((d) => ({ label: treeLabel(d.item), item: d.item }));
  }

  it('shows, as systemd decides, an environment file it cannot load: skipped when optional, the unit unable to start when required', async () => {
    // Bytes that are not UTF-8 (0xff); systemd 252 refuses such a file, whatever the rest says.
    const badValue = 'printf "KUBELET_EXTRA_ARGS=--v=2\\nBROKEN=caf\\377\\n"';
    await nodeSsh(`cp -p /etc/default/kubelet /run/krd-default-kubelet.orig && ${badValue} > /etc/default/kubelet`);
    try {
      const rows = await unitRows();
      const ignored = rows.find((r) => r.label === 'Ignored by systemd');
      assert.ok(ignored, `a visible row says systemd skips the file: ${rows.map((r) => r.label).join(', ')}`);
      assert.strictEqual(ignored.item.description, '/etc/default/kubelet: line 2: the value of "BROKEN" is not valid UTF-8');
      // Skipped whole: its valid KUBELET_EXTRA_ARGS=--v=2 is gone from the command line too.
      assert.doesNotMatch(String(rows.find((r) => r.label === 'Command line')?.item.description), /--v=2/);
      assert.ok(!rows.some((r) => r.label === 'Cannot start'));

      const dropIn = '/etc/systemd/system/kubelet.service.d/90-krd-required-env.conf';
      await nodeSsh(
        `printf '[Service]\\nEnvironmentFile=/run/krd-required.env\\n' > ${dropIn} && ${badValue} > /run/krd-required.env && systemctl daemon-reload`,
      );
      try {
        const refused = await unitRows();
        const cannot = refused.find((r) => r.label === 'Cannot start');
        assert.ok(cannot, `a visible row says the unit cannot start: ${refused.map((r) => r.label).join(', ')}`);
        assert.strictEqual(
          cannot.item.description,
          'systemd would refuse to start kubelet.service ("Invalid argument"): /run/krd-required.env line 2: the value of "BROKEN" is not valid UTF-8. Fix that line, then restart.',
        );
        assert.ok(!refused.some((r) => r.label === 'Command line'), 'no command line is shown for a unit that cannot start');
      } finally {
        await nodeSsh(`rm -f ${dropIn} /run/krd-required.env && systemctl daemon-reload`);
      }
    } finally {
      await nodeSsh('mv /run/krd-default-kubelet.orig /etc/default/kubelet');
    }
    const rows = await unitRows();
    assert.ok(!rows.some((r) => r.label === 'Ignored by systemd' || r.label === 'Cannot start'), 'all clear again');
  });

  it('shows ExecStart as written, with its "-" prefix and quotes, and where it is written', async () => {
    const dropIn = '/etc/systemd/system/kubelet.service.d/95-krd-as-written.conf';
    const written = `-/usr/bin/kubelet "--node-labels=a=b c" '--v=3' $KUBELET_EXTRA_ARGS`;
    await nodeSsh(`printf '%s\\n' '[Service]' 'ExecStart=' ${shellQuote(`ExecStart=${written}`)} > ${dropIn} && systemctl daemon-reload`);
    try {
      const exec = (await unitRows()).find((r) => r.label === 'ExecStart');
      assert.ok(exec, 'the ExecStart row is shown');
      assert.strictEqual(exec.item.description, written);
      assert.match(String(exec.item.tooltip), new RegExp(`As written at ${dropIn.replace(/\./g, '\\.')}:3`));
    } finally {
      await nodeSsh(`rm -f ${dropIn} && systemctl daemon-reload`);
    }
  });

  it("shows, as a visible row with the fix, that the login user's sudo wants a password", async () => {
    const node = testNode() as ReturnType<typeof testNode> & { address: string; port: number; keyPath: string };
    const config = path.join(os.homedir(), '.ssh', 'config');
    const original = readFileSync(config, 'utf8');
    const alias = `${node.alias}-needpw`;
    writeFileSync(
      config,
      `${original}\nHost ${alias}\n  HostName ${node.address}\n  Port ${node.port}\n  User needpw\n  IdentityFile ${node.keyPath}\n  IdentitiesOnly yes\n`,
    );
    try {
      const { nodesTree } = await extensionApi();
      await vscode.commands.executeCommand('kubelet.refreshNodes');
      const entry = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === alias);
      assert.ok(entry, `${alias} is listed`);
      const [unit] = await treeChildren(nodesTree, entry.element);
      const rows = await treeChildren(nodesTree, unit.element);
      const sudo = rows.find((r) => treeLabel(r.item) === 'sudo needs a password');
      assert.ok(sudo, `a visible row names the problem: ${rows.map((r) => treeLabel(r.item)).join(', ')}`);
      assert.strictEqual(
        sudo.item.description,
        'add "needpw ALL=(ALL) NOPASSWD: ALL" to a file in /etc/sudoers.d/ on the node, or log in as root',
      );
      assert.match(String(sudo.item.tooltip), /sudo on .* wants a password for needpw.*\[KRD1101\]/s);
      assert.strictEqual(sudo.item.command?.command, 'kubelet.openSshConfig');
      assert.ok(!rows.some((r) => treeLabel(r.item) === 'Command line'), 'no "cannot be worked out" row hiding the reason in a tooltip');
    } finally {
      writeFileSync(config, original);
      await vscode.commands.executeCommand('kubelet.refreshNodes');
    }
  });

  it('names the variable and argument the running kubelet lacks after an environment file changed', async () => {
    await nodeSsh(
      'cp -p /etc/default/kubelet /run/krd-default-kubelet.orig && printf "KUBELET_EXTRA_ARGS=--v=3\\nKRD_ENV_ONLY=1\\n" > /etc/default/kubelet',
    );
    try {
      const restart = (await unitRows()).find((r) => r.label === 'Restart to apply');
      assert.ok(restart, 'the view says the kubelet runs older settings');
      assert.match(String(restart.item.description), /^argument \d+ is "--v=3" in the unit files but "--v=2" in the running process$/);
      assert.match(String(restart.item.tooltip), /KRD_ENV_ONLY is set in the unit files \(KRD_ENV_ONLY=1\) but not in the running process/);
      assert.match(String(restart.item.tooltip), /KUBELET_EXTRA_ARGS is "--v=3" in the unit files but "--v=2" in the running process/);

      // A variable no argument uses is found through /proc/PID/environ alone.
      await nodeSsh('printf "KUBELET_EXTRA_ARGS=--v=2\\nKRD_ENV_ONLY=1\\n" > /etc/default/kubelet');
      const envOnly = (await unitRows()).find((r) => r.label === 'Restart to apply');
      assert.strictEqual(
        envOnly?.item.description,
        'KRD_ENV_ONLY is set in the unit files (KRD_ENV_ONLY=1) but not in the running process',
      );
    } finally {
      await nodeSsh('mv /run/krd-default-kubelet.orig /etc/default/kubelet');
    }
    assert.ok(!(await unitRows()).some((r) => r.label === 'Restart to apply'), 'all clear again');
  });

  it('offers Daemon Reload, not Restart, while systemd has not read an edited unit file', async () => {
    const dropIn = '/etc/systemd/system/kubelet.service.d/50-krd-reload.conf';
    await nodeSsh(`printf '[Service]\\nEnvironment=KRD_RELOADED=1\\n' > ${dropIn}`);
    try {
      assert.strictEqual((await nodeSsh('systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'yes');
      const rows = await unitRows();
      const reload = rows.find((r) => r.label === 'Reload to apply');
      assert.ok(reload, `a Reload row: ${rows.map((r) => r.label).join(', ')}`);
      assert.match(String(reload.item.description), /^unit files changed on disk: Daemon Reload, then Restart/);
      assert.ok(!rows.some((r) => r.label === 'Restart to apply'), 'a restart alone would not apply it, so it is not offered');
      assert.strictEqual(reload.item.command?.command, 'kubelet.daemonReload');

      // The row's own command reloads systemd; then the restart is what is left, naming the variable.
      await vscode.commands.executeCommand(reload.item.command.command, ...(reload.item.command.arguments ?? []));
      assert.strictEqual((await nodeSsh('systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'no');
      const after = await unitRows();
      assert.ok(!after.some((r) => r.label === 'Reload to apply'));
      assert.match(
        String(after.find((r) => r.label === 'Restart to apply')?.item.tooltip),
        /KRD_RELOADED is set in the unit files \(KRD_RELOADED=1\) but not in the running process/,
      );
    } finally {
      await nodeSsh(`rm -f ${dropIn} && systemctl daemon-reload`);
    }
    assert.ok(!(await unitRows()).some((r) => r.label === 'Restart to apply' || r.label === 'Reload to apply'), 'all clear again');
  });

  it('shows why a node cannot be reached instead of failing silently', async () => {
    const { nodesTree } = await extensionApi();
    await vscode.workspace.getConfiguration('kubelet').update('nodes', ['root@127.0.0.1:9'], vscode.ConfigurationTarget.Global);
    try {
      const roots = await treeChildren(nodesTree);
      const entry = roots.find((r) => treeLabel(r.item) === 'root@127.0.0.1:9');
      assert.ok(entry);
      const [error] = await treeChildren(nodesTree, entry.element);
      assert.match(treeLabel(error.item), /Could not reach root@127\.0\.0\.1:9: connection refused.*\[KRD1001\]/);
    } finally {
      await vscode.workspace.getConfiguration('kubelet').update('nodes', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
