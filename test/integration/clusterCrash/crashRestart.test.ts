// A crashed VS Code and the node it cordoned, in real VS Code against the real control plane. The
// runner (runWithNode.mjs --cluster) starts VS Code twice with the same browser profile (where the web
// workbench keeps globalState): in the first run a session cordons the worker and the test hands the
// extension host's PID to the runner, which kills it with SIGKILL and ends that run; in the second run
// the extension's activation must undo our cordon, while an admin's own cordon is left alone.
import * as assert from 'assert';
import { renameSync, writeFileSync } from 'fs';
import * as vscode from 'vscode';
import { clusterInfo, kubectl } from '../clusterAccess';
import { EXTENSION_ID, extensionApi, nodeSsh, testNode, treeChildren, treeLabel, until, untilOriginalKubelet } from '../testNodeAccess';

const CORDON_ANNOTATION = 'kubelet-remote-debug/cordoned';
/** The runner's kill ends the first run long before this; reaching it means the runner did not act. */
const KILL_WAIT_MS = 120_000;

interface NodeObject {
  spec?: { unschedulable?: boolean };
  metadata?: { annotations?: Record<string, string> };
}

const workerObject = async (): Promise<NodeObject> => JSON.parse(await kubectl(['get', 'node', clusterInfo().workerName, '-o', 'json'])) as NodeObject;

/** Tells the runner this extension host may be killed now, then waits for the kill (with a limit). */
async function handOverForKill(): Promise<never> {
  const file = process.env.KRD_CRASH_READY_FILE;
  assert.ok(file, 'runWithNode.mjs sets KRD_CRASH_READY_FILE');
  writeFileSync(`${file}.part`, String(process.pid));
  renameSync(`${file}.part`, file);
  await new Promise((resolve) => setTimeout(resolve, KILL_WAIT_MS));
  throw new Error(`The runner did not kill this extension host (PID ${process.pid}) within ${KILL_WAIT_MS / 1000} s of ${file}.`);
}

/** Starts a kubelet session on the worker with cordon "always" and returns once the API shows our cordon. */
async function startCordonedSession(breakAt: string[]): Promise<vscode.DebugSession> {
  const settings = vscode.workspace.getConfiguration('kubelet');
  await settings.update('cluster.cordon', 'always', vscode.ConfigurationTarget.Global);
  // The node-side safeguard then restores the kubelet 5 s after the killed extension host's connection is gone.
  await settings.update('debug.safeguardGraceSeconds', 5, vscode.ConfigurationTarget.Global);
  const before = await workerObject();
  assert.notStrictEqual(before.spec?.unschedulable, true, 'the worker is schedulable before the session');
  const started = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
    type: 'kubelet',
    request: 'launch',
    name: 'crash test',
    host: testNode().alias,
    build: { where: 'none', binary: clusterInfo().debugKubelet },
    breakAt,
  });
  assert.strictEqual(started, true, 'the session started');
  const session = vscode.debug.activeDebugSession;
  assert.ok(session, 'a session is active');
  const during = await workerObject();
  assert.strictEqual(during.spec?.unschedulable, true, 'spec.unschedulable is true while debugging');
  assert.ok(during.metadata?.annotations?.[CORDON_ANNOTATION], `the worker carries ${CORDON_ANNOTATION}`);
  return session;
}

/** The extension activates on its own (the workspace is a kubelet tree); waits for its start-up cordon check. */
async function untilStartupCordonCheck(): Promise<void> {
  assert.ok(vscode.extensions.getExtension(EXTENSION_ID), `${EXTENSION_ID} is installed`);
  const api = await extensionApi();
  let settled = false;
  void api.leftoverCordonsChecked().then(() => (settled = true));
  await until('the start-up check of cordons left by the killed extension host', () => (settled ? true : undefined), 60_000);
}

async function workerRow(): Promise<vscode.TreeItem> {
  const { nodesTree } = await extensionApi();
  const { workerName, contextName } = clusterInfo();
  await vscode.commands.executeCommand('kubelet.refreshNodes');
  const context = (await treeChildren(nodesTree)).find((r) => treeLabel(r.item) === contextName);
  assert.ok(context, `the view lists context ${contextName}`);
  const worker = (await treeChildren(nodesTree, context.element)).find((r) => treeLabel(r.item) === workerName);
  assert.ok(worker, `the view lists ${workerName}`);
  return worker.item;
}

describe('A killed extension host and the node it cordoned (real VS Code, real control plane)', function () {
  this.timeout(KILL_WAIT_MS + 300_000);
  const phase = process.env.KRD_CRASH_PHASE;
  const adminCase = process.env.KRD_CRASH_CASE === 'admin';

  if (phase === 'kill' && !adminCase) {
    it('first run: a session halted in syncLoop cordons the worker; then the extension host is killed', async () => {
      const stops: unknown[] = [];
      const tracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
        createDebugAdapterTracker: () => ({
          onDidSendMessage: (m: { type: string; event?: string }) => void (m.type === 'event' && m.event === 'stopped' && stops.push(m)),
        }),
      });
      try {
        await startCordonedSession(['syncLoop']);
        await until('the stop in syncLoop', () => stops[0], 180_000);
        assert.match(String((await workerRow()).description), /cordoned by Kubelet Remote Debug$/);
      } finally {
        tracker.dispose();
      }
      await handOverForKill();
    });
  } else if (phase === 'kill' && adminCase) {
    it("first run: a session cordons the worker, an admin takes the cordon over (removes our annotation); then the extension host is killed", async () => {
      await startCordonedSession([]);
      await kubectl(['annotate', 'node', clusterInfo().workerName, `${CORDON_ANNOTATION}-`]);
      await handOverForKill();
    });
  } else if (phase === 'restart' && !adminCase) {
    it('next start: activation uncordons the worker and the view no longer marks it; the node-side safeguard restored the kubelet', async () => {
      await untilStartupCordonCheck();
      const node = await workerObject();
      assert.notStrictEqual(node.spec?.unschedulable, true, 'spec.unschedulable is false after the restart');
      assert.strictEqual(node.metadata?.annotations?.[CORDON_ANNOTATION], undefined, 'our annotation is gone');
      assert.doesNotMatch(String((await workerRow()).description), /cordoned/);
      await untilOriginalKubelet(90_000);
      const execStart = await nodeSsh('systemctl show -p ExecStart --value kubelet');
      assert.match(execStart, /path=\/usr\/bin\/kubelet ;/, 'the unit runs its original ExecStart');
      assert.doesNotMatch(execStart, /dlv/);
    });
  } else if (phase === 'restart' && adminCase) {
    it("next start: activation leaves the admin's cordon (no annotation of ours) as it is", async () => {
      await untilStartupCordonCheck();
      const node = await workerObject();
      assert.strictEqual(node.spec?.unschedulable, true, "the admin's cordon stays");
      assert.match(String((await workerRow()).description), /· cordoned$/);
      await untilOriginalKubelet(90_000);
    });
  } else {
    it('runs only through runWithNode.mjs --cluster', () => {
      assert.fail(`KRD_CRASH_PHASE=${phase ?? ''} KRD_CRASH_CASE=${process.env.KRD_CRASH_CASE ?? ''}: the runner sets kill or restart, and ours or admin.`);
    });
  }
});
