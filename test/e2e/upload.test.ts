// The binary upload against the real node: skipped when unchanged, sent again when the node's copy
// was touched, and never left half-written; over both transports.
import * as assert from 'assert';
import { randomBytes } from 'crypto';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { sha256File, uploadBinary } from '../../src/node/upload';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { connect, TRANSPORTS } from '../support/nodeClient';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { sharedNode } from './hooks';

for (const transport of TRANSPORTS) {
  describe(`Upload of the debug binary over ${transport}`, function () {
    this.timeout(60_000);
    const remote = '/var/lib/kubelet-debug/upload-test';
    let dir: string;
    let conn: NodeConnection;
    before(() => {
      dir = tempDir('up');
      conn = connect(sharedNode(), 'sudo', undefined, transport);
    });
    after(async () => {
      await sharedNode().ssh(`rm -f ${remote} ${remote}.krd-sha256`);
      conn.disconnect();
      removeTempDir(dir);
    });

    it('sends a new binary, skips it when unchanged, and sends it again when the node copy was altered', async () => {
      const node = sharedNode();
      const local = path.join(dir, 'kubelet');
      writeFileSync(local, randomBytes(6 * 1024 * 1024));
      const sha = await sha256File(local);
      const progress: number[] = [];
      const first = await uploadBinary(conn, local, remote, { onProgress: (p) => progress.push(p.transferred) });
      assert.strictEqual(first.skipped, false);
      assert.ok(progress.length > 0 && progress[progress.length - 1] === 6 * 1024 * 1024, 'progress reached the whole size');
      assert.strictEqual((await node.ssh(`sha256sum ${remote} | cut -d' ' -f1; stat -c %a ${remote}`)).stdout, `${sha}\n755\n`);

      assert.strictEqual((await uploadBinary(conn, local, remote)).skipped, true, 'unchanged: nothing sent');

      // Someone changes the node's copy behind our back (same size, new content): it must be sent again.
      await node.ssh(`printf 'X' | dd of=${remote} bs=1 seek=100 conv=notrunc status=none`);
      assert.strictEqual((await uploadBinary(conn, local, remote)).skipped, false);
      assert.strictEqual((await node.ssh(`sha256sum ${remote} | cut -d' ' -f1`)).stdout.trim(), sha);
      assert.strictEqual(
        (await node.ssh(`ls -A /var/tmp | grep krd-upload || true; ls -A /var/lib/kubelet-debug | grep '[.]upload-' || true`)).stdout,
        '',
        'no staging file left',
      );
    });

    it('sends the binary again when the local one changed, even though the node copy is as we left it', async () => {
      const node = sharedNode();
      const local = path.join(dir, 'rebuilt');
      const target = `${remote}-rebuilt`;
      try {
        writeFileSync(local, randomBytes(2 * 1024 * 1024));
        assert.strictEqual((await uploadBinary(conn, local, target)).skipped, false);
        assert.strictEqual((await uploadBinary(conn, local, target)).skipped, true, 'unchanged: nothing sent');

        // A rebuild: same size, different bytes, and the node's copy and its record untouched.
        writeFileSync(local, randomBytes(2 * 1024 * 1024));
        const rebuilt = await sha256File(local);
        const again = await uploadBinary(conn, local, target);
        assert.strictEqual(again.skipped, false, 'a changed local binary is sent');
        assert.strictEqual(again.sha256, rebuilt);
        assert.strictEqual(
          (await node.ssh(`sha256sum ${target} | cut -d' ' -f1`)).stdout.trim(),
          rebuilt,
          'the node now runs the new build',
        );
        assert.strictEqual((await uploadBinary(conn, local, target)).skipped, true, 'and the new one is skipped next time');
      } finally {
        await node.ssh(`rm -f ${target} ${target}.krd-sha256`);
      }
    });

    it('stops at once when cancelled, leaving no staging file', async () => {
      const node = sharedNode();
      const local = path.join(dir, 'big');
      writeFileSync(local, randomBytes(64 * 1024 * 1024));
      const abort = new AbortController();
      const upload = uploadBinary(conn, local, `${remote}-cancelled`, { signal: abort.signal, onProgress: () => abort.abort() });
      await assert.rejects(upload, /Cancelled/);
      // The staging file is removed after the SFTP session closes; give the node a moment.
      for (let i = 0; i < 20; i++) {
        if ((await node.ssh('ls -A /var/tmp | grep krd-upload || true')).stdout === '') {
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.strictEqual(
        (await node.ssh(`ls -A /var/tmp | grep krd-upload || true; ls ${remote}-cancelled 2>/dev/null || true`)).stdout,
        '',
      );
    });
  });
}
