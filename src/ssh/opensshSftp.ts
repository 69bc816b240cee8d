// ssh2's own SFTP client, driven over the pipes of `ssh -s HOST sftp` instead of an ssh2 channel,
// so the openssh transport hands out the very same SFTPWrapper API (node files, binary readers).
//
// Why this reaches into ssh2: its SFTP class (lib/protocol/SFTP.js) is the protocol engine we
// already trust; it needs only `client._protocol.{_remoteIdentRaw, channelData, channelClose}`
// and a channel's `outgoing` {id, state, window, packetSize}, and it is fed with push(data). That
// is private API, so package.json pins ssh2 to one exact version and test/e2e/nodeFiles.test.ts
// runs over this file; this is the only file that touches it.
import type { ChildProcessWithoutNullStreams } from 'child_process';
import type { SFTPWrapper } from 'ssh2';

interface Ssh2SftpClass {
  new (
    client: unknown,
    chanInfo: unknown,
    cfg: unknown,
  ): SFTPWrapper & {
    push(data: Buffer | null): void;
    _init(): void;
    outgoing: { state: string };
  };
}

/** Loaded lazily, like ssh2 itself (the bundle maps this path to dist/ssh2.js, see esbuild.mjs). */
function sftpClass(): Ssh2SftpClass {
  return (require('ssh2/lib/protocol/SFTP.js') as { SFTP: Ssh2SftpClass }).SFTP;
}

/** How long the SFTP server may take to answer the version handshake. */
const INIT_TIMEOUT_MS = 20_000;

/**
 * Speaks SFTP over the child's stdin/stdout. Resolves once the server answered; the session closes
 * (and every pending request fails) when the child ends.
 */
export function sftpOverChild(child: ChildProcessWithoutNullStreams, describe: () => string): Promise<SFTPWrapper> {
  const SFTP = sftpClass();
  const outgoing = {
    id: 0,
    state: 'open',
    // The pipe does its own flow control; the SSH window belongs to the ssh process.
    window: Number.MAX_SAFE_INTEGER,
    packetSize: Number.MAX_SAFE_INTEGER,
  };
  const fakeClient = {
    _protocol: {
      // The SFTP class reads this to size its packets; sftp-server is OpenSSH's on every node we run on.
      _remoteIdentRaw: 'SSH-2.0-OpenSSH_via_openssh_transport',
      channelData: (_id: number, data: Buffer) => {
        if (!child.stdin.destroyed) {
          child.stdin.write(data);
        }
      },
      channelClose: () => {
        outgoing.state = 'closed';
        child.stdin.end();
      },
    },
  };
  const sftp = new SFTP(fakeClient, { type: 'sftp', incoming: { id: 0, state: 'open' }, outgoing }, {});
  child.stdin.on('error', () => undefined); // EPIPE once the child is gone; 'close' below reports it.
  child.stdout.on('data', (chunk: Buffer) => sftp.push(chunk));
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      outgoing.state = 'closed';
      sftp.push(null);
      sftp.emit('close');
    }
  };
  child.stdout.on('end', close);
  child.on('exit', close);

  return new Promise<SFTPWrapper>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the SFTP server did not answer within ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      sftp.removeListener('ready', onReady);
      sftp.removeListener('error', fail);
      sftp.removeListener('close', onClose);
    };
    const fail = (err: Error) => {
      done();
      child.kill();
      reject(err);
    };
    const onReady = () => {
      done();
      resolve(sftp);
    };
    const onClose = () => fail(new Error(`the SFTP session ended before it started (${describe()})`));
    sftp.on('ready', onReady);
    sftp.on('error', fail);
    sftp.on('close', onClose);
    sftp._init();
  });
}
