// Two nodes at once, in a real VS Code against two real test nodes: a compound launch configuration
// starts a `kubelet` session on each; both stop, each status-bar item counts its own node, the halt
// warning's Continue continues only its own node (even when the other session has focus), and ending
// one session leaves the other halted with its lease still renewed.
import * as assert from 'assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { IntegrationNode, nodeSsh, testNode, until } from './testNodeAccess';
import { clickNotificationButton, notifications, StatusBarEntry, statusBarEntries } from './uiProbe';

const COMPOUND = 'Both test nodes';

interface SessionLog {
  stops: number;
  continueRequests: number;
  continuedEvents: number;
}

/** The halted item of `host`'s session, as the status bar renders it. */
function haltedItem(entries: StatusBarEntry[], host: string): StatusBarEntry[] {
  return entries.filter((e) => e.visible && new RegExp(`kubelet on ${host.replace(/[.-]/g, '\\$&')} halted \\d+ s`).test(e.text));
}

/** Whether Delve's debuggee on the node is halted (its threads in tracing stop) or running. */
async function kubeletUnderDelve(node: IntegrationNode): Promise<'halted' | 'running'> {
  const out = await nodeSsh('for p in $(pgrep -P "$(pgrep -x dlv)"); do grep State: /proc/$p/status; done', node);
  assert.match(out, /State:/, `Delve runs a kubelet on ${node.alias}: ${out}`);
  return /t \(tracing stop\)/.test(out) ? 'halted' : 'running';
}

async function leaseMtime(node: IntegrationNode): Promise<number> {
  return Number((await nodeSsh('stat -c %Y /run/kubelet-remote-debug/kubelet.service/lease', node)).trim());
}

async function nodeRestored(node: IntegrationNode): Promise<void> {
  await until(
    `the original kubelet on ${node.alias}`,
    async () => {
      const out = (
        await nodeSsh(
          'pid=$(systemctl show -p MainPID --value kubelet); echo "$(systemctl is-active kubelet) $(readlink /proc/$pid/exe) $(ls /run/systemd/system/kubelet.service.d 2>/dev/null) $(pgrep -x dlv)"',
          node,
        )
      ).trim();
      return out === 'active /usr/bin/kubelet' ? out : undefined;
    },
    30_000,
  );
}

describe('Two nodes at once (real VS Code, two real nodes)', function () {
  this.timeout(420_000);

  it('a compound configuration debugs two nodes; status items, Continue and the end of a session each stay with their own node', async () => {
    const a = testNode();
    const b = a.second;
    assert.ok(b, 'runWithNode.mjs booted no second node (KRD_SECOND_NODE=0, or KRD_TEST_GREP did not match "Two nodes at once")');
    const folder = vscode.workspace.workspaceFolders![0];

    // The compound lives in launch.json, as a user would write it; put back what was there.
    const launchJson = path.join(folder.uri.fsPath, '.vscode', 'launch.json');
    const hadVscodeDir = existsSync(path.dirname(launchJson));
    const previous = existsSync(launchJson) ? readFileSync(launchJson, 'utf8') : undefined;
    const config = (node: IntegrationNode) => ({
      type: 'kubelet',
      request: 'launch',
      name: `kubelet on ${node.alias}`,
      host: node.alias,
      build: { where: 'local' },
      breakAt: ['syncLoop'],
    });
    const launch = vscode.workspace.getConfiguration('launch', folder.uri);
    await launch.update('configurations', [config(a), config(b)], vscode.ConfigurationTarget.WorkspaceFolder);
    await launch.update(
      'compounds',
      [{ name: COMPOUND, configurations: [config(a).name, config(b).name] }],
      vscode.ConfigurationTarget.WorkspaceFolder,
    );

    const logs = new Map<string, SessionLog>();
    const logOf = (s: vscode.DebugSession) => {
      let l = logs.get(s.id);
      if (!l) {
        logs.set(s.id, (l = { stops: 0, continueRequests: 0, continuedEvents: 0 }));
      }
      return l;
    };
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: (session) => ({
        onWillReceiveMessage: (m: { type: string; command?: string }) => {
          if (m.type === 'request' && m.command === 'continue') {
            logOf(session).continueRequests++;
          }
        },
        onDidSendMessage: (m: { type: string; event?: string }) => {
          if (m.type === 'event' && m.event === 'stopped') {
            logOf(session).stops++;
          }
          if (m.type === 'event' && m.event === 'continued') {
            logOf(session).continuedEvents++;
          }
        },
      }),
    });
    const sessions = new Map<string, vscode.DebugSession>();
    const ended = new Set<string>();
    const subs = [
      vscode.debug.onDidStartDebugSession((s) => s.type === 'kubelet' && sessions.set(s.configuration.host as string, s)),
      vscode.debug.onDidTerminateDebugSession((s) => ended.add(s.id)),
    ];
    try {
      // Only this test's notifications, so the halt warnings are easy to find in the center.
      await vscode.commands.executeCommand('notifications.clearAll');
      assert.ok(await vscode.debug.startDebugging(folder, COMPOUND), 'the compound started');
      const [sa, sb] = await until(
        'both sessions',
        () => (sessions.has(a.alias) && sessions.has(b.alias) ? [sessions.get(a.alias)!, sessions.get(b.alias)!] : undefined),
        180_000,
      );

      // Both stop in syncLoop, each on its own node.
      await until('a stop on both nodes', () => (logOf(sa).stops > 0 && logOf(sb).stops > 0 ? true : undefined), 180_000);
      assert.strictEqual(await kubeletUnderDelve(a), 'halted');
      assert.strictEqual(await kubeletUnderDelve(b), 'halted');

      // Each session has its own status item, named by its node.
      let shown: StatusBarEntry[] = [];
      const items = await until(
        'a halted item per node',
        async () => {
          shown = await statusBarEntries();
          return haltedItem(shown, a.alias).length > 0 && haltedItem(shown, b.alias).length > 0 ? shown : undefined;
        },
        30_000,
      ).catch((err: Error) =>
        assert.fail(`${err.message} The status bar shows: ${JSON.stringify(shown.filter((e) => e.visible).map((e) => [e.id, e.text]))}`),
      );
      const [itemA, itemB] = [haltedItem(items, a.alias), haltedItem(items, b.alias)];
      assert.strictEqual(itemA.length, 1, JSON.stringify(items));
      assert.strictEqual(itemB.length, 1, JSON.stringify(items));
      assert.notStrictEqual(itemA[0].id, itemB[0].id, 'two entries, not one shared');

      // Continue from the warning of the session that does NOT have focus: only that node runs again.
      const focused = vscode.debug.activeDebugSession;
      const [target, other] = focused?.id === sa.id ? [b, a] : [a, b];
      const [targetSession, otherSession] = target === a ? [sa, sb] : [sb, sa];
      assert.ok(focused, 'one of the two sessions has focus');
      const warning = `The kubelet on ${target.alias} has been halted`;
      // The notification center lists every notification, also those whose toast has timed out.
      await vscode.commands.executeCommand('notifications.showList');
      let listed: unknown[] = [];
      await until(
        `the halt warning for ${target.alias}`,
        async () => ((listed = await notifications()).some((n) => (n as { message: string }).message.includes(warning)) ? true : undefined),
        90_000,
      ).catch((err: Error) => assert.fail(`${err.message} Notifications shown: ${JSON.stringify(listed)}`));
      const clicked = await clickNotificationButton(warning, 'Continue');
      assert.ok(clicked, `clicked Continue on "${warning}"`);
      await until(
        `${target.alias} continued`,
        () => (logOf(targetSession).continueRequests > 0 && logOf(targetSession).continuedEvents > 0 ? true : undefined),
        30_000,
      ).catch((err: Error) =>
        assert.fail(
          `${err.message} Continue requests: ${target.alias} ${logOf(targetSession).continueRequests}, ${other.alias} ${logOf(otherSession).continueRequests}.`,
        ),
      );
      assert.strictEqual(
        await until(
          `${target.alias}'s kubelet running`,
          async () => ((await kubeletUnderDelve(target)) === 'running' ? 'running' : undefined),
          30_000,
        ),
        'running',
      );
      assert.strictEqual(logOf(otherSession).continueRequests, 0, `${other.alias} got no continue`);
      assert.strictEqual(await kubeletUnderDelve(other), 'halted', `${other.alias} stays halted`);
      const afterContinue = await statusBarEntries();
      assert.strictEqual(
        haltedItem(afterContinue, target.alias).length,
        0,
        `${target.alias}'s item is gone once it runs: ${JSON.stringify(afterContinue)}`,
      );
      assert.strictEqual(haltedItem(afterContinue, other.alias).length, 1, `${other.alias}'s item stays: ${JSON.stringify(afterContinue)}`);

      // End the running session: its node is restored; the other stays halted and keeps its lease.
      await vscode.debug.stopDebugging(targetSession);
      await until(`${target.alias}'s session to end`, () => (ended.has(targetSession.id) ? true : undefined), 60_000);
      await nodeRestored(target);
      const endedAt = Number((await nodeSsh('date +%s', other)).trim());
      assert.ok(!ended.has(otherSession.id), `${other.alias}'s session is still running`);
      await until(
        `${other.alias}'s lease renewed after ${target.alias}'s session ended`,
        async () => ((await leaseMtime(other)) > endedAt ? true : undefined),
        20_000,
      );
      assert.strictEqual(await kubeletUnderDelve(other), 'halted', `${other.alias} is still halted`);
      assert.strictEqual(haltedItem(await statusBarEntries(), other.alias).length, 1, `${other.alias}'s item is still shown`);

      await vscode.debug.stopDebugging(otherSession);
      await until(`${other.alias}'s session to end`, () => (ended.has(otherSession.id) ? true : undefined), 60_000);
      await nodeRestored(other);
      assert.strictEqual(haltedItem(await statusBarEntries(), other.alias).length, 0, 'no halted item is left');
    } finally {
      for (const s of sessions.values()) {
        if (!ended.has(s.id)) {
          await vscode.debug.stopDebugging(s);
        }
      }
      subs.forEach((s) => s.dispose());
      tracker.dispose();
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
      if (previous !== undefined) {
        writeFileSync(launchJson, previous);
      } else {
        rmSync(hadVscodeDir ? launchJson : path.dirname(launchJson), { recursive: true, force: true });
      }
    }
  });
});
