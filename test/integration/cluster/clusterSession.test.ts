// A debug session on a cluster node, in real VS Code against the real control plane: the node is
// cordoned (kubelet.cluster.cordon: always), the kubelet halts in syncLoop past the grace period, the
// status bar shows the API's NotReady and lease age, the Nodes view marks the node NotReady and
// cordoned by us; ending the session uncordons it (the Debug Console's report says so), then waits
// for Ready, and a notification says how long the node was NotReady.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { notifications, statusBarEntries } from '../uiProbe';
import { clusterInfo, kubectl, unschedulable } from '../clusterAccess';
import { extensionApi, testNode, treeChildren, treeLabel, until, untilOriginalKubelet } from '../testNodeAccess';

describe('Debug session on a cluster node (real VS Code, real control plane)', function () {
  this.timeout(600_000);

  it('cordons while halted, shows the real NotReady clock, and after the restore uncordons and reports the NotReady time', async () => {
    const { workerName, contextName, debugKubelet } = clusterInfo();
    const settings = vscode.workspace.getConfiguration('kubelet');
    await settings.update('cluster.cordon', 'always', vscode.ConfigurationTarget.Global);
    const consoleText: string[] = [];
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type: string; event?: string; body?: { category?: string; output?: string } }) => {
          if (m.type === 'event' && m.event === 'output' && m.body?.category !== 'stdout') {
            consoleText.push(m.body?.output ?? '');
          }
        },
      }),
    });
    const stops: unknown[] = [];
    const stopTracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type: string; event?: string }) => void (m.type === 'event' && m.event === 'stopped' && stops.push(m)),
      }),
    });
    let ended: Promise<void> | undefined;
    const shown: string[] = [];
    let watching = false;
    try {
      assert.strictEqual(await unschedulable(), false, 'not cordoned before the session');
      const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
        type: 'kubelet',
        request: 'launch',
        name: 'cluster node',
        host: testNode().alias,
        build: { where: 'none', binary: debugKubelet },
        breakAt: ['syncLoop'],
      });
      assert.strictEqual(started, true, 'the session started');
      const session = vscode.debug.activeDebugSession!;
      ended = new Promise((resolve) => {
        const sub = vscode.debug.onDidTerminateDebugSession((s) => s.id === session.id && (sub.dispose(), resolve()));
      });
      assert.strictEqual(await unschedulable(), true, 'spec.unschedulable is true while debugging');
      await until('the stop in syncLoop', () => stops[0], 180_000);

      // The controller-manager's grace (20 s in the test cluster) passes while the kubelet is halted.
      let seen = '';
      const halted = await until(
        'the status bar shows the API saying the node is not Ready',
        async () => {
          const entry = (await statusBarEntries()).find((e) => e.visible && e.text.includes(`kubelet on ${testNode().alias} halted`));
          seen = entry ? entry.text : 'no halt entry';
          return entry && /· (NotReady|Ready unknown) since \d+ s · lease \d+ s old/.test(entry.text) ? entry : undefined;
        },
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message} The status bar showed: ${seen}`);
      });
      assert.match(halted.text, new RegExp(`kubelet on ${testNode().alias} halted \\d+ s · `));

      const { nodesTree } = await extensionApi();
      await vscode.commands.executeCommand('kubelet.refreshNodes');
      const context = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === contextName);
      assert.ok(context, 'the context is listed');
      const worker = (await treeChildren(nodesTree, context.element)).find((r) => treeLabel(r.item) === workerName);
      assert.ok(worker, 'the worker is listed');
      assert.match(String(worker.item.description), /^Unknown · v1\.20\.2 · \d+ pods? · cordoned by Kubelet Remote Debug$/);

      // Toasts hide after some seconds: every message shown from the stop on is kept.
      watching = true;
      void (async () => {
        while (watching) {
          for (const n of await notifications().catch((err: Error) => [{ message: `probe failed: ${err.message}` }])) {
            if (!shown.includes(n.message)) shown.push(n.message);
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      await vscode.debug.stopDebugging(session);
      await ended;
      await untilOriginalKubelet(60_000);
      const report = consoleText.join('');
      assert.match(report, /Restored: the unit is active again, PID \d+, running \/\S+\./);
      assert.match(report, new RegExp(`${workerName} is uncordoned\\. Waiting up to 120 s for ${workerName} to be Ready again\\.`));
      // The wait goes on beside the ended session; its outcome is a notification.
      // A toast hides after some seconds; the notification center keeps every message.
      await vscode.commands.executeCommand('notifications.showList');
      const readyAgain = await until(
        'the notification that the node is Ready again',
        () => shown.find((m) => m.includes(`${workerName} is Ready again`)),
        150_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message} Shown: ${JSON.stringify(shown)}`);
      });
      assert.match(
        readyAgain,
        new RegExp(
          `^The kubelet on ${testNode().alias} was restored \\(PID \\d+\\)\\. ${workerName} is Ready again; it was NotReady for \\d+ s\\.$`,
        ),
      );
      assert.strictEqual(await unschedulable(), false, 'spec.unschedulable is false after the restore');
      const ready = await kubectl(['get', 'node', workerName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      assert.strictEqual(ready.trim(), 'True');
    } finally {
      watching = false;
      tracker.dispose();
      stopTracker.dispose();
      if (vscode.debug.activeDebugSession) {
        await vscode.debug.stopDebugging(vscode.debug.activeDebugSession);
        await ended;
      }
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
      await settings.update('cluster.cordon', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
