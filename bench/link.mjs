// `npm run bench -- --link lan|cloud|far|all`: the real v1.20.2 debug kubelet's figures over an emulated
// link (test/support/linkRelay.ts in front of the node's sshd), each against OpenSSH through the same relay
// in the same run: upload vs scp and vs `sftp -B 32768 -R 8`, upload after a one-line edit, edit → first
// stop vs bench/firstStop.sh after scp, DAP round trip vs `ssh -L`; on lan also the relay's own cost.
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT, fmt, median, out, printTable, run, tableText, unitHashes, updateReadme } from './lib.mjs';
import { bashFirstStop, dapRound, expectPods, extensionFirstStop, settleKubelet, touchByte, waitPort } from './run.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const log = (...a) => console.error('[bench --link]', ...a);

const { bootTestNode } = out('test/node/testNode');
const { connect } = out('test/support/nodeClient');
const { uploadBinary } = out('src/node/upload');
const { podState, realKubernetes } = out('test/support/realKubernetes');
const { LINK_PROFILES, linkProfile } = out('test/support/linkRelay');
const { relayedNode } = out('test/support/relayedNode');

const HEADER = ['Figure', 'Extension', 'OpenSSH (same run, same relay)', 'Ratio', 'Goal', ''];
const DIR = '/var/lib/kubelet-debug';
/** Node-side copy of the kubelet before the edit, outside the folder the restore checks watch. */
const BEFORE_ON_NODE = '/var/tmp/krd-bench-kubelet-before';

const verdict = (ok) => (ok ? 'met' : 'MISSED');
/** The goals are the "cloud" profile's; other profiles show them for comparison, unjudged. */
let judged = true;
const goal = (text, ok) => (judged ? [text, verdict(ok)] : [`${text} on cloud`, '']);

async function must(r, what) {
  const res = await r;
  if (res.code !== 0) {
    throw new Error(`${what} failed (${res.code}): ${res.stderr}`);
  }
  return res;
}

function describeProfile(p) {
  return p.rateBitsPerSecond ? `${p.rateBitsPerSecond / 1e6} Mbit/s, ${p.rttMs} ms RTT` : 'no shaping';
}

async function scpTo(node, file, remote) {
  const r = await must(run('scp', ['-q', '-F', node.sshConfigPath, file, `${node.sshHosts.root}:${remote}`]), 'scp');
  return r.ms / 1000;
}

async function sftpTo(node, file, remote, work) {
  const batch = path.join(work, 'sftp-batch');
  writeFileSync(batch, `put ${file} ${remote}\n`);
  const r = await must(run('sftp', ['-q', '-F', node.sshConfigPath, '-B', '32768', '-R', '8', '-b', batch, node.sshHosts.root]), 'sftp');
  return r.ms / 1000;
}

/** Compressed size of a file with gzip -1, as the extension's stream sends it (for the link's utilisation). */
async function gzipSize(file) {
  let n = 0;
  await new Promise((resolve, reject) => {
    const z = createGzip({ level: 1, chunkSize: 64 * 1024 });
    z.on('data', (c) => (n += c.length));
    z.on('end', resolve);
    z.on('error', reject);
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(z);
  });
  return n;
}

/** Upload of the 153 MB debug kubelet (a byte changed per round, so nothing is skipped): extension, scp, sftp. */
async function benchUpload(ctx, relayed, conn, rows, figures) {
  const copy = path.join(ctx.work, 'kubelet-copy');
  cpSync(ctx.k8s.debugKubelet, copy);
  const ext = [];
  const scp = [];
  const sftp = [];
  const methods = [];
  for (let round = 0; round < ROUNDS; round++) {
    touchByte(copy);
    await ctx.node.ssh(`rm -f ${DIR}/bench-*`);
    const t0 = performance.now();
    const r = await uploadBinary(conn, copy, `${DIR}/bench-ext`);
    ext.push((performance.now() - t0) / 1000);
    methods.push(r.method);
    scp.push(await scpTo(relayed, copy, `${DIR}/bench-scp`));
    sftp.push(await sftpTo(relayed, copy, `${DIR}/bench-sftp`, ctx.work));
    log(
      `upload round ${round + 1}: extension ${fmt(ext.at(-1))} s (${r.method}), scp ${fmt(scp.at(-1))} s, sftp -B 32768 -R 8 ${fmt(sftp.at(-1))} s`,
    );
  }
  await ctx.node.ssh(`rm -f ${DIR}/bench-*`);
  rmSync(copy);
  const vsScp = median(ext.map((e, i) => e / scp[i]));
  const vsSftp = median(ext.map((e, i) => e / sftp[i]));
  figures.upload = { extensionSeconds: ext, methods, scpSeconds: scp, sftpSeconds: sftp, vsScp, vsSftp };
  const mb = statSync(ctx.k8s.debugKubelet).size / 1e6;
  const how = `${fmt(median(ext))} s (${[...new Set(methods)].join('/')}, ${fmt(mb / median(ext), 1)} MB/s of binary)`;
  rows.push([
    `Upload, real debug kubelet (${fmt(mb, 0)} MB)`,
    how,
    `scp ${fmt(median(scp))} s`,
    `${fmt(vsScp)}×`,
    ...goal('≤ 0.4×', vsScp <= 0.4),
  ]);
  rows.push([
    'Upload vs OpenSSH at its best',
    how,
    `sftp -B 32768 -R 8 ${fmt(median(sftp))} s`,
    `${fmt(vsSftp)}×`,
    ...goal('≤ 0.5×', vsSftp <= 0.5),
  ]);
  // The link's use while the compressed stream ran: gzip's output over its share of the time.
  if (methods.includes('gzip') && relayed.relay.profile.rateBitsPerSecond) {
    const gz = ctx.gzipBytes;
    figures.upload.gzipBytes = gz;
    figures.upload.linkUtilisation = (gz * 8) / median(ext) / relayed.relay.profile.rateBitsPerSecond;
  }
}

/** Puts the pre-edit kubelet at `remote` (a fresh copy, no record beside it), so the next upload must send. */
async function resetToBefore(node, remote) {
  await must(node.ssh(`cp ${BEFORE_ON_NODE} ${remote} && rm -f ${remote}.krd-sha256`), 'resetting the node to the pre-edit kubelet');
}

/** Upload after a one-line edit and rebuild: the node holds the previous build; extension vs scp of the new binary. */
async function benchEditUpload(ctx, relayed, conn, rows, figures) {
  const ext = [];
  const scp = [];
  for (let round = 0; round < ROUNDS; round++) {
    await resetToBefore(ctx.node, `${DIR}/bench-edit`);
    const t0 = performance.now();
    const r = await uploadBinary(conn, ctx.after, `${DIR}/bench-edit`);
    ext.push((performance.now() - t0) / 1000);
    scp.push(await scpTo(relayed, ctx.after, `${DIR}/bench-edit-scp`));
    log(`edit upload round ${round + 1}: extension ${fmt(ext.at(-1))} s (${r.method}), scp ${fmt(scp.at(-1))} s`);
  }
  await ctx.node.ssh(`rm -f ${DIR}/bench-*`);
  const ratio = median(ext.map((e, i) => e / scp[i]));
  figures.editUpload = { extensionSeconds: ext, scpSeconds: scp, ratio };
  rows.push([
    'Upload after a one-line kubelet edit and rebuild',
    `${fmt(median(ext))} s (compressed whole: see the delta note)`,
    `scp of the new binary ${fmt(median(scp))} s`,
    `${fmt(ratio)}×`,
    ...goal('≤ 0.2×', ratio <= 0.2),
  ]);
}

/** Edit → first stop in syncLoop: the node runs the previous build's copy; the extension uploads and launches, the script scps and launches. */
async function benchEditFirstStop(ctx, relayed, rows, figures) {
  const remote = `${DIR}/kubelet`;
  const pods = await podState(ctx.node);
  const ext = [];
  const bash = [];
  const scp = [];
  const breakdowns = [];
  for (let round = 0; round < ROUNDS; round++) {
    await settleKubelet(ctx.node);
    await resetToBefore(ctx.node, remote);
    const e = await extensionFirstStop(relayed, ctx.after, ctx.k8s.src, ctx.hashes);
    ext.push(e.total);
    breakdowns.push(e.timings);
    await expectPods(ctx.node, pods, 'a debug session');
    await settleKubelet(ctx.node);
    await resetToBefore(ctx.node, remote);
    const s = await scpTo(relayed, ctx.after, remote);
    scp.push(s);
    bash.push(s + (await bashFirstStop(relayed, ctx.hashes)));
    await expectPods(ctx.node, pods, 'bench/firstStop.sh');
    log(
      `edit → first stop round ${round + 1}: extension ${fmt(e.total)} s ${JSON.stringify(e.timings)}, scp + bench/firstStop.sh ${fmt(bash.at(-1))} s`,
    );
  }
  const ratio = median(ext.map((e, i) => e / bash[i]));
  const breakdown = Object.fromEntries(Object.keys(breakdowns[0]).map((k) => [k, median(breakdowns.map((b) => b[k] ?? 0))]));
  figures.editFirstStop = {
    extensionSeconds: ext,
    scpPlusScriptSeconds: bash,
    scpSeconds: scp,
    ratio,
    breakdown,
    buildSeconds: ctx.buildSeconds,
  };
  rows.push([
    'Edit → first stop in syncLoop (after the rebuild)',
    `${fmt(median(ext))} s (upload ${fmt(breakdown.upload)}, delveLoad ${fmt(breakdown.delveLoad)}, kubelet start-up ${fmt(breakdown['kubelet start-up'])})`,
    `scp ${fmt(median(scp))} s + bench/firstStop.sh = ${fmt(median(bash))} s`,
    `${fmt(ratio)}×`,
    ...goal('≤ 0.4×', ratio <= 0.4),
  ]);
}

/** DAP round trips through the relay: the extension's forwardOut against `ssh -L` over the same relay. */
async function benchDap(ctx, relayed, conn, rows, figures) {
  const profile = relayed.relay.profile;
  await ctx.node.ssh(
    `systemd-run --quiet --collect --unit=krd-bench-dlv dlv exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient ${DIR}/kubelet -- --config=/var/lib/kubelet/config.yaml`,
  );
  await must(
    ctx.node.ssh('for i in $(seq 600); do ss -Htln "sport = :2345" | grep -q . && exit 0; sleep 0.1; done; exit 1'),
    'Delve listening',
  );
  const localPort = 43000 + Math.floor(Math.random() * 2000);
  const { spawn } = await import('node:child_process');
  const tunnel = spawn(
    'ssh',
    [
      '-F',
      relayed.sshConfigPath,
      '-N',
      '-o',
      'ExitOnForwardFailure=yes',
      '-L',
      `127.0.0.1:${localPort}:127.0.0.1:2345`,
      relayed.sshHosts.root,
    ],
    { stdio: 'ignore' },
  );
  try {
    await waitPort(localPort, 20_000);
    // A command first, as the extension runs Delve over the connection that carries the tunnel.
    await conn.runAsRoot('a check', ['true']);
    const per = quick ? 20 : profile.rttMs >= 100 ? 40 : 100;
    const ext = [];
    const ssh = [];
    for (let round = 0; round < ROUNDS; round++) {
      ext.push(...(await dapRound(await conn.forwardOut('127.0.0.1', 2345), true, per, round === 0)));
      ssh.push(...(await dapRound(net.connect(localPort, '127.0.0.1'), false, per, false)));
      log(`dap round ${round + 1}: extension median ${fmt(median(ext), 2)} ms, ssh -L median ${fmt(median(ssh), 2)} ms`);
    }
    const ratio = median(ext) / median(ssh);
    const worst = Math.max(...ext);
    const limit = 3 * profile.rttMs;
    figures.dap = { requests: ext.length, extensionMs: ext, sshMs: ssh, ratio, worstMs: worst, limitMs: limit };
    const bounded = profile.rttMs > 0;
    rows.push([
      `DAP round trip (${ext.length} threads/stackTrace each)`,
      `median ${fmt(median(ext))} ms, slowest ${fmt(worst)} ms`,
      `ssh -L median ${fmt(median(ssh))} ms, slowest ${fmt(Math.max(...ssh))} ms`,
      `${fmt(ratio)}×`,
      bounded ? `≤ 1.0×, none > 3 RTT (${limit} ms)` : '≤ 1.0×',
      verdict(ratio <= 1.0 && (!bounded || worst <= limit)),
    ]);
  } finally {
    tunnel.kill('SIGTERM');
    await ctx.node.ssh('systemctl stop krd-bench-dlv; true');
  }
}

/** The relay's own cost ("lan": no shaping): scp of the debug kubelet through it against straight to the node. */
async function benchRelayOverhead(ctx, relayed, rows, figures) {
  const direct = [];
  const relay = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await scpTo(ctx.node, ctx.k8s.debugKubelet, `${DIR}/bench-direct`));
    relay.push(await scpTo(relayed, ctx.k8s.debugKubelet, `${DIR}/bench-relay`));
    log(`relay overhead round ${round + 1}: direct ${fmt(direct.at(-1))} s, through the lan relay ${fmt(relay.at(-1))} s`);
  }
  await ctx.node.ssh(`rm -f ${DIR}/bench-*`);
  const ratio = median(relay.map((r, i) => r / direct[i]));
  figures.relayOverhead = { directSeconds: direct, relaySeconds: relay, ratio };
  rows.push([
    'The relay itself: scp of the debug kubelet through the lan relay',
    `relay ${fmt(median(relay))} s`,
    `direct ${fmt(median(direct))} s`,
    `${fmt(ratio)}×`,
    '≤ 1.1× (not the bottleneck)',
    verdict(ratio <= 1.1),
  ]);
}

async function benchProfile(ctx, profile) {
  log(`profile ${profile.name}: ${describeProfile(profile)}`);
  judged = profile.name === 'cloud';
  const relayed = await relayedNode(ctx.node, profile, { separateProcess: true });
  const conn = connect(relayed);
  const rows = [];
  const figures = {};
  try {
    if (profile.name === 'lan') {
      await benchRelayOverhead(ctx, relayed, rows, figures);
    }
    await benchUpload(ctx, relayed, conn, rows, figures);
    await benchEditUpload(ctx, relayed, conn, rows, figures);
    conn.disconnect();
    await benchEditFirstStop(ctx, relayed, rows, figures);
    await benchDap(ctx, relayed, conn, rows, figures);
  } finally {
    conn.disconnect();
    await relayed.stop();
  }
  return { rows, figures };
}

/** How much of the debug kubelet a one-line edit changes, at block sizes a dd/sha256sum-only node could use. */
async function measureDelta(ctx) {
  const { readFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { gzipSync } = await import('node:zlib');
  const a = readFileSync(ctx.before);
  const b = readFileSync(ctx.after);
  const blocks = {};
  for (const bs of [4096, 65536, 1048576]) {
    const old = new Set();
    for (let o = 0; o < a.length; o += bs) {
      old.add(
        createHash('sha256')
          .update(a.subarray(o, o + bs))
          .digest('hex'),
      );
    }
    const changed = [];
    for (let o = 0; o < b.length; o += bs) {
      const blk = b.subarray(o, o + bs);
      if (!old.has(createHash('sha256').update(blk).digest('hex'))) {
        changed.push(blk);
      }
    }
    const c = Buffer.concat(changed);
    blocks[bs] = { unchangedFraction: 1 - c.length / b.length, changedGzipBytes: gzipSync(c, { level: 1 }).length };
  }
  let differing = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    differing += a[i] !== b[i] ? 1 : 0;
  }
  return { bytes: b.length, sizeChange: b.length - a.length, differingBytesAtSameOffset: differing, wholeGzipBytes: ctx.gzipBytes, blocks };
}

export async function linkMain(which) {
  const names = which === 'all' ? ['lan', 'cloud', 'far'] : [which];
  const profiles = names.map((n) => linkProfile(n ?? ''));
  if (process.argv.includes('--readme') && which !== 'all') {
    throw new Error('--readme with --link writes all three profiles: use --link all --readme.');
  }
  const started = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), 'krd-bench-link-'));
  const k8s = realKubernetes();
  log('building the real debug kubelet before and after a one-line edit (bench/editedKubelet.sh)');
  const built = await must(
    run('bash', [path.join(ROOT, 'bench/editedKubelet.sh'), k8s.src, work], { timeoutMs: 30 * 60_000 }),
    'bench/editedKubelet.sh',
  );
  const buildSeconds = Number(/^after-seconds=(\S+)$/m.exec(built.stdout)?.[1]);
  const ctx = { k8s, work, before: path.join(work, 'kubelet-before'), after: path.join(work, 'kubelet-after'), buildSeconds };
  ctx.gzipBytes = await gzipSize(ctx.after);
  const delta = await measureDelta(ctx);
  log(`one-line edit: ${JSON.stringify(delta)}`);
  log('booting a real Kubernetes v1.20.2 node');
  ctx.node = await bootTestNode({ kind: 'real', log: () => undefined });
  const results = { quick, rounds: ROUNDS, date: new Date().toISOString(), buildSeconds, delta, profiles: {} };
  try {
    ctx.hashes = await unitHashes(ctx.node);
    await must(ctx.node.ssh(`mkdir -p ${DIR}`), 'creating the binary folder');
    const direct = connect(ctx.node);
    await uploadBinary(direct, ctx.before, BEFORE_ON_NODE, { method: 'sftp' });
    direct.disconnect();
    await ctx.node.ssh(`rm -f ${BEFORE_ON_NODE}.krd-sha256`);
    for (const p of profiles) {
      results.profiles[p.name] = await benchProfile(ctx, p);
      // After each profile, so a long run that is cut short keeps what it measured.
      writeFileSync(path.join(ROOT, 'bench/results-link.json'), JSON.stringify(results, null, 2) + '\n');
    }
  } finally {
    await ctx.node.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(ROOT, 'bench/results-link.json'), JSON.stringify(results, null, 2) + '\n');
  const sections = [];
  for (const p of profiles) {
    const title = `"${p.name}" (${describeProfile(p)}), ${ROUNDS} rounds alternating, medians`;
    console.log(`\n${title}\n`);
    printTable(HEADER, results.profiles[p.name].rows);
    sections.push(`**${title}**`, '', tableText(HEADER, results.profiles[p.name].rows), '');
  }
  const d = delta.blocks;
  const deltaNote =
    `One-line edit (a log line in syncLoop) and rebuild: ${fmt(delta.differingBytesAtSameOffset / 1e6, 1)} MB of ${fmt(delta.bytes / 1e6, 1)} MB differ at the same offset ` +
    `(the file grew ${delta.sizeChange} bytes and everything after the edit moved). Blocks of the old copy found again: ` +
    Object.entries(d)
      .map(
        ([bs, v]) =>
          `${fmt((1 - v.unchangedFraction) * 100, 0)}% changed at ${Number(bs) / 1024} KiB (changed blocks ${fmt(v.changedGzipBytes / 1e6, 1)} MB gzipped)`,
      )
      .join(', ') +
    `, against ${fmt(delta.wholeGzipBytes / 1e6, 1)} MB for the whole file gzipped. Hashing the node's copy in blocks with sha256sum and dd costs more than the bytes it saves, so the upload sends the whole file compressed.`;
  console.log(`\n${deltaNote}\n\nWrote bench/results-link.json`);
  updateReadme(
    'link',
    [
      `\`npm run bench -- --link all${quick ? ' --quick' : ''} --readme\` on ${new Date(started).toISOString().slice(0, 10)} (${fmt(results.seconds, 0)} s): one real Kubernetes v1.20.2 node, its ${fmt(delta.bytes / 1e6, 0)} MB debug kubelet, the extension and OpenSSH through the same link relay (test/support/linkRelay.ts) in the same run. One profile alone: \`npm run bench -- --link cloud\` (or \`lan\`, \`far\`).`,
      '',
      ...sections,
      deltaNote,
    ].join('\n'),
  );
}

export { LINK_PROFILES };
