// keyboard-interactive as a second factor against real sshd and PAM: for these tests only, the node
// wants a key and then PAM's password prompt from the needpw user (AuthenticationMethods), and the
// answers go through the core's prompts interface, as the VS Code input box gives them (on the openssh
// transport, through SSH_ASKPASS).
import * as assert from 'assert';
import { readFileSync } from 'fs';
import { ErrorCode } from '../../src/common/errors';
import type { TestNode } from '../node/testNode';
import { expectUserError } from '../support/expectUserError';
import { connect, customConfig, managerFor, recordingPrompts, TRANSPORTS } from '../support/nodeClient';
import { keyOnlyLogin, setSecondFactor } from '../support/secondFactor';
import { sharedNode } from './hooks';

describe('keyboard-interactive second factor (PAM) through the prompts interface', function () {
  this.timeout(60_000);
  let node: TestNode;
  let password: string;

  before(async () => {
    node = sharedNode();
    password = readFileSync(node.needsPasswordPasswordPath, 'utf8').trim();
    await setSecondFactor(node, true);
  });

  after(async () => {
    await setSecondFactor(node, false);
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
      assert.match(err.message, /accepted a first factor but refused the answer to its keyboard-interactive prompt/);
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
        const err = await expectUserError(conn.exec(['true']), ErrorCode.Cancelled);
        assert.match(err.message, new RegExp(`^Login to needpw@${node.sshHosts.needsPassword} cancelled: `));
      } finally {
        conn.disconnect();
      }
      assert.strictEqual(prompts.calls.length, 1);
    });
  }

  it('does not count the time a person takes to answer against ConnectTimeout', async () => {
    // The answer comes after 2.5 s, the limit is 1 s: the node is not slow, the person is.
    const config = customConfig(node, 'slow-typist', [`UserKnownHostsFile ${node.knownHostsPath}`, 'ConnectTimeout 1'], 'needpw');
    const prompts = recordingPrompts();
    prompts.keyboardInteractive = async () => {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      return [password];
    };
    const m = managerFor(config, prompts);
    try {
      assert.strictEqual((await m.get('slow-typist').exec(['id', '-un'])).stdout.trim(), 'needpw');
    } finally {
      m.dispose();
    }
  });
});
