// Inside the extension host: the test node that runWithNode.mjs booted, and OpenSSH access to it for
// checks that must not go through the code under test.
import { execFile } from 'child_process';
import { readFileSync } from 'fs';
import * as vscode from 'vscode';

export interface IntegrationNode {
  alias: string;
  address: string;
  sshConfigPath: string;
  /** The client key every user of the node takes. */
  keyPath: string;
  sshHosts: { root: string };
  /** The second node, booted by runWithNode.mjs for the two-node suite. */
  second?: IntegrationNode;
}

export function testNode(): IntegrationNode {
  const file = process.env.KRD_TEST_NODE_JSON;
  if (!file) {
    throw new Error('KRD_TEST_NODE_JSON is not set; run the suite through test/integration/runWithNode.mjs.');
  }
  return JSON.parse(readFileSync(file, 'utf8')) as IntegrationNode;
}

export function nodeSsh(command: string, node: IntegrationNode = testNode()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ssh', ['-F', node.sshConfigPath, node.sshHosts.root, command], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

export const EXTENSION_ID = 'kubelet-remote-debug.kubelet-remote-debug';

export interface ExtensionApiForTests {
  nodesTree: vscode.TreeDataProvider<unknown>;
  leftoverCordonsChecked(): Promise<void>;
}

export async function extensionApi(): Promise<ExtensionApiForTests> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) {
    throw new Error(`${EXTENSION_ID} is not installed in this host.`);
  }
  return (await ext.activate()) as ExtensionApiForTests;
}

import { until } from '../support/until';

export { until };

/** Waits until the node runs its own kubelet again, with nothing of a debug session left. */
export async function untilOriginalKubelet(timeoutMs = 30_000): Promise<void> {
  await until(
    'the original kubelet',
    async () => {
      const out = (
        await nodeSsh(
          'pid=$(systemctl show -p MainPID --value kubelet); echo "$(systemctl is-active kubelet) $(readlink /proc/$pid/exe) $(ls /run/systemd/system/kubelet.service.d 2>/dev/null) $(pgrep -x dlv)"',
        )
      ).trim();
      return out === 'active /usr/bin/kubelet' ? out : undefined;
    },
    timeoutMs,
  );
}

/** A tree's children with their TreeItems, as the view would render them. */
export async function treeChildren(
  tree: vscode.TreeDataProvider<unknown>,
  parent?: unknown,
): Promise<{ element: unknown; item: vscode.TreeItem }[]> {
  const children = ((await tree.getChildren(parent)) ?? []) as unknown[];
  return Promise.all(children.map(async (element) => ({ element, item: await tree.getTreeItem(element) })));
}

export function treeLabel(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** What kubelet debug sessions send VS Code, gathered for assertions: stops, the debuggee's output, the session's end. */
export function watchKubeletSessions(): { stops: { threadId: number }[]; debuggeeOutput(): string; ended: Promise<void>; dispose(): void } {
  const stops: { threadId: number }[] = [];
  let output = '';
  const tracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
    createDebugAdapterTracker: () => ({
      onDidSendMessage: (m: { type: string; event?: string; body?: { threadId: number; category?: string; output?: string } }) => {
        if (m.type === 'event' && m.event === 'stopped' && m.body) {
          stops.push(m.body);
        }
        if (m.type === 'event' && m.event === 'output' && m.body?.category === 'stdout') {
          output += m.body.output ?? '';
        }
      },
    }),
  });
  let endSub: vscode.Disposable | undefined;
  const ended = new Promise<void>((resolve) => {
    endSub = vscode.debug.onDidTerminateDebugSession(() => {
      endSub?.dispose();
      resolve();
    });
  });
  return { stops, debuggeeOutput: () => output, ended, dispose: () => (tracker.dispose(), endSub?.dispose()) };
}
