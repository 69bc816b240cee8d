// `npm run bench`: the extension's upload, DAP round trip, time to first stop and size, each measured
// against an OpenSSH baseline in the same run (A/B alternating, medians) on test nodes it boots: the
// sample kubelet's, and a real Kubernetes v1.20.2 node with its 153 MB debug kubelet. Prints a table and
// writes bench/results.json. `--quick` for fewer rounds, `--no-real` / `--real-only`; see bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ROOT,
  buildDebugKubelet,
  ensureBuilt,
  fmt,
  median,
  out,
  percentile,
  printTable,
  run,
  tableText,
  updateReadme,
  runToSyncLoop,
  sleep,
  unitHashes,
  waitRestored,
} from './lib.mjs';
import { benchOpensshTransport } from './opensshTransport.mjs';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
// The real kubelet's figures are noisier (seconds of Delve load and kubelet start-up): never fewer than 3 rounds.
const REAL_ROUNDS = quick ? 3 : 5;
const withReal = !process.argv.includes('--no-real');
const realOnly = process.argv.includes('--real-only');
if (realOnly && (!withReal || process.argv.includes('--readme'))) {
  throw new Error('--real-only measures part of the table: it goes with neither --no-real nor --readme.');
}
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
const { DEFAULT_DELVE_START_TIMEOUT_SECONDS, launchKubeletUnderDelve } = out('src/debug/kubeletLauncher');
const { mappingsFor } = out('src/debug/pathMapping');
const { openDelveStream } = out('src/debug/delveStream');
const { functionForStage } = out('src/debug/startupStages');
const { DapTestClient } = out('test/support/dapClient');
const { memoryLogger } = out('test/support/nodeClient');
const { podState, realKubernetes } = out('test/support/realKubernetes');

const results = { quick, rounds: ROUNDS, realRounds: withReal ? REAL_ROUNDS : 0, date: new Date().toISOString(), figures: {} };
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
export function touchByte(file) {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(1), 0, 1, statSync(file).size - 1);
  closeSync(fd);
}

async function benchUpload(node, conn, files, rounds = ROUNDS) {
  const cfg = node.sshConfigPath;
  const alias = node.sshHosts.root;
  await node.ssh('mkdir -p /var/lib/kubelet-debug');
  for (const [label, file] of files) {
    const ext = [];
    const extTransfer = [];
    const scp = [];
    for (let round = 0; round < rounds; round++) {
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
    results.figures[`upload_${label}`] = {
      extensionSeconds: ext,
      extensionTransferPhaseSeconds: extTransfer,
      scpSeconds: scp,
      megabytes: mb,
      speedupVsScp: median(ratios),
    };
    rows.push([
      `Upload ${label} (${fmt(mib, 0)} MiB)`,
      `${fmt(mb / median(ext), 0)} MB/s (${fmt(median(ext))} s; transfer phase ${fmt(mb / median(extTransfer), 0)} MB/s)`,
      `scp ${fmt(mb / median(scp), 0)} MB/s (${fmt(median(scp))} s)`,
      `${fmt(median(ratios))}× scp's speed`,
      'faster than scp',
      median(ratios) > 1 ? 'met' : 'MISSED',
    ]);
  }
  await node.ssh('rm -f /var/lib/kubelet-debug/bench-ext /var/lib/kubelet-debug/bench-scp');
}

/** `real`: the real debug kubelet, whose row is judged by its ratio (its local SHA-256 alone takes about 0.5 s). */
async function benchUnchanged(node, conn, file, real = false) {
  const remote = '/var/lib/kubelet-debug/kubelet';
  await uploadBinary(conn, file, remote);
  const ext = [];
  const base = [];
  const localHash = [];
  const remoteHash = [];
  for (let round = 0; round < (real ? REAL_ROUNDS : ROUNDS); round++) {
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
    const b = await run('bash', [
      '-c',
      'a=$(sha256sum "$1" | cut -c1-64) & b=$(ssh -F "$2" "$3" sha256sum "$4" | cut -c1-64); wait',
      'x',
      file,
      node.sshConfigPath,
      node.sshHosts.root,
      remote,
    ]);
    base.push(b.ms / 1000);
  }
  const ratio = median(ext.map((e, i) => e / base[i]));
  results.figures[real ? 'unchangedReuploadReal' : 'unchangedReupload'] = {
    extensionSeconds: ext,
    opensshHashSeconds: base,
    ratio,
    localSha256Seconds: localHash,
    remoteSha256Seconds: remoteHash,
  };
  const [what, target, met] = real
    ? [
        `Unchanged re-upload, real debug kubelet (${fmt(statSync(file).size / 1024 / 1024, 0)} MiB)`,
        '< 1× (faster than hashing)',
        ratio < 1,
      ]
    : ['Unchanged re-upload (120 MiB)', '< 0.5 s', median(ext) < 0.5];
  rows.push([
    what,
    `${fmt(median(ext))} s (local sha256 ${fmt(median(localHash))} beside a stat of the node's copy; hashing it there would take ${fmt(median(remoteHash))})`,
    `sha256sum + ssh sha256sum ${fmt(median(base))} s`,
    `${fmt(ratio)}×`,
    target,
    met ? 'met' : 'MISSED',
  ]);
}

/** A plain DAP client over any duplex stream, using the extension's framing (so only the transport differs). */
export function streamClient(stream, useBridge) {
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
export async function dapRound(stream, useBridge, n, first) {
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

export async function waitPort(port, timeoutMs) {
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
  await node.ssh(
    'systemd-run --quiet --collect --unit=krd-bench-dlv dlv exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient /var/lib/kubelet-debug/kubelet -- --config=/var/lib/kubelet/config.yaml',
  );
  await node.ssh('for i in $(seq 100); do ss -Htln "sport = :2345" | grep -q . && exit 0; sleep 0.1; done; exit 1');
  const localPort = 40000 + Math.floor(Math.random() * 2000);
  const tunnel = spawn(
    'ssh',
    ['-F', node.sshConfigPath, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${localPort}:127.0.0.1:2345`, node.sshHosts.root],
    { stdio: 'ignore' },
  );
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
      ext.push(...(await dapRound(await conn.forwardOut('127.0.0.1', 2345), true, per, round === 0)));
      ssh.push(...(await dapRound(net.connect(localPort, '127.0.0.1'), false, per, false)));
      relay.push(...(await dapRound(await openDelveStream(sudoConn, 2345), true, per, false)));
      log(
        `dap round ${round + 1}: extension median ${fmt(median(ext), 3)} ms, ssh -L median ${fmt(median(ssh), 3)} ms, sudo relay median ${fmt(median(relay), 3)} ms`,
      );
    }
    const ratio = median(ext) / median(ssh);
    results.figures.dapRoundTrip = {
      requests: ext.length,
      extension: { medianMs: median(ext), p99Ms: percentile(ext, 99) },
      sshTunnel: { medianMs: median(ssh), p99Ms: percentile(ssh, 99) },
      ratio,
    };
    rows.push([
      `DAP round trip (${ext.length} threads/stackTrace)`,
      `median ${fmt(median(ext), 3)} ms, p99 ${fmt(percentile(ext, 99), 3)} ms`,
      `ssh -L median ${fmt(median(ssh), 3)} ms, p99 ${fmt(percentile(ssh, 99), 3)} ms`,
      `${fmt(ratio)}×`,
      '≤ 1.1×',
      ratio <= 1.1 ? 'met' : 'MISSED',
    ]);
    const relayRatio = median(relay) / median(ext);
    results.figures.dapRoundTripSudoRelay = {
      requests: relay.length,
      sudoRelay: { medianMs: median(relay), p99Ms: percentile(relay, 99) },
      forwardOut: { medianMs: median(ext), p99Ms: percentile(ext, 99) },
      ratio: relayRatio,
    };
    rows.push([
      `DAP round trip, non-root login (${relay.length}, sudo relay)`,
      `median ${fmt(median(relay), 3)} ms, p99 ${fmt(percentile(relay, 99), 3)} ms`,
      `forwardOut median ${fmt(median(ext), 3)} ms, p99 ${fmt(percentile(ext, 99), 3)} ms`,
      `${fmt(relayRatio)}×`,
      `≤ ${RELAY_TARGET}×`,
      relayRatio <= RELAY_TARGET ? 'met' : 'MISSED',
    ]);
  } finally {
    sudoConn.disconnect();
    tunnel.kill('SIGTERM');
    await node.ssh('systemctl stop krd-bench-dlv; true');
  }
}

/**
 * A real kubelet in its first seconds takes about 5 s to stop (it handles SIGTERM, and is still in its
 * cloud credential lookup), which no user sees: wait until the running kubelet is 10 s old.
 */
export async function settleKubelet(node) {
  const r = await node.ssh(
    'for i in $(seq 300); do [ "$(ps -o etimes= -p "$(systemctl show -p MainPID --value kubelet)" 2>/dev/null || echo 0)" -ge 10 ] && exit 0; sleep 0.1; done; exit 1',
  );
  if (r.code !== 0) {
    throw new Error(`the kubelet on ${node.name} did not run for 10 s in a row within 30 s`);
  }
}

/** After a round on the real node: every container and its task's PID as before (no workload restarted). */
export async function expectPods(node, before, what) {
  const now = await podState(node);
  if (now !== before) {
    throw new Error(`${what} changed the pods on ${node.name}:\nbefore:\n${before}\nafter:\n${now}`);
  }
}

/**
 * The extension's flow, as test/e2e/debug.test.ts: launcher, path mapping, proxy, first stop, with the
 * lease renewed as the extension does. The breakdown adds attach (launcher's return to the stop, minus the
 * kubelet's start-up) and the kubelet's start-up (configurationDone to the stop).
 */
export async function extensionFirstStop(node, binary, workspace, hashes) {
  const conn = connect(node);
  const t0 = performance.now();
  const target = await launchKubeletUnderDelve(
    conn,
    launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary }, breakAt: ['syncLoop'] }),
    workspace,
    testHooks({ graceSeconds: 20 }),
  );
  const lease = setInterval(() => target.renewLease().catch(() => undefined), 5000);
  const tAttach = performance.now();
  let client;
  let startup = NaN;
  const proxy = new KubeletDapProxy({
    stream: await target.openStream(),
    target,
    substitutePath: mappingsFor([], workspace, target.sources).mappings,
    stopOnEntry: false,
    log: memoryLogger(),
    toClient: (m) => client.receive(m),
    onFirstStop: (seconds) => (startup = seconds),
  });
  client = new DapTestClient((m) => proxy.handleClientMessage(m));
  try {
    await runToSyncLoop(client, node.sshHosts.root, functionForStage('syncLoop', target.functions));
  } finally {
    clearInterval(lease);
  }
  const t1 = performance.now();
  await client.request('disconnect', { restart: false }, 60_000);
  conn.disconnect();
  await waitRestored(node, hashes, 30_000);
  return { total: (t1 - t0) / 1000, timings: { ...target.timings, attach: (t1 - tAttach) / 1000 - startup, 'kubelet start-up': startup } };
}

export async function bashFirstStop(node, hashes) {
  const localPort = 42000 + Math.floor(Math.random() * 2000);
  const r = await run('bash', [path.join(ROOT, 'bench/firstStop.sh'), node.sshConfigPath, node.sshHosts.root, String(localPort)], {
    timeoutMs: 120_000,
  });
  if (r.code !== 0) {
    throw new Error(`bench/firstStop.sh failed (${r.code}): ${r.stderr}`);
  }
  const total = Number(/^first-stop-seconds=(\S+)$/m.exec(r.stdout)?.[1]);
  await node.ssh('pkill -TERM -x dlv; for i in $(seq 50); do pgrep -x dlv >/dev/null || break; sleep 0.1; done; systemctl start kubelet');
  await waitRestored(node, hashes, 30_000);
  return total;
}

/** `real`: the real node, where each round starts from a settled kubelet and must leave the pods as they were. */
async function benchFirstStop(node, binary, workspace, hashes, real = false) {
  const pods = real ? await podState(node) : undefined;
  const ext = [];
  const bash = [];
  const breakdowns = [];
  for (let round = 0; round < (real ? REAL_ROUNDS : ROUNDS); round++) {
    if (real) {
      await settleKubelet(node);
    }
    const e = await extensionFirstStop(node, binary, workspace, hashes);
    ext.push(e.total);
    breakdowns.push(e.timings);
    if (real) {
      await expectPods(node, pods, 'a debug session');
      await settleKubelet(node);
    }
    bash.push(await bashFirstStop(node, hashes));
    if (real) {
      await expectPods(node, pods, 'bench/firstStop.sh');
    }
    log(
      `first stop${real ? ' (real)' : ''} round ${round + 1}: extension ${fmt(e.total)} s ${JSON.stringify(e.timings)}, bash+OpenSSH ${fmt(bash.at(-1))} s`,
    );
  }
  const ratio = median(ext.map((e, i) => e / bash[i]));
  const breakdown = Object.fromEntries(Object.keys(breakdowns[0]).map((k) => [k, median(breakdowns.map((b) => b[k] ?? 0))]));
  results.figures[real ? 'timeToFirstStopReal' : 'timeToFirstStop'] = {
    extensionSeconds: ext,
    bashOpensshSeconds: bash,
    ratio,
    extensionBreakdownMedianSeconds: breakdown,
  };
  const what = real
    ? 'Time to first stop in syncLoop, real v1.20.2 kubelet (binary unchanged)'
    : 'Time to first stop in syncLoop (binary unchanged)';
  rows.push([
    what,
    `${fmt(median(ext))} s (${Object.entries(breakdown)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')})`,
    `bash + OpenSSH ${fmt(median(bash))} s`,
    `${fmt(ratio)}×`,
    '≤ 1.2×',
    ratio <= 1.2 ? 'met' : 'MISSED',
  ]);
}

/** One run of bench/delveStartup.sh: seconds from the unit's restart until Delve listened and answered. */
async function delveStartupOnce(node, remoteBinary, hashes) {
  const r = await run('bash', [path.join(ROOT, 'bench/delveStartup.sh'), node.sshConfigPath, node.sshHosts.root, remoteBinary], {
    timeoutMs: 180_000,
  });
  if (r.code !== 0) {
    throw new Error(`bench/delveStartup.sh failed on ${node.name} (${r.code}): ${r.stderr}`);
  }
  await waitRestored(node, hashes, 30_000);
  const ms = (k) => Number(new RegExp(`^delve-${k}-ms=(\\d+)$`, 'm').exec(r.stdout)?.[1]) / 1000;
  return { listen: ms('listen'), answer: ms('answer') };
}

/** Delve's start-up: the real 153 MB debug kubelet on the real node against the sample's on the sample node, alternating. */
async function benchDelveStartup(real, sample) {
  const pods = await podState(real.node);
  const r = [];
  const s = [];
  for (let round = 0; round < REAL_ROUNDS; round++) {
    await settleKubelet(real.node);
    r.push(await delveStartupOnce(real.node, '/var/lib/kubelet-debug/kubelet', real.hashes));
    await expectPods(real.node, pods, 'bench/delveStartup.sh');
    s.push(await delveStartupOnce(sample.node, '/var/lib/kubelet-debug/kubelet', sample.hashes));
    log(`Delve start-up round ${round + 1}: real ${JSON.stringify(r.at(-1))}, sample ${JSON.stringify(s.at(-1))}`);
  }
  const ratio = median(r.map((x, i) => x.answer / s[i].answer));
  const limit = DEFAULT_DELVE_START_TIMEOUT_SECONDS;
  const worst = Math.max(...r.map((x) => x.answer));
  results.figures.delveStartup = {
    realSeconds: r,
    sampleSeconds: s,
    realMegabytes: real.megabytes,
    sampleMegabytes: sample.megabytes,
    ratio,
    launcherLimitSeconds: limit,
  };
  rows.push([
    `Delve start-up, unit restart → answers: real debug kubelet (${fmt(real.megabytes, 0)} MB) vs sample (${fmt(sample.megabytes, 0)} MB)`,
    `${fmt(median(r.map((x) => x.answer)))} s (listening after ${fmt(median(r.map((x) => x.listen)))} s; slowest ${fmt(worst)} s)`,
    `sample ${fmt(median(s.map((x) => x.answer)))} s (listening after ${fmt(median(s.map((x) => x.listen)))} s)`,
    `${fmt(ratio)}× the sample's`,
    `< ${limit} s (the launcher's limit)`,
    worst < limit ? 'met' : 'MISSED',
  ]);
}

/** The real Kubernetes v1.20.2 rows, on a real node booted for them; the sample node gives Delve start-up's baseline. */
async function benchReal(sample) {
  const k8s = realKubernetes();
  log('booting a real Kubernetes v1.20.2 node');
  const node = await bootTestNode({ kind: 'real', log: () => undefined });
  const conn = connect(node);
  try {
    const hashes = await unitHashes(node);
    // A copy to change a byte of per round; the cached build itself stays untouched.
    const copy = path.join(work, 'kubelet-real-debug');
    cpSync(k8s.debugKubelet, copy);
    await benchUpload(node, conn, [['real debug kubelet', copy]], REAL_ROUNDS);
    rmSync(copy);
    await benchUnchanged(node, conn, k8s.debugKubelet, true);
    conn.disconnect();
    await benchFirstStop(node, k8s.debugKubelet, k8s.src, hashes, true);
    // The sample node's Delve starts its plain debug kubelet (no padding), as the real node's does.
    const sampleConn = connect(sample.node);
    await uploadBinary(sampleConn, sample.binary, '/var/lib/kubelet-debug/kubelet');
    sampleConn.disconnect();
    await benchDelveStartup(
      { node, hashes, megabytes: statSync(k8s.debugKubelet).size / 1e6 },
      { ...sample, megabytes: statSync(sample.binary).size / 1e6 },
    );
  } finally {
    conn.disconnect();
    await node.stop();
  }
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
  results.figures.size = {
    bundleBytes: bundle,
    activationBundleBytes: activationBundle,
    vsixBytes: vsix,
    activationMs: activation,
    baselineRequireSsh2Ms: baseline,
    how: 'plain Node 20, vscode stubbed (bench/activate.cjs), not a real VS Code',
  };
  rows.push([
    'Bundle dist/extension.js + ssh2.js (production)',
    `${fmt(bundle / 1024, 0)} KiB (${fmt(activationBundle / 1024, 0)} KiB loaded at activation)`,
    '',
    `${fmt(bundle / 1e6)} of 1 MB`,
    '< 1 MB',
    bundle < 1e6 ? 'met' : 'MISSED',
  ]);
  rows.push(['.vsix', `${fmt(vsix / 1024, 0)} KiB`, '', '', '', '']);
  rows.push([
    'Activation (require + activate, stubbed vscode)',
    `${fmt(median(activation), 1)} ms`,
    `require('ssh2') alone ${fmt(median(baseline), 1)} ms`,
    `${fmt(median(activation) / median(baseline))}×`,
    '< 50 ms',
    median(activation) < 50 ? 'met' : 'MISSED',
  ]);
}

// How to reproduce each figure; CFG/ALIAS are a node's ssh_config and Host alias (see bench/README.md).
const REPRO = {
  Upload: 'npm run bench; baseline by hand: scp -F CFG FILE ALIAS:/var/lib/kubelet-debug/x',
  'Unchanged re-upload': 'npm run bench; baseline by hand: sha256sum FILE & ssh -F CFG ALIAS sha256sum /var/lib/kubelet-debug/kubelet',
  'DAP round trip': 'npm run bench; baseline tunnel by hand: ssh -F CFG -N -L 127.0.0.1:PORT:127.0.0.1:2345 ALIAS',
  'DAP round trip, non-root login':
    "npm run bench (the relay by hand: ssh -F CFG ALIAS-sudo sudo -n bash -c 'exec 3<>/dev/tcp/127.0.0.1/2345; cat <&3 & cat <&0 >&3')",
  'Time to first stop': 'npm run bench; baseline by hand: bash bench/firstStop.sh CFG ALIAS PORT',
  'Delve start-up': 'npm run bench; by hand: bash bench/delveStartup.sh CFG ALIAS /var/lib/kubelet-debug/kubelet',
  Bundle: 'node esbuild.mjs --production && wc -c dist/extension.js dist/ssh2.js',
  '.vsix': 'npm run -s package && wc -c dist/kubelet-remote-debug.vsix',
  Activation: 'node esbuild.mjs --production && node bench/activate.cjs dist/extension.js',
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
    if (!realOnly) {
      await benchUpload(node, conn, [
        ['random', random],
        ['debug binary', debugPadded],
      ]);
      // The debug binary stays on the node as the "unchanged" one the next figures start from.
      const cached = path.join(work, 'kubelet-cached');
      cpSync(debugPadded, cached);
      await benchUnchanged(node, conn, cached);
      await benchDap(node, conn);
      await benchOpensshTransport({ node, file: debugPadded, rounds: ROUNDS, dapRequests: DAP_REQUESTS, dapRound, rows, results, log });
      conn.disconnect();
      await benchFirstStop(node, cached, path.join(work, 'kubelet-src'), hashes);
    }
    conn.disconnect();
    if (withReal) {
      await benchReal({ node, hashes, binary });
    }
    if (!realOnly) {
      await benchSize();
    }
  } finally {
    conn.disconnect();
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
  results.seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(ROOT, 'bench/results.json'), JSON.stringify(results, null, 2) + '\n');
  const roundsText = `${ROUNDS} rounds${withReal ? ` (${REAL_ROUNDS} on the real kubelet)` : ''}`;
  console.log(
    `\nKubelet Remote Debug bench${quick ? ' (--quick)' : ''}: ${roundsText} A/B alternating, medians, ${fmt(results.seconds, 0)} s\n`,
  );
  printTable(['Figure', 'Extension', 'Baseline (same run)', 'Ratio', 'Target', ''], rows);
  console.log('\nReproduce:');
  for (const [k, v] of Object.entries(REPRO)) {
    console.log(`  ${k}: ${v}`);
  }
  console.log('\nWrote bench/results.json');
  updateReadme(
    'performance',
    [
      `\`npm run bench\`${quick ? ' --quick' : ''} on ${new Date(started).toISOString().slice(0, 10)}: ${roundsText}, extension and baseline alternating, medians, ${fmt(results.seconds, 0)} s on this 2-core machine.`,
      '',
      tableText(['Figure', 'Extension', 'Baseline (same run)', 'Ratio', 'Target', ''], rows),
      '',
      'Reproduce:',
      '',
      ...Object.entries(REPRO).map(([k, v]) => {
        const byHand = /^npm run bench; (baseline (?:tunnel )?)?by hand: (.*)$/.exec(v);
        return byHand ? `- ${k}: \`npm run bench\`; ${byHand[1] ? 'the baseline ' : ''}by hand: \`${byHand[2]}\`` : `- ${k}: \`${v}\``;
      }),
    ].join('\n'),
  );
}

// --link PROFILE: the figures over an emulated link (bench/link.mjs), instead of the loopback table.
const linkAt = process.argv.indexOf('--link');
(linkAt >= 0 ? import('./link.mjs').then((m) => m.linkMain(process.argv[linkAt + 1])) : main()).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
