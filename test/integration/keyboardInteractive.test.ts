// keyboard-interactive in a real VS Code: for these tests the node's sshd wants needpw's key and then
// PAM's password (AuthenticationMethods publickey,keyboard-interactive). Expanding the node in the
// Nodes view shows the server's prompt in the real input box, masked because PAM asks with echo off,
// and the answer is typed into it in Chromium, key by key, as a person would.
import * as assert from 'assert';
import { readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { setSecondFactor } from '../support/secondFactor';
import { IntegrationNode, nodeSsh, testNode, until } from './testNodeAccess';
import { answerInputBox, cancelInputBox, clickTreeRow, inputBox, ShownInputBox, ShownTreeRow, treeRows } from './uiProbe';

/** The Nodes view, by the name the workbench shows. */
const VIEW = 'Nodes';
/** Longer than a re-prompt took when the view retried a failed login on its own (about 1 s). */
const QUIET_MS = 2000;

type NodeWithAccess = IntegrationNode & {
  port: number;
  keyPath: string;
  sshHosts: { root: string; needsPassword: string };
  needsPasswordPasswordPath: string;
};

type VisibleInputBox = Extract<ShownInputBox, { visible: true }>;

function shownInputBox(): Promise<VisibleInputBox> {
  return until('an input box', async () => {
    const box = await inputBox();
    return box.visible ? box : undefined;
  });
}

/** The node's row and the rows under it, once `ready` says the view shows what the test waits for. */
async function nodeRows(
  alias: string,
  ready: (below: ShownTreeRow[], row: ShownTreeRow) => boolean,
): Promise<{ row: ShownTreeRow; below: ShownTreeRow[] }> {
  let last: ShownTreeRow[] = [];
  return until(`${alias} in the Nodes view`, async () => {
    last = await treeRows(VIEW);
    const at = last.findIndex((r) => r.label === alias);
    if (at < 0) {
      return undefined;
    }
    const next = last.findIndex((r, i) => i > at && r.level <= last[at].level);
    const below = last.slice(at + 1, next < 0 ? undefined : next);
    return ready(below, last[at]) ? { row: last[at], below } : undefined;
  }).catch((err: Error) => assert.fail(`${err.message} The view shows: ${JSON.stringify(last)}`));
}

/** The node's row says it is connected and its unit is listed under it. */
function connected(below: ShownTreeRow[], row: ShownTreeRow): boolean {
  return row.description === 'connected as needpw' && below.some((r) => r.label === 'kubelet.service');
}

/** The node's row says it cannot connect, with a row under it that says why. */
function failed(below: ShownTreeRow[], row: ShownTreeRow): boolean {
  return row.description === 'cannot connect' && below.length > 0;
}

/** Expands the node in the Nodes view with a click, and waits for its login's input box. */
async function expandAndAsk(alias: string): Promise<VisibleInputBox> {
  await nodeRows(alias, () => true);
  await clickTreeRow(VIEW, alias);
  const box = await shownInputBox();
  assert.strictEqual(box.title, `SSH login to needpw@${alias}`, 'the title says which login asks');
  return box;
}

// By sshd's syslog identifier, not its unit: journald takes the unit from /proc, and a connection
// process that has already exited (a cancelled login) leaves lines with no unit, which `-u ssh` misses.
const SSHD_JOURNAL = 'journalctl -t sshd';

/** Where the node's sshd journal ends now, so a test reads only the logins it caused. */
async function journalCursor(): Promise<string> {
  const out = await nodeSsh(`${SSHD_JOURNAL} -n 0 --show-cursor --no-pager`);
  const cursor = /-- cursor: (\S+)/.exec(out)?.[1];
  assert.ok(cursor, `journalctl printed a cursor: ${out}`);
  return cursor;
}

/** needpw's SSH connections since `cursor`, each as sshd logged it, by client port. */
async function needpwConnections(cursor: string): Promise<Map<string, string[]>> {
  // journald writes what sshd sent a moment later; each test made at least one connection.
  const out = await until(
    "sshd's lines about needpw in the node's journal",
    async () => {
      const text = await nodeSsh(`${SSHD_JOURNAL} --after-cursor='${cursor}' -o cat --no-pager`);
      return /\bneedpw\b.* port \d+/.test(text) ? text : undefined;
    },
    10_000,
  );
  const byPort = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const port = /\bneedpw\b.* port (\d+)/.exec(line)?.[1];
    if (port) {
      byPort.set(port, [...(byPort.get(port) ?? []), line]);
    }
  }
  return byPort;
}

/**
 * Once the answered box has closed, watches for QUIET_MS that no input box comes back (a login retried
 * on its own would ask again); the tests also count the node's connections.
 */
async function expectNoPromptAgain(): Promise<void> {
  await until('the input box to close', async () => (!(await inputBox()).visible ? true : undefined), 5000);
  const quietUntil = Date.now() + QUIET_MS;
  while (Date.now() < quietUntil) {
    const box = await inputBox();
    assert.ok(!box.visible, `nobody asked, yet an input box came back: ${JSON.stringify(box)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('keyboard-interactive in the real input box', function () {
  this.timeout(120_000);
  const node = testNode() as NodeWithAccess;
  const config = path.join(os.homedir(), '.ssh', 'config');
  const aliases = {
    answered: `${node.alias}-2fa`,
    wrong: `${node.alias}-2fa-wrong`,
    cancelled: `${node.alias}-2fa-cancel`,
    first: `${node.alias}-2fa-a`,
    second: `${node.alias}-2fa-b`,
  };
  let original: string;
  let password: string;

  before(async () => {
    password = readFileSync(node.needsPasswordPasswordPath, 'utf8').trim();
    original = readFileSync(config, 'utf8');
    // One Host per test, so each starts from a node it never connected to.
    const host = (alias: string) =>
      `\nHost ${alias}\n  HostName ${node.address}\n  Port ${node.port}\n  User needpw\n  IdentityFile ${node.keyPath}\n  IdentitiesOnly yes\n`;
    writeFileSync(config, original + Object.values(aliases).map(host).join(''));
    await setSecondFactor(node, true);
    await vscode.commands.executeCommand('workbench.view.extension.kubelet');
    await vscode.commands.executeCommand('kubelet.nodes.focus');
    await vscode.commands.executeCommand('kubelet.refreshNodes');
  });

  after(async () => {
    // A prompt a failed test left open would hold its connection attempt.
    if ((await inputBox()).visible) {
      await cancelInputBox();
    }
    await vscode.commands.executeCommand('workbench.actions.treeView.kubelet.nodes.collapseAll');
    writeFileSync(config, original);
    await setSecondFactor(node, false);
    await vscode.commands.executeCommand('kubelet.refreshNodes');
  });

  it('asks the PAM password in a masked input box titled with the login, and connects with the typed answer', async () => {
    const alias = aliases.answered;
    const cursor = await journalCursor();
    const box = await expandAndAsk(alias);
    // The server's own words; VS Code adds its Enter/Escape hint.
    assert.match(box.prompt, /^Password:/);
    assert.strictEqual(box.password, true, 'PAM asks with echo off, so the box masks what is typed');
    assert.strictEqual(box.placeholder, '', 'one question, so no "Answer 1 of N"');
    assert.ok(box.focused, 'the box has the keyboard focus');
    await answerInputBox(password);

    // The view shows the unit as systemd on the node reports it, read over the connection just made.
    const pid = (await nodeSsh('systemctl show -p MainPID --value kubelet')).trim();
    const { below } = await nodeRows(alias, connected);
    assert.strictEqual(below.find((r) => r.label === 'kubelet.service')?.description, `active (running) · PID ${pid}`);
    const logins = [...(await needpwConnections(cursor)).values()];
    assert.strictEqual(logins.length, 1, `one connection: ${JSON.stringify(logins)}`);
    assert.match(logins[0].join('\n'), /Accepted keyboard-interactive\/pam for needpw/, 'sshd took both factors');
    assert.ok(!(await inputBox()).visible, 'nothing more is asked');
  });

  it('shows a wrong answer as a refused second factor, once, without asking again on its own', async () => {
    const alias = aliases.wrong;
    const cursor = await journalCursor();
    await expandAndAsk(alias);
    await answerInputBox('not-the-password');

    const { below } = await nodeRows(alias, failed);
    assert.strictEqual(below.length, 1, JSON.stringify(below));
    assert.match(
      below[0].label,
      new RegExp(`needpw@${alias} accepted a first factor but refused the answer to its keyboard-interactive prompt`),
    );
    assert.match(below[0].label, /\[KRD1003\]$/);
    assert.doesNotMatch(below[0].label, /HostName|Port/);

    await expectNoPromptAgain();
    const logins = [...(await needpwConnections(cursor)).values()];
    assert.strictEqual(logins.length, 1, `one connection, not a retry per refresh: ${JSON.stringify(logins)}`);
    assert.strictEqual(
      (await nodeSsh(`${SSHD_JOURNAL} --after-cursor='${cursor}' -o cat --no-pager`)).match(/PAM: Authentication failure for needpw/g)
        ?.length,
      1,
      'PAM checked one answer',
    );
  });

  it('stops as cancelled on Escape, says so, and asks nothing more until the person retries', async () => {
    const alias = aliases.cancelled;
    const cursor = await journalCursor();
    await expandAndAsk(alias);
    await cancelInputBox();

    const { below } = await nodeRows(alias, failed);
    assert.strictEqual(below.length, 1, JSON.stringify(below));
    assert.match(below[0].label, new RegExp(`^Login to needpw@${alias} cancelled`));
    assert.match(below[0].label, /\[KRD1103\]$/);

    await expectNoPromptAgain();
    assert.strictEqual((await needpwConnections(cursor)).size, 1, 'one connection');

    // The error row's Retry asks again, and an answer then connects.
    await clickTreeRow(VIEW, below[0].label);
    assert.strictEqual((await shownInputBox()).title, `SSH login to needpw@${alias}`);
    await answerInputBox(password);
    await nodeRows(alias, connected);
  });

  it('asks two logins one after the other, so answering one never cancels the other', async () => {
    const { first, second } = aliases;
    await nodeRows(second, () => true);
    await clickTreeRow(VIEW, first);
    const asked = await shownInputBox();
    assert.strictEqual(asked.title, `SSH login to needpw@${first}`);
    // The second node asks while the first box is open; VS Code would replace (and cancel) it.
    await clickTreeRow(VIEW, second);
    await until(`${second} connecting`, async () =>
      (await treeRows(VIEW)).some((r) => r.label === second && r.expanded === 'true') ? true : undefined,
    );
    assert.strictEqual((await shownInputBox()).title, `SSH login to needpw@${first}`, 'the first box stays');
    await answerInputBox(password);
    const next = await until("the second login's box", async () => {
      const box = await inputBox();
      return box.visible && box.title !== asked.title ? box : undefined;
    });
    assert.strictEqual(next.title, `SSH login to needpw@${second}`);
    assert.strictEqual(next.password, true);
    await answerInputBox(password);
    for (const alias of [first, second]) {
      await nodeRows(alias, connected);
    }
  });
});
