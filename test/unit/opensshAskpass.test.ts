// ssh's questions through SSH_ASKPASS: sorted by their wording into the prompts the ssh2 transport
// uses, and the helper script really run (as ssh runs it) against the answering socket.
import * as assert from 'assert';
import { execFile } from 'child_process';
import type { Logger } from '../../src/common/logger';
import { answer, startAskpass } from '../../src/ssh/opensshAskpass';
import type { ResolvedHost } from '../../src/ssh/sshConfig';
import { recordingPrompts } from '../support/nodeClient';
import { removeTempDir, tempDir } from '../support/tempDirs';

const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const host = {
  alias: 'node-1',
  hostName: '10.0.0.5',
  port: 22,
  user: 'kube',
  knownHostsFiles: ['/home/me/.ssh/known_hosts'],
} as ResolvedHost;

describe('OpenSSH questions through SSH_ASKPASS', () => {
  it('asks to trust an unknown host key with the host, port, type and fingerprint OpenSSH printed', async () => {
    const prompts = recordingPrompts({ trust: true });
    const text =
      "The authenticity of host '[10.0.0.5]:2222 ([10.0.0.5]:2222)' can't be established.\nED25519 key fingerprint is SHA256:AbCdEf0123.\nThis key is not known by any other names.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ";
    assert.deepStrictEqual(await answer(text, '', host, prompts, quiet), { answer: 'yes', fingerprint: 'SHA256:AbCdEf0123' });
    assert.deepStrictEqual(prompts.calls, [{ kind: 'trust', detail: '10.0.0.5:2222 ssh-ed25519 SHA256:AbCdEf0123' }]);
    assert.strictEqual((await answer(text, '', host, recordingPrompts({ trust: false }), quiet)).answer, 'no');
  });

  it('asks for a passphrase, a password, and a keyboard-interactive answer without OpenSSH\'s "(user@host)" prefix', async () => {
    const prompts = recordingPrompts({ passphrase: 'pp', password: 'pw', keyboardInteractive: () => '123456' });
    assert.deepStrictEqual(await answer("Enter passphrase for key '/home/me/.ssh/id_ed25519': ", '', host, prompts, quiet), {
      answer: 'pp',
    });
    assert.deepStrictEqual(await answer("kube@10.0.0.5's password: ", '', host, prompts, quiet), { answer: 'pw' });
    assert.deepStrictEqual(await answer('(kube@10.0.0.5) Verification code: ', '', host, prompts, quiet), { answer: '123456' });
    assert.deepStrictEqual(
      prompts.calls.map((c) => `${c.kind} ${c.detail}`),
      ['passphrase /home/me/.ssh/id_ed25519', 'password kube@node-1', 'keyboard-interactive kube@node-1 "Verification code: " echo=false'],
    );
  });

  it('cancels the login when the person cancels a keyboard-interactive prompt, and only moves on for a password', async () => {
    assert.deepStrictEqual(await answer('(kube@10.0.0.5) Password: ', '', host, recordingPrompts(), quiet), { cancelled: true });
    assert.deepStrictEqual(await answer("kube@10.0.0.5's password: ", '', host, recordingPrompts(), quiet), { answer: undefined });
  });

  it('runs the helper script as ssh would, and prints the answer (or exits 1 when there is none)', async () => {
    const dir = tempDir('askpass');
    const prompts = recordingPrompts({ keyboardInteractive: (p) => (p === 'Code: ' ? 'it works' : undefined) });
    const askpass = await startAskpass(dir, host, prompts, quiet);
    const ask = (prompt: string) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(askpass.env.SSH_ASKPASS!, [prompt], { env: { ...process.env, ...askpass.env } }, (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout }),
        ),
      );
    try {
      assert.deepStrictEqual(await ask('(kube@10.0.0.5) Code: '), { code: 0, stdout: 'it works\n' });
      assert.strictEqual(askpass.cancelled, false);
      assert.deepStrictEqual(await ask('(kube@10.0.0.5) Other: '), { code: 1, stdout: '' });
      assert.strictEqual(askpass.cancelled, true);
    } finally {
      askpass.close();
      removeTempDir(dir);
    }
  });
});
