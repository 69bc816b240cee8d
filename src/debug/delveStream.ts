// Opens a byte stream to Delve's server on the node's loopback, carried by the SSH connection. Delve
// runs as root and keeps its default --only-same-user, so it accepts only root peers: a root login
// uses a direct-tcpip channel (forwardOut, or `ssh -W` on the openssh transport; its peer is root's
// sshd); any other login goes through a relay that `sudo -n` starts as root on an exec channel, so
// Delve's peer is root there too and no other local user can ever drive it.
import type { Duplex } from 'stream';
import { errors } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';
import { shellCommand } from '../ssh/shellQuote';

/** How long to wait, after the relay exited, for the rest of what it wrote to stderr. */
const STDERR_GRACE_MS = 500;
const OPEN_TIMEOUT_MS = 15_000;
const CONNECTED = 'krd-delve-relay: connected';
/** The relay's name in `ps` on the node. */
export const RELAY_NAME = 'krd-delve-relay';

/**
 * Run by bash as root with the port as $1: stdin to Delve, Delve to stdout, through bash's /dev/tcp
 * (every node with bash has it; no socat or nc needed). It ends, and with it the channel, as soon as
 * either side ends. `wait -n` needs bash 4.3; older bash falls back to polling.
 */
const RELAY_SCRIPT = [
  'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 3',
  `echo '${CONNECTED}' >&2`,
  'cat <&3 & from_delve=$!',
  // An explicit <&0: a background job's stdin would otherwise be /dev/null.
  'cat <&0 >&3 & to_delve=$!',
  'exec 3>&-',
  'wait -n 2>/dev/null || while kill -0 $from_delve 2>/dev/null && kill -0 $to_delve 2>/dev/null; do sleep 0.2; done',
  'kill $from_delve $to_delve 2>/dev/null',
  'exit 0',
].join('\n');

/**
 * A duplex stream to 127.0.0.1:port on the node, as root. It resolves once connected; it ends (or
 * errs) when Delve closes the connection or the channel ends. `signal` cancels the opening only.
 */
export async function openDelveStream(node: NodeConnection, port: number, signal?: AbortSignal): Promise<Duplex> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${port} is not a TCP port.`);
  }
  await node.connect(signal);
  if (node.user === 'root') {
    return node.forwardOut('127.0.0.1', port);
  }
  const command = shellCommand(['sudo', '-n', '--', 'bash', '-c', RELAY_SCRIPT, RELAY_NAME, String(port)]);
  const channel = await node.openCommand(command, signal);
  return new Promise<Duplex>((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (!settled) {
        settle();
        channel.close();
        reject(error);
      }
    };
    const onAbort = () => fail(errors.cancelled());
    const timer = setTimeout(
      () => fail(errors.delveRelayFailed(node.spec, port, `no answer within ${OPEN_TIMEOUT_MS / 1000} s`, stderr)),
      OPEN_TIMEOUT_MS,
    );
    signal?.addEventListener('abort', onAbort);
    channel.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
      if (!settled && stderr.includes(CONNECTED)) {
        settle();
        resolve(channel);
      }
    });
    let stderrEnded = false;
    channel.stderr.on('end', () => (stderrEnded = true));
    channel.on('exit', (code: number | null, sig?: string) => {
      if (settled) {
        if ((code !== 0 || sig) && channel.listenerCount('error') > 0) {
          // Failed after connecting: say why to whoever reads the stream (it ends right after).
          channel.emit(
            'error',
            new Error(`the relay to Delve ended (${sig ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`),
          );
        }
        return;
      }
      // The exit status can arrive before the last of stderr (sudo's reason): judge once it has ended.
      const judge = () =>
        fail(
          /sudo: (a password is required|a terminal is required)/.test(stderr)
            ? errors.sudoNeedsPassword(node.spec, node.user ?? '?')
            : errors.delveRelayFailed(node.spec, port, sig ? `the relay was killed (${sig})` : `the relay exited with ${code}`, stderr),
        );
      if (stderrEnded) {
        judge();
      } else {
        const late = setTimeout(judge, STDERR_GRACE_MS);
        channel.stderr.once('end', () => {
          clearTimeout(late);
          judge();
        });
      }
    });
    channel.on('close', () => fail(errors.delveRelayFailed(node.spec, port, 'the SSH channel closed', stderr)));
  });
}
