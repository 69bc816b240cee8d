// The extension activates in a real VS Code and registers what package.json promises.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { EXTENSION_ID, extensionApi } from './testNodeAccess';

describe('activation and contributions', () => {
  it('activates and returns its API', async () => {
    const api = await extensionApi();
    assert.ok(api.nodesTree, 'the Nodes tree provider is exposed');
    assert.strictEqual(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
  });

  it('registers every contributed command', async () => {
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string }[]).map(
      (c) => c.command,
    );
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const command of [...contributed, 'kubelet.pickNode']) {
      assert.ok(registered.has(command), `${command} is registered`);
    }
    assert.ok(contributed.includes('kubelet.debugOnNode'));
  });

  it('contributes the kubelet debugger with a launch schema', () => {
    const debuggers = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.debuggers as {
      type: string;
      configurationAttributes: { launch: { required: string[]; properties: Record<string, unknown> } };
    }[];
    assert.strictEqual(debuggers[0].type, 'kubelet');
    assert.ok(debuggers[0].configurationAttributes.launch.required.includes('host'), 'host is required');
    for (const key of [
      'host',
      'unit',
      'build',
      'remoteBinary',
      'dlvPath',
      'stopOnEntry',
      'substitutePath',
      'breakAt',
      'env',
      'args',
      'dlvFlags',
      'showLog',
      'logOutput',
      'trace',
      'haltFree',
      'hideSystemGoroutines',
      'goroutineFilters',
      'showGlobalVariables',
      'stackTraceDepth',
      'showRegisters',
    ]) {
      assert.ok(key in debuggers[0].configurationAttributes.launch.properties, `launch.${key} is described`);
    }
  });

  it('shows the Kubelet view container and its Nodes view', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.kubelet');
    await vscode.commands.executeCommand('kubelet.nodes.focus');
  });
});
