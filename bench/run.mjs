// `npm run bench`: the extension's upload, DAP round trip, time to first stop and size, each measured
// against an OpenSSH baseline in the same run (A/B alternating, medians) on a test node it boots.
// Prints a table and writes bench/results.json. `--quick` for fewer rounds; see bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ROOT, buildDebugKubelet, ensureBuilt, fmt, median, out, percentile, printTable, run, tableText, updateReadme, runToSyncLoop, sleep, unitHashes, waitRestored,
} from './lib.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const DAP_REQUESTS = quick ? 400 : 2000;
const SIZE = 120 * 1024 * 1024;
// The root relay adds a pipe and a cat process each way on the node, beside the channel that forwardOut
// uses as well; a request should not cost half as much again.
const RELAY_TARGET = 1.5;
const log = (...a) => console.error('[bench]', ...a);

ensureBuilt(log);
const { bootTestNode } = out('test/node/testNode');
const { connect } = out('test/support/nodeClient');
const { launchConfig, testHooks } = out('test/support/launchHooks');
const { remoteSha256, sha256File, uploadBinary } = out('src/node/upload');
const { DapBridge } = out('src/debug/dapBridge');
const { DapMessageReader, encodeDapMessage } = out('src/debug/dapFraming');
const { KubeletDapProxy } = out('src/debug/dapProxy');
const { launchKubeletUnderDelve } = out('src/debug/kubeletLauncher');
const { mappingsFor } = out('src/debug/pathMapping');
const { openDelveStream } = out('src/debug/delveStream');
const { functionForStage } = out('src/debug/startupStages');
const { DapTestClient } = out('test/support/dapClient');
const { memoryLogger } = out('test/support/nodeClient');

const results = { quick, rounds: ROUNDS, date: new Date().toISOString(), figures: {} };
const rows = [];
const work = mkdtempSync(path.join(tmpdir(), 'krd-bench-'));

/** Appends random bytes to a copy of `src` until it is `size` bytes. */
function padded(src, dest, size) {
  cpSync(src, dest);
  const fd = openSync(dest, 'a');
  for (let have = statSync(dest).size; have < size;) {
    const n = Math.min(8 * 1024 * 1024, size - have);
    writeSync(fd, randomBytes(n));
    have += n;
  }
  closeSync(fd);
}

/** Changes one byte near the end (after the ELF's contents), so uploadBinary cannot skip the file. */
function touchByte(file) {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(1), 0, 1, statSync(file).size - 1);
  closeSync(fd);
}

async function benchUpload(node, conn, files) {
  const cfg = node.sshConfigPath;
  const alias = node.sshHosts.root;
  await node.ssh('mkdir -p /var/lib/kubelet-debug');
  for (const [label, file] of files) {
    const ext = [];
    const extTransfer = [];
    const scp = [];
    for (let round = 0; round < ROUNDS; round++) {
      touchByte(file);
      await node.ssh('rm -f /var/lib/kubelet-debug/bench-ext /var/lib/kubelet-debug/bench-scp');
      let firstStep;
      let lastStep;
      const t0 = performance.now();
      await uploadBinary(conn, file, '/var/lib/kubelet-debug/bench-ext', {
        onProgress: (p) => {
          firstStep ??= performance.now();
          lastStep = performance.now();
          void p;
        },
      });
      ext.push((performance.now() - t0) / 1000);
      extTransfer.push((lastStep - firstStep) / 1000);
      const r = await run('scp', ['-q', '-F', cfg, file, `${alias}:/var/lib/kubelet-debug/bench-scp`]);
      if (r.code !== 0) {
        throw new Error(`scp failed: ${r.stderr}`);
      }
      scp.push(r.ms / 1000);
      log(`upload ${label} round ${round + 1}: extension ${fmt(ext.at(-1))} s, scp ${fmt(scp.at(-1))} s`);
    }
    const mb = statSync(file).size / 1e6;
    const mib = statSync(file).size / 1024 / 1024;
    const ratios = ext.map((e, i) => scp[i] / e);
    results.figures[`upload_${label}`] = { extensionSeconds: ext, extensionTransferPhaseSeconds: extTransfer, scpSeconds: scp, megabytes: mb, speedupVsScp: median(ratios) };
    rows.push([`Upload ${label} (${fmt(mib, 0)} MiB)`, `${fmt(mb / median(ext), 0)} MB/s (${fmt(median(ext))} s; transfer phase ${fmt(mb / median(extTransfer), 0)} MB/s)`, `scp ${fmt(mb / median(scp), 0)} MB/s (${fmt(median(scp))} s)`,
      `${fmt(median(ratios))}× scp's speed`, 'faster than scp', median(ratios) > 1 ? 'met' : 'MISSED']);
  }
  await node.ssh('rm -f /var/lib/kubelet-debug/bench-ext /var/lib/kubelet-debug/bench-scp');
}

async function benchUnchanged(node, conn, file) {
  const remote = '/var/lib/kubelet-debug/kubelet';
  await uploadBinary(conn, file, remote);
  const ext = [];
  const base = [];
  const localHash = [];
  const remoteHash = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Where the time goes: the two hashes uploadBinary computes one after the other.
    let t = performance.now();
    await sha256File(file);
    localHash.push((performance.now() - t) / 1000);
    t = performance.now();
    await remoteSha256(conn, remote);
    remoteHash.push((performance.now() - t) / 1000);
    const t0 = performance.now();
    const r = await uploadBinary(conn, file, remote);
    ext.push((performance.now() - t0) / 1000);
    if (!r.skipped) {
      throw new Error('the unchanged re-upload was not skipped');
    }
    // Baseline: what a shell script would do with OpenSSH: hash both sides in parallel and compare.
    const b = await run('bash', ['-c', 'a=$(sha256sum "$1" | cut -c1-64) & b=$(ssh -F "$2" "$3" sha256sum "$4" | cut -c1-64); wait', 'x', file, node.sshConfigPath, node.sshHosts.root, remote]);
    base.push(b.ms / 1000);
  }
  const ratio = median(ext.map((e, i) => e / base[i]));
  results.figures.unchangedReupload = { extensionSeconds: ext, opensshHashSeconds: base, ratio, localSha256Seconds: localHash, remoteSha256Seconds: remoteHash };
  rows.push(['Unchanged re-upload (120 MiB)', `${fmt(median(ext))} s (local sha256 ${fmt(median(localHash))} beside a stat of the node's copy; hashing it there would take ${fmt(median(remoteHash))})`, `sha256sum + ssh sha256sum ${fmt(median(base))} s`, `${fmt(ratio)}×`, '< 0.5 s', median(ext) < 0.5 ? 'met' : 'MISSED']);
}

/** A plain DAP client over any duplex stream, using the extension's framing (so only the transport differs). */
function streamClient(stream, useBridge) {
  const waiting = new Map();
  const eventWaiters = new Map();
  let seq = 1;
  const onMessage = (m) => {
    if (m.type === 'response') {
      waiting.get(m.request_seq)?.(m);
      waiting.delete(m.request_seq);
    } else if (m.type === 'event') {
      eventWaiters.get(m.event)?.(m);
      eventWaiters.delete(m.event);
    }
  };
  let send;
  if (useBridge) {
    const bridge = new DapBridge(stream, { message: onMessage, closed: () => undefined });
    send = (m) => bridge.send(m);
  } else {
    const reader = new DapMessageReader(onMessage);
    stream.on('data', (c) => reader.push(c));
    send = (m) => stream.write(encodeDapMessage(m));
  }
  return {
    event(name, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${name} event`)), timeoutMs);
        eventWaiters.set(name, (e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
    request(command, args) {
      const s = seq++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no response to ${command}`)), 30_000);
        waiting.set(s, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        send({ seq: s, type: 'request', command, arguments: args });
      });
    },
  };
}

/** One client session: the first one runs the halted kubelet to main.main, so there are goroutines to ask about. */
async function dapRound(stream, useBridge, n, first) {
  const c = streamClient(stream, useBridge);
  await c.request('initialize', { adapterID: 'bench', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  await c.request('attach', { mode: 'remote' });
  if (first) {
    const stopped = c.event('stopped');
    await c.request('setFunctionBreakpoints', { breakpoints: [{ name: 'main.main' }] });
    await c.request('configurationDone');
    await stopped;
  }
  const threads = await c.request('threads');
  const threadId = threads.body?.threads?.[0]?.id ?? 1;
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = i % 2 === 0 ? await c.request('threads') : await c.request('stackTrace', { threadId, startFrame: 0, levels: 1 });
    times.push(performance.now() - t0);
    if (!r.success) {
      throw new Error(`${r.command} failed: ${r.message}`);
    }
  }
  await c.request('disconnect', { terminateDebuggee: false });
  stream.destroy();
  return times;
}

async function waitPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) {
      return;
    }
    await sleep(100);
  }
  throw new Error(`127.0.0.1:${port} did not open`);
}

/**
 * The DAP round trip, round by round: the extension's forwardOut (a root login) against `ssh -L`, and
 * the root relay that a login other than root goes through (`sudo -n bash` with /dev/tcp and cat on
 * an exec channel, src/debug/delveStream.ts) against that forwardOut.
 */
async function benchDap(node, conn) {
  await node.ssh('systemd-run --quiet --collect --unit=krd-bench-dlv dlv exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient /var/lib/kubelet-debug/kubelet -- --config=/var/lib/kubelet/config.yaml');
  await node.ssh('for i in $(seq 100); do ss -Htln "sport = :2345" | grep -q . && exit 0; sleep 0.1; done; exit 1');
  const localPort = 40000 + Math.floor(Math.random() * 2000);
  const tunnel = spawn('ssh', ['-F', node.sshConfigPath, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${localPort}:127.0.0.1:2345`, node.sshHosts.root], { stdio: 'ignore' });
  // The password-less sudo login, as a user who is not root would connect.
  const sudoConn = connect(node, 'sudo');
  try {
    await waitPort(localPort, 10_000);
    await sudoConn.runAsRoot('a root check', ['true']);
    const per = Math.ceil(DAP_REQUESTS / ROUNDS);
    const ext = [];
    const ssh = [];
    const relay = [];
    for (let round = 0; round < ROUNDS; round++) {
      ext.push(...await dapRound(await conn.forwardOut('127.0.0.1', 2345), true, per, round === 0));
      ssh.push(...await dapRound(net.connect(localPort, '127.0.0.1'), false, per, false));
      relay.push(...await dapRound(await openDelveStream(sudoConn, 2345), true, per, false));
      log(`dap round ${round + 1}: extension median ${fmt(median(ext), 3)} ms, ssh -L median ${fmt(median(ssh), 3)} ms, sudo relay median ${fmt(median(relay), 3)} ms`);
    }
    const ratio = median(ext) / median(ssh);
    results.figures.dapRoundTrip = { requests: ext.length, extension: { medianMs: median(ext), p99Ms: percentile(ext, 99) }, sshTunnel: { medianMs: median(ssh), p99Ms: percentile(ssh, 99) }, ratio };
    rows.push([`DAP round trip (${ext.length} threads/stackTrace)`, `median ${fmt(median(ext), 3)} ms, p99 ${fmt(percentile(ext, 99), 3)} ms`, `ssh -L median ${fmt(median(ssh), 3)} ms, p99 ${fmt(percentile(ssh, 99), 3)} ms`, `${fmt(ratio)}×`, '≤ 1.1×', ratio <= 1.1 ? 'met' : 'MISSED']);
    const relayRatio = median(relay) / median(ext);
    results.figures.dapRoundTripSudoRelay = { requests: relay.length, sudoRelay: { medianMs: median(relay), p99Ms: percentile(relay, 99) }, forwardOut: { medianMs: median(ext), p99Ms: percentile(ext, 99) }, ratio: relayRatio };
    rows.push([`DAP round trip, non-root login (${relay.length}, sudo relay)`, `median ${fmt(median(relay), 3)} ms, p99 ${fmt(percentile(relay, 99), 3)} ms`, `forwardOut median ${fmt(median(ext), 3)} ms, p99 ${fmt(percentile(ext, 99), 3)} ms`, `${fmt(relayRatio)}×`, `≤ ${RELAY_TARGET}×`, relayRatio <= RELAY_TARGET ? 'met' : 'MISSED']);
  } finally {
    sudoConn.disconnect();
    tunnel.kill('SIGTERM');
    await node.ssh('systemctl stop krd-bench-dlv; true');
  }
}

/** The extension's flow, as test/e2e/debug.test.ts: launcher, path mapping, proxy, first stop. */
async function extensionFirstStop(node, binary, workspace, hashes) {
  const conn = connect(node);
  const t0 = performance.now();
  const target = await launchKubeletUnderDelve(conn, launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary }, breakAt: ['syncLoop'] }), workspace, testHooks({ graceSeconds: 20 }));
  const tAttach = performance.now();
  let client;
  const proxy = new KubeletDapProxy({
    stream: await target.openStream(),
    target,
    substitutePath: mappingsFor([], workspace, target.sources).mappings,
    stopOnEntry: false,
    log: memoryLogger(),
    toClient: (m) => client.receive(m),
  });
  client = new DapTestClient((m) => proxy.handleClientMessage(m));
  await runToSyncLoop(client, node.sshHosts.root, functionForStage('syncLoop'));
  const t1 = performance.now();
  await client.request('disconnect', { restart: false }, 60_000);
  conn.disconnect();
  await waitRestored(node, hashes, 30_000);
  return { total: (t1 - t0) / 1000, timings: { ...target.timings, attach: (t1 - tAttach) / 1000 } };
}

async function bashFirstStop(node, hashes) {
  const localPort = 42000 + Math.floor(Math.random() * 2000);
  const r = await run('bash', [path.join(ROOT, 'bench/firstStop.sh'), node.sshConfigPath, node.sshHosts.root, String(localPort)], { timeoutMs: 120_000 });
  if (r.code !== 0) {
    throw new Error(`bench/firstStop.sh failed (${r.code}): ${r.stderr}`);
  }
  const total = Number(/^first-stop-seconds=(\S+)$/m.exec(r.stdout)?.[1]);
  await node.ssh('pkill -TERM -x dlv; for i in $(seq 50); do pgrep -x dlv >/dev/null || break; sleep 0.1; done; systemctl start kubelet');
  await waitRestored(node, hashes, 30_000);
  return total;
}

async function benchFirstStop(node, binary, hashes) {
  const workspace = path.join(work, 'kubelet-src');
  const ext = [];
  const bash = [];
  const breakdowns = [];
  for (let round = 0; round < ROUNDS; round++) {
    const e = await extensionFirstStop(node, binary, workspace, hashes);
    ext.push(e.total);
    breakdowns.push(e.timings);
    bash.push(await bashFirstStop(node, hashes));
    log(`first stop round ${round + 1}: extension ${fmt(e.total)} s ${JSON.stringify(e.timings)}, bash+OpenSSH ${fmt(bash.at(-1))} s`);
  }
  const ratio = median(ext.map((e, i) => e / bash[i]));
  const breakdown = Object.fromEntries(Object.keys(breakdowns[0]).map((k) => [k, median(breakdowns.map((b) => b[k] ?? 0))]));
  results.figures.timeToFirstStop = { extensionSeconds: ext, bashOpensshSeconds: bash, ratio, extensionBreakdownMedianSeconds: breakdown };
  rows.push(['Time to first stop in syncLoop (binary unchanged)', `${fmt(median(ext))} s (${Object.entries(breakdown).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`, `bash + OpenSSH ${fmt(median(bash))} s`, `${fmt(ratio)}×`, '≤ 1.2×', ratio <= 1.2 ? 'met' : 'MISSED']);
}

async function benchSize() {
  execFileSync('node', ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // ssh2 sits in its own file beside the activation bundle (loaded on the first connection); count both.
  const activationBundle = statSync(path.join(ROOT, 'dist/extension.js')).size;
  const bundle = activationBundle + statSync(path.join(ROOT, 'dist/ssh2.js')).size;
  execFileSync('npm', ['run', '-s', 'package'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const vsix = statSync(path.join(ROOT, 'dist/kubelet-remote-debug.vsix')).size;
  const activation = [];
  const baseline = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Each measurement in a fresh Node process, so the require cache is cold.
    const a = await run('node', [path.join(ROOT, 'bench/activate.cjs'), path.join(ROOT, 'dist/extension.js')]);
    const b = await run('node', [path.join(ROOT, 'bench/activate.cjs'), '--baseline']);
    if (a.code !== 0 || b.code !== 0) {
      throw new Error(`activation measurement failed: ${a.stderr}${b.stderr}`);
    }
    activation.push(JSON.parse(a.stdout).ms);
    baseline.push(JSON.parse(b.stdout).ms);
  }
  // Back to the development bundle that `npm run build` makes (the production one is only for measuring).
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  results.figures.size = { bundleBytes: bundle, activationBundleBytes: activationBundle, vsixBytes: vsix, activationMs: activation, baselineRequireSsh2Ms: baseline, how: 'plain Node 20, vscode stubbed (bench/activate.cjs), not a real VS Code' };
  rows.push(['Bundle dist/extension.js + ssh2.js (production)', `${fmt(bundle / 1024, 0)} KiB (${fmt(activationBundle / 1024, 0)} KiB loaded at activation)`, '', `${fmt(bundle / 1e6)} of 1 MB`, '< 1 MB', bundle < 1e6 ? 'met' : 'MISSED']);
  rows.push(['.vsix', `${fmt(vsix / 1024, 0)} KiB`, '', '', '', '']);
  rows.push(['Activation (require + activate, stubbed vscode)', `${fmt(median(activation), 1)} ms`, `require('ssh2') alone ${fmt(median(baseline), 1)} ms`, `${fmt(median(activation) / median(baseline))}×`, '< 50 ms', median(activation) < 50 ? 'met' : 'MISSED']);
}

// How to reproduce each figure; CFG/ALIAS are a node's ssh_config and Host alias (see bench/README.md).
const REPRO = {
  'Upload': 'npm run bench; baseline by hand: scp -F CFG FILE ALIAS:/var/lib/kubelet-debug/x',
  'Unchanged re-upload': 'npm run bench; baseline by hand: sha256sum FILE & ssh -F CFG ALIAS sha256sum /var/lib/kubelet-debug/kubelet',
  'DAP round trip': 'npm run bench; baseline tunnel by hand: ssh -F CFG -N -L 127.0.0.1:PORT:127.0.0.1:2345 ALIAS',
  'DAP round trip, non-root login': 'npm run bench (the relay by hand: ssh -F CFG ALIAS-sudo sudo -n bash -c \'exec 3<>/dev/tcp/127.0.0.1/2345; cat <&3 & cat <&0 >&3\')',
  'Time to first stop': 'npm run bench; baseline by hand: bash bench/firstStop.sh CFG ALIAS PORT',
  'Bundle': 'node esbuild.mjs --production && wc -c dist/extension.js dist/ssh2.js',
  '.vsix': 'npm run -s package && wc -c dist/kubelet-remote-debug.vsix',
  'Activation': 'node esbuild.mjs --production && node bench/activate.cjs dist/extension.js',
};

async function main() {
  const started = Date.now();
  log('building the sample kubelet with DBG=1');
  const binary = buildDebugKubelet(path.join(work, 'kubelet-src'));
  const random = path.join(work, 'random.bin');
  padded('/dev/null', random, SIZE);
  const debugPadded = path.join(work, 'kubelet-dbg-padded');
  padded(binary, debugPadded, SIZE);
  log('booting a test node');
  const node = await bootTestNode({ log: () => undefined });
  const conn = connect(node);
  try {
    const hashes = await unitHashes(node);
    await benchUpload(node, conn, [['random', random], ['debug binary', debugPadded]]);
    // The debug binary stays on the node as the "unchanged" one the next figures start from.
    const cached = path.join(work, 'kubelet-cached');
    cpSync(debugPadded, cached);
    await benchUnchanged(node, conn, cached);
    await benchDap(node, conn);
    conn.disconnect();
    await benchFirstStop(node, cached, hashes);
    await benchSize();
  } finally {
    conn.disconnect();
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nKubelet Remote Debug bench${quick ? ' (--quick)' : ''}: ${ROUNDS} rounds A/B alternating, medians, ${fmt(results.seconds, 0)} s\n`);
  printTable(['Figure', 'Extension', 'Baseline (same run)', 'Ratio', 'Target', ''], rows);
  console.log('\nReproduce:');
  for (const [k, v] of Object.entries(REPRO)) {
    console.log(`  ${k}: ${v}`);
  }
  console.log('\nWrote bench/results.json');
  updateReadme('performance', [
    `\`npm run bench\`${quick ? ' --quick' : ''} on ${new Date(started).toISOString().slice(0, 10)}: ${ROUNDS} rounds, extension and baseline alternating, medians, ${fmt(results.seconds, 0)} s on this 2-core machine.`,
    '',
    tableText(['Figure', 'Extension', 'Baseline (same run)', 'Ratio', 'Target', ''], rows),
    '',
    'Reproduce:',
    '',
    ...Object.entries(REPRO).map(([k, v]) => {
      const baseline = /^npm run bench; baseline (?:tunnel )?by hand: (.*)$/.exec(v);
      return baseline ? `- ${k}: \`npm run bench\`; the baseline by hand: \`${baseline[1]}\`` : `- ${k}: \`${v}\``;
    }),
  ].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
