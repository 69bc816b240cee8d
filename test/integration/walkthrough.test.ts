// The Getting Started walkthrough in a real VS Code: it opens by the extension's id, and each step
// links to a command that exists.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './testNodeAccess';

interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
}

describe('Getting Started walkthrough', () => {
  const walkthroughs = () =>
    vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.walkthroughs as {
      id: string;
      title: string;
      steps: WalkthroughStep[];
    }[];

  it("opens in the workbench by the extension's id", async () => {
    const [walkthrough] = walkthroughs();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${walkthrough.id}`, false);
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab, 'a tab is open');
    console.log(`walkthrough tab: ${tab.label}`);
    assert.match(tab.label, /Welcome|Walkthrough|Debug the kubelet on a node/, `the walkthrough's tab: ${tab.label}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('has the four steps, each with its text and a link to a registered command', async () => {
    const [walkthrough] = walkthroughs();
    assert.deepStrictEqual(
      walkthrough.steps.map((s) => s.id),
      ['addNode', 'openKubernetesTree', 'debugKubelet', 'editDropIn'],
    );
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const step of walkthrough.steps) {
      // The manifest as VS Code loaded it: %keys% replaced by package.nls.json's texts.
      assert.doesNotMatch(step.title, /^%/, `${step.id} has its text`);
      const commands = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
      assert.ok(commands.length > 0, `${step.id} has a command link`);
      for (const command of commands) {
        assert.ok(registered.has(command), `${step.id}: ${command} is registered`);
      }
    }
  });
});
