// Delve drives a root process, so only root may reach it, whatever the login. Against the real node: a
// session started as the password-less sudo user (kubeadmin) works through the root relay, while
// another unprivileged user on the node, connecting straight to Delve's loopback port, gets no answer
// to a DAP initialize; Delve itself says it refused a different user.
import * as assert from 'assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { ErrorCode } from '../../src/common/errors';
import { openDelveStream, RELAY_NAME } from '../../src/debug/delveStream';
import { functionForStage } from '../../src/debug/startupStages';
import { shellQuote } from '../../src/ssh/shellQuote';
import type { TestNode } from '../node/testNode';
import { attachTestClient } from '../support/dapAttach';
import { expectUserError } from '../support/expectUserError';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { connect } from '../support/nodeClient';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { sharedNode } from './hooks';

const INTRUDER = 'krd-intruder';

/**
 * As INTRUDER on the node: connect to 127.0.0.1:port with bash's /dev/tcp, send a DAP initialize and
 * print whatever comes back within 5 s, then who ran it and how the read ended.
 */
async function intruderInitialize(node: TestNode, port: number): Promise<{ answer: string; user: string; readExit: string }> {
  const body = JSON.stringify({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'intruder', pathFormat: 'path' } });
  const script = [
    'echo "user=$(id -un)"',
    // A refused connection is closed at once, and writing to it must not end the probe.
    "trap '' PIPE",
    `exec 3<>/dev/tcp/127.0.0.1/${port} || { echo connect-failed; exit 0; }`,
    `printf 'Content-Length: %d\\r\\n\\r\\n%s' ${Buffer.byteLength(body)} ${shellQuote(body)} >&3 2>/dev/null`,
    'timeout 5 cat <&3',
    'echo "read-exit=$?"',
  ].join('\n');
  const r = await node.ssh(`runuser -u ${INTRUDER} -- bash -c ${shellQuote(script)}`);
  assert.strictEqual(r.code, 0, `the probe ran: ${r.stderr}`);
  const user = /^user=(.*)$/m.exec(r.stdout)?.[1] ?? '';
  const readExit = /read-exit=(\d+)\s*$/.exec(r.stdout)?.[1] ?? (r.stdout.includes('connect-failed') ? 'connect-failed' : '?');
  const answer = r.stdout.replace(/^user=.*\n/, '').replace(/read-exit=\d+\s*$/, '');
  return { answer, user, readExit };
}

describe('Delve is reachable only by root, also for a non-root login (real node)', function () {
  this.timeout(240_000);
  const suite = useConnectionAndWorkspace(sharedNode);

  before(async () => {
    const r = await sharedNode().ssh(`id ${INTRUDER} >/dev/null 2>&1 || useradd --shell /bin/bash ${INTRUDER}`);
    assert.strictEqual(r.code, 0, r.stderr);
  });
  after(async () => {
    await sharedNode().ssh(`userdel ${INTRUDER} 2>/dev/null; true`);
  });

  it('a session as the sudo user stops at a breakpoint through the root relay; another local user gets no DAP answer', async () => {
    const node = sharedNode();
    const before = await kubeletState(node);
    const sudo = connect(node, 'sudo');
    const target = await launchKubeletUnderDelve(
      sudo,
      launchConfig({ host: node.sshHosts.sudo, build: { where: 'local' } }),
      suite.workspace(),
      testHooks(),
    );
    const { client, proxy, finished } = await attachTestClient(target, suite.workspace());
    try {
      const dlv = await node.ssh(`ps -o user=,args= -p "$(systemctl show -p MainPID --value kubelet)"`);
      assert.match(dlv.stdout, /^root\s+\S*dlv exec /, `Delve runs as root: ${dlv.stdout}`);
      assert.doesNotMatch(dlv.stdout, /only-same-user/, 'Delve keeps its default --only-same-user');

      await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
      await client.request('launch', {});
      await client.waitEvent('initialized');
      await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionForStage('syncLoop') }] });
      await client.request('configurationDone');
      const stop = await client.waitEvent<DebugProtocol.StoppedEvent>('stopped', 60_000);

      // Delve's peer is root: the relay started with sudo, not the login user's sshd.
      const relays = await node.ssh(`ps -eo user=,args= | grep '[${RELAY_NAME[0]}]${RELAY_NAME.slice(1)} ${target.port}$'`);
      assert.match(relays.stdout, /^root\s/m, `a root relay carries the session: ${relays.stdout}`);

      const since = (await node.ssh('date +%s')).stdout.trim();
      const intruder = await intruderInitialize(node, target.port);
      assert.strictEqual(intruder.user, INTRUDER, 'the probe ran as the other user');
      assert.doesNotMatch(intruder.answer, /Content-Length|"initialize"/, `no DAP answer for ${INTRUDER}: ${intruder.answer}`);
      // cat ends with 0 on Delve's close, or 1 when the close comes as a reset (our request unread); 124 would be a silence.
      assert.ok(['0', '1'].includes(intruder.readExit), `Delve closed the connection at once: ${JSON.stringify(intruder)}`);

      // The session is unharmed.
      const st = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', {
        threadId: stop.body.threadId,
        startFrame: 0,
        levels: 1,
      });
      assert.match(st.body.stackFrames[0].name, /\(\*Kubelet\)\.syncLoop$/);

      await client.request('disconnect', { restart: false });
      assert.strictEqual(finished()?.restored, true, finished()?.message);
      await expectNodeRestored(node, before);
      // Delve writes the refusal without a newline; the journal has the line once Delve has exited.
      const journal = await node.ssh(`journalctl --no-pager -o cat -u kubelet --since @${since}`);
      assert.match(
        journal.stdout,
        /closing connection from different user/,
        `Delve refused a different user: ${journal.stdout.slice(-2000)}`,
      );
      const left = await node.ssh(
        `for i in $(seq 50); do ps -eo args= | grep -q '[${RELAY_NAME[0]}]${RELAY_NAME.slice(1)} ' || exit 0; sleep 0.1; done; ps -eo pid=,args= | grep '[${RELAY_NAME[0]}]${RELAY_NAME.slice(1)} '`,
      );
      assert.strictEqual(left.code, 0, `no relay is left on the node: ${left.stdout}`);
    } catch (err) {
      console.log(client.transcript.join('\n'));
      await proxy.dispose();
      throw err;
    } finally {
      sudo.disconnect();
    }
  });

  it('says why the relay could not reach Delve, and when sudo wants a password', async () => {
    const node = sharedNode();
    const free = Number(
      (await node.ssh('for p in $(seq 29000 29100); do ss -Htln "sport = :$p" | grep -q . || { echo $p; break; }; done')).stdout.trim(),
    );
    const sudo = connect(node, 'sudo');
    const needpw = connect(node, 'needsPassword');
    try {
      const refused = await expectUserError(openDelveStream(sudo, free), ErrorCode.DelveUnreachable);
      assert.match(refused.message, new RegExp(`127\\.0\\.0\\.1:${free}.*Connection refused`), refused.message);
      await expectUserError(openDelveStream(needpw, free), ErrorCode.SudoNeedsPassword);
    } finally {
      sudo.disconnect();
      needpw.disconnect();
    }
  });
});
