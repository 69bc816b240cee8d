// keyboard-interactive as a second factor against real sshd and PAM: for these tests only, the node
// wants a key and then PAM's password prompt from the needpw user (AuthenticationMethods), and the
// answers go through the core's prompts interface, as the VS Code input box gives them (on the openssh
// transport, through SSH_ASKPASS).
import * as assert from 'assert';
import { execFile } from 'child_process';
import { readFileSync } from 'fs';
import { ErrorCode } from '../../src/common/errors';
import type { TestNode } from '../node/testNode';
import { expectUserError } from '../support/expectUserError';
import { connect, recordingPrompts, TRANSPORTS } from '../support/nodeClient';
import { sharedNode } from './hooks';

const DROP_IN = '/etc/ssh/sshd_config.d/05-krd-second-factor.conf';

/** What OpenSSH says when needpw logs in with the key alone: '' when it gets in, else its stderr. */
function keyOnlyLogin(node: TestNode): Promise<string> {
  return new Promise((resolve) =>
    execFile(
      'ssh',
      ['-F', node.sshConfigPath, '-o', 'BatchMode=yes', node.sshHosts.needsPassword, 'true'],
      { timeout: 30_000 },
      (err, _stdout, stderr) => resolve(err ? String(stderr) || String(err) : ''),
    ),
  );
}

/**
 * Writes (or removes, with undefined) an sshd drop-in, checks the whole config and reloads sshd.
 * The reload is a SIGHUP that sshd acts on after systemctl returns, so it waits until a key-only
 * login of needpw shows the new setting (refused with the drop-in, accepted without).
 */
async function sshdDropIn(node: TestNode, text: string | undefined): Promise<void> {
  const write = text === undefined ? `rm -f ${DROP_IN}` : `printf '%s' '${text}' > ${DROP_IN}`;
  const r = await node.ssh(`${write} && sshd -t && systemctl reload ssh`);
  assert.strictEqual(r.code, 0, `sshd reconfiguration failed: ${r.stderr}`);
  for (let attempt = 0; ; attempt++) {
    const refused = (await keyOnlyLogin(node)) !== '';
    if (refused === (text !== undefined)) {
      return;
    }
    assert.ok(attempt < 50, 'sshd did not take the new configuration within 50 attempts');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('keyboard-interactive second factor (PAM) through the prompts interface', function () {
  this.timeout(60_000);
  let node: TestNode;
  let password: string;

  before(async () => {
    node = sharedNode();
    password = readFileSync(node.needsPasswordPasswordPath, 'utf8').trim();
    await sshdDropIn(
      node,
      ['Match User needpw', '  AuthenticationMethods publickey,keyboard-interactive', '  KbdInteractiveAuthentication yes', ''].join('\n'),
    );
  });

  after(async () => {
    await sshdDropIn(node, undefined);
  });

  it('really needs both factors: OpenSSH with the key alone is refused', async () => {
    assert.strictEqual((await node.ssh('true')).code, 0, 'root is not affected');
    assert.match(await keyOnlyLogin(node), /Permission denied \(keyboard-interactive\)/);
  });

  for (const transport of TRANSPORTS) {
    it(`logs in with the key and then the PAM password, asked once with echo off (over ${transport})`, async () => {
      const prompts = recordingPrompts({ keyboardInteractive: (prompt) => (/password/i.test(prompt) ? password : undefined) });
      const conn = connect(node, 'needsPassword', prompts, transport);
      try {
        assert.strictEqual((await conn.exec(['id', '-un'])).stdout.trim(), 'needpw');
        assert.strictEqual(conn.transportKind, transport);
      } finally {
        conn.disconnect();
      }
      assert.deepStrictEqual(prompts.calls, [
        { kind: 'keyboard-interactive', detail: `needpw@${node.sshHosts.needsPassword} "Password: " echo=false` },
      ]);
    });
  }

  it('says the first factor passed and the second did not, for a wrong answer', async () => {
    const prompts = recordingPrompts({ keyboardInteractive: () => 'not-the-password' });
    const conn = connect(node, 'needsPassword', prompts);
    try {
      const err = await expectUserError(conn.exec(['true']), ErrorCode.AuthFailed);
      assert.match(err.message, /accepted a first factor but not the next one/);
      assert.ok(!/HostName|Port/.test(err.message), err.message);
    } finally {
      conn.disconnect();
    }
    assert.strictEqual(prompts.calls.filter((c) => c.kind === 'keyboard-interactive').length, 1);
    assert.deepStrictEqual(
      prompts.calls.filter((c) => c.kind === 'password'),
      [],
      'no password prompt the node would not take',
    );
  });

  for (const transport of TRANSPORTS) {
    it(`stops as cancelled when the person cancels the prompt, asking nothing more (over ${transport})`, async () => {
      const prompts = recordingPrompts({ keyboardInteractive: () => undefined });
      const conn = connect(node, 'needsPassword', prompts, transport);
      try {
        await expectUserError(conn.exec(['true']), ErrorCode.Cancelled);
      } finally {
        conn.disconnect();
      }
      assert.strictEqual(prompts.calls.length, 1);
    });
  }
});
