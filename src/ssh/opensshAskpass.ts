// Answers the questions the system's ssh asks (an unknown host key, a passphrase, a password, a
// keyboard-interactive prompt) with the same prompts the ssh2 transport uses. ssh runs SSH_ASKPASS,
// a small script in the transport's private folder, which hands the question to this process over a
// unix socket there and prints the answer (or exits 1 when the person cancels).
import { promises as fs } from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Logger } from '../common/logger';
import type { ConnectPrompts } from './connect';
import { shellQuote } from './shellQuote';
import type { ResolvedHost } from './sshConfig';

export interface Askpass {
  /** What the master's environment needs so that ssh asks here. */
  env: NodeJS.ProcessEnv;
  /** True once the person cancelled a question: the login failing after it is their choice. */
  readonly cancelled: boolean;
  /** The fingerprint of the last unknown host key ssh asked about, to name it if the login then fails. */
  readonly hostKeyFingerprint?: string;
  /** A question is waiting for the person. */
  readonly asking: boolean;
  close(): void;
}

/** OpenSSH's names for key types in its question, as ssh2's side names them (ECDSA's curve is not said, so it stays). */
const SSH_KEY_TYPES: Record<string, string> = {
  ED25519: 'ssh-ed25519',
  RSA: 'ssh-rsa',
  'ED25519-SK': 'sk-ssh-ed25519@openssh.com',
};

/** The helper ssh runs: one question, one answer. Plain Node, so it runs under VS Code's own runtime. */
const HELPER = `const net = require('net');
if (process.env.SSH_ASKPASS_PROMPT === 'none') process.exit(0);
const s = net.connect(process.env.KRD_ASKPASS_SOCKET);
const chunks = [];
s.on('connect', () => s.end(JSON.stringify({ prompt: process.argv[2] || '', kind: process.env.SSH_ASKPASS_PROMPT || '' })));
s.on('data', (c) => chunks.push(c));
s.on('error', () => process.exit(1));
s.on('end', () => {
  const r = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  if (typeof r.answer !== 'string') process.exit(1);
  process.stdout.write(r.answer + '\\n');
});
`;

/** `onCancel`: the person cancelled; ssh would only ask again, so the caller ends it. */
export async function startAskpass(
  dir: string,
  host: ResolvedHost,
  prompts: ConnectPrompts,
  log: Logger,
  onCancel: () => void = () => undefined,
): Promise<Askpass> {
  const helper = path.join(dir, 'askpass.js');
  const script = path.join(dir, 'askpass');
  const socket = path.join(dir, 'a');
  await fs.writeFile(helper, HELPER, { mode: 0o600 });
  // VS Code's runtime is Electron; ELECTRON_RUN_AS_NODE makes it plain Node (and plain Node ignores it).
  await fs.writeFile(script, `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${shellQuote(process.execPath)} ${shellQuote(helper)} "$@"\n`, {
    mode: 0o700,
  });
  let cancelled = false;
  let hostKeyFingerprint: string | undefined;
  let open = 0;
  const server = net.createServer({ allowHalfOpen: true }, (conn) => {
    const chunks: Buffer[] = [];
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', () => undefined);
    conn.on('end', () => {
      let question: { prompt: string; kind: string };
      try {
        question = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt: string; kind: string };
      } catch {
        conn.end('{}');
        return;
      }
      open++;
      answer(question.prompt, question.kind, host, prompts, log)
        .finally(() => open--)
        .then(
          (reply) => {
            conn.end(JSON.stringify({ answer: reply.answer }));
            hostKeyFingerprint = reply.fingerprint ?? hostKeyFingerprint;
            if (reply.cancelled) {
              cancelled = true;
              onCancel();
            }
          },
          () => {
            conn.end('{}');
            cancelled = true;
            onCancel();
          },
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return {
    env: { SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', KRD_ASKPASS_SOCKET: socket, DISPLAY: process.env.DISPLAY ?? ':0' },
    get cancelled() {
      return cancelled;
    },
    get hostKeyFingerprint() {
      return hostKeyFingerprint;
    },
    get asking() {
      return open > 0;
    },
    close: () => server.close(),
  };
}

/**
 * Sorts ssh's question by its wording (OpenSSH has no other way to say what it asks). As on the ssh2
 * transport, declining a password or passphrase moves on, and cancelling a keyboard-interactive
 * prompt cancels the login.
 */
export async function answer(
  prompt: string,
  kind: string,
  host: ResolvedHost,
  prompts: ConnectPrompts,
  log: Logger,
): Promise<{ answer?: string; cancelled?: boolean; fingerprint?: string }> {
  const text = prompt.trim();
  if (/continue connecting \(yes\/no/.test(text)) {
    const who = /authenticity of host '(?:\[([^\]]+)\]:(\d+)|([^' ]+))/.exec(text);
    const key = /(\S+) key fingerprint is (\S+?)\.?$/m.exec(text);
    const trusted = await prompts.trustHostKey({
      host: who?.[1] ?? who?.[3] ?? host.hostName,
      port: who?.[2] ? Number(who[2]) : 22,
      keyType: key ? (SSH_KEY_TYPES[key[1]] ?? key[1]) : '?',
      fingerprint: key?.[2] ?? '?',
      knownHostsFile: host.knownHostsFiles[0] ?? '~/.ssh/known_hosts',
    });
    log.info(`OpenSSH asked to trust a host key; ${trusted ? 'trusted' : 'refused'}.`);
    return { answer: trusted ? 'yes' : 'no', fingerprint: key?.[2] };
  }
  const passphrase = /^Enter passphrase for(?: key)? '?([^':]+)'?:/.exec(text);
  if (passphrase) {
    return { answer: await prompts.passphrase(passphrase[1]) };
  }
  const password = /^(\S+)@(\S+)'s password:$/.exec(text);
  if (password) {
    return { answer: await prompts.password(password[1], host.alias) };
  }
  if (kind === 'confirm') {
    // A yes/no such as an agent key confirmation; nothing else asks that way.
    const replies = await prompts.keyboardInteractive({
      user: host.user,
      host: host.alias,
      name: '',
      instructions: '',
      prompts: [{ prompt: text, echo: true }],
    });
    return { answer: replies?.[0] };
  }
  // Keyboard-interactive: OpenSSH puts "(user@host) " before the server's own prompt.
  const server = /^\(([^@)]+)@[^)]+\) ([\s\S]*)$/.exec(prompt);
  const replies = await prompts.keyboardInteractive({
    user: server?.[1] ?? host.user,
    host: host.alias,
    name: '',
    instructions: '',
    prompts: [{ prompt: server?.[2] ?? prompt, echo: false }],
  });
  return replies ? { answer: replies[0] } : { cancelled: true };
}
