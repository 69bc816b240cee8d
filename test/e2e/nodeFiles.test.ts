// Saving node files against a real node: atomic writes that keep mode and owner, conflicts, a
// connection cut mid-save, and unit files checked by systemd before a reload, as root and through sudo.
// Every file changed on the shared node is put back, as other test files use the same node. All of it
// runs over both transports (ssh2 and the system's OpenSSH).
import * as assert from 'assert';
import { ErrorCode, UserError } from '../../src/common/errors';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { sha256, writeNodeFile } from '../../src/node/nodeFileWrite';
import { createDropIn, deleteDropIn, runUnitAction } from '../../src/systemd/unitActions';
import { unitOfFile, writeUnitAwareFile } from '../../src/systemd/unitFileCheck';
import type { TestNode } from '../node/testNode';
import { connect, TRANSPORTS } from '../support/nodeClient';
import { sharedNode } from './hooks';

const KUBEADM_DROP_IN = '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf';

async function sh(node: TestNode, command: string): Promise<string> {
  const r = await node.ssh(command);
  assert.strictEqual(r.code, 0, `${command}: ${r.stderr}`);
  return r.stdout;
}

/** Puts a file back byte for byte (base64 keeps any content intact through the shell). */
async function restoreFile(node: TestNode, file: string, content: string, mode = '644'): Promise<void> {
  await sh(node, `printf %s '${Buffer.from(content).toString('base64')}' | base64 -d > '${file}' && chmod ${mode} '${file}'`);
}

async function tempFilesIn(node: TestNode, dir: string): Promise<string> {
  return (await node.ssh(`ls -a '${dir}' | grep -F .krd- || true`)).stdout.trim();
}

async function expectUserError(p: Promise<unknown>, code: ErrorCode): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError && err.code === code, `expected ${code}, got ${(err as Error).stack}`);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

async function kubeletCmdline(node: TestNode): Promise<string> {
  return (await node.ssh('tr "\\0" " " < /proc/$(systemctl show -p MainPID --value kubelet)/cmdline')).stdout;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      assert.fail(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

for (const transport of TRANSPORTS) {
  for (const who of ['root', 'sudo'] as const) {
    describe(`Node file writes as ${who} over ${transport}`, function () {
      let conn: NodeConnection;
      const file = `/etc/krd-write-test-${who}.conf`;
      before(() => {
        conn = connect(sharedNode(), who, undefined, transport);
      });
      after(async () => {
        conn.disconnect();
        await sharedNode().ssh(`rm -f ${file}`);
      });

      it('is carried by the transport under test', async () => {
        assert.strictEqual((await conn.exec(['id', '-un'])).code, 0);
        assert.strictEqual(conn.transportKind, transport);
      });

      it('replaces a file atomically, keeping its mode and owner, and leaves no temp file', async () => {
        const node = sharedNode();
        await sh(node, `printf 'old\\n' > ${file} && chown kubeadmin:root ${file} && chmod 640 ${file}`);
        const inode = (await sh(node, `stat -c %i ${file}`)).trim();
        const result = await writeNodeFile(conn, file, Buffer.from('new\n'), {
          create: false,
          overwrite: true,
          expectedSha256: sha256('old\n'),
        });
        assert.deepStrictEqual(result, { path: file, created: false });
        assert.strictEqual(await sh(node, `cat ${file}`), 'new\n');
        assert.strictEqual((await sh(node, `stat -c '%a %U %G' ${file}`)).trim(), '640 kubeadmin root');
        assert.notStrictEqual((await sh(node, `stat -c %i ${file}`)).trim(), inode, 'a new inode: renamed into place, not rewritten');
        assert.strictEqual(await tempFilesIn(node, '/etc'), '');
      });

      it('honours create and overwrite', async () => {
        const node = sharedNode();
        await sh(node, `rm -f ${file}`);
        await expectUserError(writeNodeFile(conn, file, Buffer.from('x'), { create: false, overwrite: true }), ErrorCode.NodeFileNotFound);
        assert.strictEqual((await writeNodeFile(conn, file, Buffer.from('x'), { create: true, overwrite: false })).created, true);
        assert.strictEqual((await sh(node, `stat -c '%a %U' ${file}`)).trim(), '644 root');
        await expectUserError(writeNodeFile(conn, file, Buffer.from('y'), { create: true, overwrite: false }), ErrorCode.NodeFileExists);
        await expectUserError(
          writeNodeFile(conn, '/nonexistent-dir/x.conf', Buffer.from('y'), { create: true, overwrite: true }),
          ErrorCode.NodeFileNotFound,
        );
        assert.strictEqual(await sh(node, `cat ${file}`), 'x');
      });

      it('refuses to save over a change made on the node since the file was read', async () => {
        const node = sharedNode();
        await sh(node, `printf 'as read\\n' > ${file}`);
        const read = sha256('as read\n');
        await sh(node, `printf 'changed by someone else\\n' > ${file}`);
        const err = await expectUserError(
          writeNodeFile(conn, file, Buffer.from('mine\n'), { create: true, overwrite: true, expectedSha256: read }),
          ErrorCode.NodeFileConflict,
        );
        assert.match(err.message, /changed on .* since you opened it/);
        assert.strictEqual(await sh(node, `cat ${file}`), 'changed by someone else\n');
        assert.strictEqual(await tempFilesIn(node, '/etc'), '');
      });

      it('leaves the old or the new file, never a truncated one, when the connection is cut mid-save', async () => {
        const node = sharedNode();
        const big = `/root/krd-big-${who}`;
        const dir = '/root';
        await sh(node, `printf 'old\\n' > ${big}`);
        try {
          // Large enough that the upload is still running when the connection dies.
          const content = Buffer.alloc(96 * 1024 * 1024, 'kubelet remote debug\n');
          const saving = writeNodeFile(conn, big, content, { create: true, overwrite: true }).then(
            () => 'saved',
            (err) => err as Error,
          );
          await waitFor('the temp file to appear', async () => (await tempFilesIn(node, dir)) !== '', 20_000);
          const killOwnSshd = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';
          await conn.exec(['/bin/sh', '-c', killOwnSshd]).catch(() => undefined);
          const outcome = await saving;
          assert.ok(
            outcome instanceof UserError && outcome.code === ErrorCode.NodeFileWriteFailed,
            `the save was reported as failed: ${outcome}`,
          );
          await waitFor('the temp file to be removed', async () => (await tempFilesIn(node, dir)) === '', 15_000);
          const onNode = (await sh(node, `sha256sum < ${big} | cut -c1-64`)).trim();
          assert.ok(onNode === sha256('old\n') || onNode === sha256(content), 'the target is the old or the new file');
        } finally {
          await node.ssh(`rm -f ${big}; rm -f ${dir}/.krd-big-*`);
        }
      });
    });
  }

  describe(`Unit files checked before systemd reloads them (over ${transport})`, function () {
    let conn: NodeConnection;
    let original: string;
    before(async () => {
      conn = connect(sharedNode(), 'sudo', undefined, transport);
      original = await sh(sharedNode(), `cat ${KUBEADM_DROP_IN}`);
    });
    after(async () => {
      const node = sharedNode();
      conn.disconnect();
      await restoreFile(node, KUBEADM_DROP_IN, original);
      await sh(
        node,
        'rm -f /etc/systemd/system/kubelet.service.d/99-krd-test.conf /etc/systemd/system/kubelet.service.d/98-krd-test.conf && systemctl daemon-reload && systemctl restart kubelet',
      );
      await waitFor('the kubelet to run without --v=3', async () => !(await kubeletCmdline(node)).includes('--v=3'));
    });

    it('knows which files belong to a unit', () => {
      assert.strictEqual(unitOfFile(KUBEADM_DROP_IN), 'kubelet.service');
      assert.strictEqual(unitOfFile('/lib/systemd/system/kubelet.service'), 'kubelet.service');
      assert.strictEqual(unitOfFile('/etc/default/kubelet'), undefined);
      assert.strictEqual(unitOfFile('/etc/systemd/system/kubelet.service.d/notes.txt'), undefined);
      assert.strictEqual(unitOfFile('/tmp/kubelet.service.d/x.conf'), undefined);
    });

    it('reloads after a good edit, and a restart runs the kubelet with the new flag', async () => {
      const node = sharedNode();
      const edited = original.replace(/\$KUBELET_EXTRA_ARGS$/m, '$KUBELET_EXTRA_ARGS --v=3');
      assert.notStrictEqual(edited, original);
      const result = await writeUnitAwareFile(conn, KUBEADM_DROP_IN, Buffer.from(edited), {
        create: false,
        overwrite: true,
        expectedSha256: sha256(original),
      });
      assert.deepStrictEqual([result.unit, result.problems, result.reloaded], ['kubelet.service', [], true]);
      assert.strictEqual((await sh(node, 'systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'no');
      await runUnitAction(conn, 'restart', 'kubelet.service');
      await waitFor('the kubelet to run with --v=3', async () => (await kubeletCmdline(node)).includes('--v=3'));
    });

    it('refuses a malformed drop-in without losing it and without reloading systemd', async () => {
      const node = sharedNode();
      const current = await sh(node, `cat ${KUBEADM_DROP_IN}`);
      const malformed = `${current}this line has no equals sign\nRestartSec=banana\n`;
      const result = await writeUnitAwareFile(conn, KUBEADM_DROP_IN, Buffer.from(malformed), {
        create: false,
        overwrite: true,
        expectedSha256: sha256(current),
      });
      assert.strictEqual(result.reloaded, false);
      const lines = current.split('\n').length;
      assert.deepStrictEqual(
        result.problems.map((p) => [p.file, p.line]),
        [
          [KUBEADM_DROP_IN, lines],
          [KUBEADM_DROP_IN, lines + 1],
        ],
      );
      assert.match(result.problems[0].message, /Missing '='/);
      assert.strictEqual(await sh(node, `cat ${KUBEADM_DROP_IN}`), malformed, 'the file is on the node as written');
      assert.strictEqual((await sh(node, 'systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'yes', 'systemd was not reloaded');
      // Saving the fixed text again passes the check and reloads.
      const fixed = await writeUnitAwareFile(conn, KUBEADM_DROP_IN, Buffer.from(current), {
        create: false,
        overwrite: true,
        expectedSha256: sha256(malformed),
      });
      assert.deepStrictEqual([fixed.problems, fixed.reloaded], [[], true]);
      assert.strictEqual((await sh(node, 'systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'no');
    });

    it('refuses a drop-in that breaks the unit as a whole, not only a line of it', async () => {
      const node = sharedNode();
      const file = '/etc/systemd/system/kubelet.service.d/98-krd-test.conf';
      const result = await writeUnitAwareFile(conn, file, Buffer.from('[Service]\nExecStart=\n'), { create: true, overwrite: false });
      assert.strictEqual(result.reloaded, false);
      assert.match(result.problems.map((p) => p.message).join('\n'), /no ExecStart=/);
      assert.strictEqual((await sh(node, 'systemctl show -p NeedDaemonReload --value kubelet')).trim(), 'yes', 'systemd was not reloaded');
      await sh(node, `rm -f ${file} && systemctl daemon-reload`);
    });

    it('creates a drop-in from the template and deletes it keeping a backup', async () => {
      const node = sharedNode();
      await expectUserError(createDropIn(conn, 'kubelet.service', '../evil.conf'), ErrorCode.BadDropInName);
      await expectUserError(createDropIn(conn, 'kubelet.service', 'no-suffix'), ErrorCode.BadDropInName);
      const file = await createDropIn(conn, 'kubelet.service', '99-krd-test.conf');
      assert.strictEqual(file, '/etc/systemd/system/kubelet.service.d/99-krd-test.conf');
      assert.match(await sh(node, `cat ${file}`), /^\[Service\]$/m);
      await expectUserError(createDropIn(conn, 'kubelet.service', '99-krd-test.conf'), ErrorCode.NodeFileExists);
      await sh(node, 'systemctl daemon-reload');
      assert.match(await sh(node, 'systemctl show -p DropInPaths --value kubelet'), /99-krd-test\.conf/);
      const backup = await deleteDropIn(conn, file);
      assert.match(backup, /^\/var\/lib\/kubelet-remote-debug\/backups\/99-krd-test\.conf\.\d{4}-/);
      assert.match(await sh(node, `cat '${backup}'`), /^\[Service\]$/m);
      assert.strictEqual((await node.ssh(`test -e ${file}`)).code, 1);
      assert.doesNotMatch(await sh(node, 'systemctl show -p DropInPaths --value kubelet'), /99-krd-test/, 'systemd was reloaded');
      await sh(node, `rm -f '${backup}'`);
    });
  });
}
