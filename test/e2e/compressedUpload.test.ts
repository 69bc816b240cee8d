// The compressed upload against the real node, through the link emulator where a slow link matters:
// chosen by measurement on a slow link, byte-exact, executable, recorded, and never half-placed when the
// stream dies or the disk fills part-way (the old binary stays, no staging file is left, the error says why).
import * as assert from 'assert';
import { closeSync, openSync, readSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ErrorCode, UserError } from '../../src/common/errors';
import { sha256File, uploadBinary } from '../../src/node/upload';
import { expectUserError } from '../support/expectUserError';
import { LINK_PROFILES } from '../support/linkRelay';
import { connect, TRANSPORTS } from '../support/nodeClient';
import { RelayedNode, relayedNode } from '../support/relayedNode';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { sharedNode } from './hooks';

/** The first `bytes` of Node's own executable: machine code and data that compress about as a Go binary does. */
function compressible(file: string, bytes: number): void {
  const buf = Buffer.alloc(bytes);
  const fd = openSync(process.execPath, 'r');
  let have = 0;
  while (have < bytes) {
    const n = readSync(fd, buf, have, bytes - have, have);
    if (n === 0) {
      throw new Error(`${process.execPath} is smaller than ${bytes} bytes`);
    }
    have += n;
  }
  closeSync(fd);
  writeFileSync(file, buf);
}

describe('Compressed upload of the debug binary', function () {
  this.timeout(120_000);
  const dir = '/var/lib/kubelet-debug';
  let local: string;
  let tmp: string;
  let small: string;
  let far: RelayedNode;
  before(async () => {
    tmp = tempDir('gz');
    local = path.join(tmp, 'kubelet');
    compressible(local, 24 * 1024 * 1024);
    small = path.join(tmp, 'small');
    compressible(small, 12 * 1024 * 1024);
    far = await relayedNode(sharedNode(), LINK_PROFILES.far);
  });
  after(async () => {
    await sharedNode().ssh(`rm -f ${dir}/gz-* /var/tmp/krd-upload-*; umount /mnt/krd-gz 2>/dev/null; true`);
    await far.stop();
    removeTempDir(tmp);
  });

  async function leftovers(): Promise<string> {
    return (await sharedNode().ssh(`ls -A /var/tmp ${dir} /mnt/krd-gz 2>/dev/null | grep -e krd-upload -e '[.]upload-' || true`)).stdout;
  }

  it('switches to gzip on a 10 Mbit/s link, and the node gets the exact, executable binary with its record', async () => {
    const conn = connect(far);
    try {
      const r = await uploadBinary(conn, small, `${dir}/gz-auto`);
      assert.strictEqual(r.method, 'gzip', `measured ${JSON.stringify(r.choice)}`);
      assert.ok(r.choice && r.choice.compressionRatio > 1.5, `the sample compressed: ${JSON.stringify(r.choice)}`);
      const sha = await sha256File(small);
      assert.strictEqual(
        (await sharedNode().ssh(`sha256sum ${dir}/gz-auto | cut -c1-64; stat -c %a ${dir}/gz-auto`)).stdout,
        `${sha}\n755\n`,
      );
      assert.strictEqual(await leftovers(), '', 'no staging file left');
      assert.strictEqual((await uploadBinary(conn, small, `${dir}/gz-auto`)).skipped, true, 'the record lets the next upload skip it');
    } finally {
      conn.disconnect();
    }
  });

  for (const transport of TRANSPORTS) {
    it(`sends gzip for a login that is not root (staged in /var/tmp, installed with sudo) over ${transport}`, async () => {
      const conn = connect(sharedNode(), 'sudo', undefined, transport);
      try {
        const r = await uploadBinary(conn, local, `${dir}/gz-sudo-${transport}`, { method: 'gzip' });
        assert.strictEqual(r.method, 'gzip');
        assert.strictEqual(conn.transportKind, transport);
        assert.strictEqual(
          (await sharedNode().ssh(`sha256sum ${dir}/gz-sudo-${transport} | cut -c1-64; stat -c '%a %U' ${dir}/gz-sudo-${transport}`))
            .stdout,
          `${r.sha256}\n755 root\n`,
        );
        assert.strictEqual(await leftovers(), '');
      } finally {
        conn.disconnect();
      }
    });
  }

  /**
   * Puts an old binary at `target`, starts a forced gzip upload over the slow link, and runs `fault` on
   * the node once the staging file has bytes in it. The fault's ssh is started before the upload and
   * waits on the node itself, so a loaded machine cannot let the upload finish before the fault lands.
   */
  async function failPartWay(target: string, fault: string, code: ErrorCode): Promise<{ err: UserError; oldSha: string }> {
    const node = sharedNode();
    await node.ssh(`head -c 1000000 /usr/bin/ssh > ${target} && chmod 755 ${target}`);
    const oldSha = (await node.ssh(`sha256sum ${target} | cut -c1-64`)).stdout.trim();
    const staged = `.${path.posix.basename(target)}.upload-*`;
    const faulted = node.ssh(
      `timeout 60 sh -c 'until [ -n "$(find "$1" -maxdepth 1 -name "$2" -size +0c)" ]; do sleep 0.02; done' sh ${path.posix.dirname(target)} '${staged}' && ${fault}`,
    );
    const conn = connect(far);
    try {
      const err = await expectUserError(uploadBinary(conn, local, target, { method: 'gzip' }), code);
      const f = await faulted;
      assert.strictEqual(f.code, 0, `the fault was injected while bytes flowed: ${f.stderr}`);
      return { err, oldSha };
    } finally {
      conn.disconnect();
    }
  }

  it('leaves the old binary and no staging file when the stream is killed part-way, and says so', async () => {
    const target = `${dir}/gz-killed`;
    // The node's gzip is ours (this test's upload); it is found by its command line and ended by PID.
    const { err, oldSha } = await failPartWay(
      target,
      'pid=$(pgrep -f -x \'gzip -dc\'); [ -n "$pid" ] && kill -KILL $pid',
      ErrorCode.UploadFailed,
    );
    assert.match(err.message, /the node's gzip writing \S+ (was ended|exited with \d+).*was not changed/);
    assert.strictEqual((await sharedNode().ssh(`sha256sum ${target} | cut -c1-64`)).stdout.trim(), oldSha, 'the old binary is in place');
    assert.strictEqual(await leftovers(), '');
  });

  it('leaves the old binary and no staging file when the disk fills part-way, and says so', async () => {
    const node = sharedNode();
    // Room for the check before sending (size + 16 MiB), then filled once the stream runs.
    await node.ssh('mkdir -p /mnt/krd-gz && mount -t tmpfs -o size=48m tmpfs /mnt/krd-gz');
    const { err, oldSha } = await failPartWay(
      '/mnt/krd-gz/kubelet',
      'fallocate -l $(df -B1 --output=avail /mnt/krd-gz | tail -1) /mnt/krd-gz/filler',
      ErrorCode.NodeDiskFull,
    );
    assert.match(err.message, /ran out of disk space .*No space left on device/);
    assert.strictEqual((await node.ssh('sha256sum /mnt/krd-gz/kubelet | cut -c1-64')).stdout.trim(), oldSha, 'the old binary is in place');
    assert.strictEqual(await leftovers(), '');
  });
});
