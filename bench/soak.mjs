// `npm run soak`: fault trials, hostile input and debug sessions in a row against a test node, and the
// fault trials again on a real Kubernetes v1.20.2 node (its pods must not notice), each checked with
// OpenSSH (kubelet back, unit files unchanged, nothing left). Prints `N passed, N failed`.
// Flags (--trials, --real-trials, --real-grace, --faults, --real-only, --sessions, --hostile, --grace, --node-dir, --no-build, --known-bugs): bench/README.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isAlive } from '../test/vscode/lib/processes.mjs';
import {
  ROOT,
  argValue,
  buildDebugKubelet,
  ensureBuilt,
  fmt,
  nodeProblems,
  out,
  printTable,
  runToSyncLoop,
  tableText,
  updateReadme,
  sleep,
  unitHashes,
  waitRestored,
} from './lib.mjs';

const TRIALS = argValue('--trials', 10);
const SESSIONS = argValue('--sessions', 50);
const HOSTILE = argValue('--hostile', 240);
const GRACE = argValue('--grace', 6);
// The real node's grace is the extension's default: a 6 s grace does not hold its 153 MB Delve load
// (2.6-5.2 s here, with the launcher's keep-alive every 4 s) plus a first renewal; see bench/README.md.
const REAL_GRACE = argValue('--real-grace', 20);
const SAVES = argValue('--saves', 20);
const REBOOTS = argValue('--reboots', 10);
const REAL_TRIALS = argValue('--real-trials', 3);
const REAL_ONLY = process.argv.includes('--real-only');
const stringArg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const NODE_DIR = stringArg('--node-dir');
// --faults vscode,sshd,delve: which fault kinds to try (all three by default).
const FAULT_KINDS = { vscode: 'connection destroyed', sshd: 'sshd killed', delve: 'Delve killed' };
const FAULTS = (stringArg('--faults') ?? Object.keys(FAULT_KINDS).join(',')).split(',').map((k) => {
  if (!FAULT_KINDS[k]) {
    throw new Error(`--faults takes a comma-separated list of ${Object.keys(FAULT_KINDS).join(', ')}; not "${k}"`);
  }
  return FAULT_KINDS[k];
});
const log = (...a) => console.error('[soak]', ...a);

if (!process.argv.includes('--no-build')) {
  ensureBuilt(log);
}
const { bootTestNode } = out('test/node/testNode');
const { connect, memoryLogger } = out('test/support/nodeClient');
const { launchConfig, testHooks } = out('test/support/launchHooks');
const { hostileWords } = out('test/support/hostileInput');
const { DapTestClient } = out('test/support/dapClient');
const { KubeletDapProxy } = out('src/debug/dapProxy');
const { openDelveStream } = out('src/debug/delveStream');
const { launchKubeletUnderDelve } = out('src/debug/kubeletLauncher');
const { functionForStage } = out('src/debug/startupStages');
const { parseHostSpec } = out('src/ssh/sshConfig');
const { checkUnitName } = out('src/systemd/unitStatus');
const { buildDebugDropIn } = out('src/debug/debugDropIn');
const { remoteSha256 } = out('src/node/upload');
const { UserError } = out('src/common/errors');
const { podState, realKubernetes } = out('test/support/realKubernetes');

let passed = 0;
let failed = 0;
let knownBugs = 0;
const failures = [];
const summary = [];
// With --known-bugs, checks that fail only because of the bugs listed in bench/README.md are reported
// as "known bug" instead of failing (the e2e suite uses this until they are fixed).
const KNOWN_BUGS_PENDING = process.argv.includes('--known-bugs');

function record(name, ok, detail = '', bug = undefined) {
  if (ok) {
    passed++;
  } else if (bug && KNOWN_BUGS_PENDING) {
    knownBugs++;
    console.log(`  ! ${name} (known bug: ${bug}) ${detail}`);
    return;
  } else {
    failed++;
    failures.push(`${name}: ${detail}${bug ? ` [bug: ${bug}]` : ''}`);
  }
  console.log(`  ${ok ? '✓' : '✗'} ${name}${detail ? ` (${detail})` : ''}`);
}

/** A node from an existing state dir (node.json), with the same ssh() as the harness's TestNode. */
function existingNode(dir) {
  const info = JSON.parse(readFileSync(path.join(dir, 'node.json'), 'utf8'));
  const ssh = (command) =>
    new Promise((resolve, reject) => {
      const child = spawn('ssh', ['-F', info.sshConfigPath, '-o', 'BatchMode=yes', info.sshHosts.root, command], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 255 }));
    });
  return { ...info, stateDir: dir, ssh, stop: async () => undefined };
}

/** Launch + proxy + first stop in syncLoop, renewing the lease as the extension does. */
async function startSession(node, conn, binary, workspace, grace = GRACE) {
  const target = await launchKubeletUnderDelve(
    conn,
    launchConfig({ host: node.sshHosts.root, build: { where: 'none', binary }, breakAt: ['syncLoop'] }),
    workspace,
    testHooks({ graceSeconds: grace }),
  );
  let leaseTimer = setInterval(() => target.renewLease().catch(() => undefined), Math.min(2000, (grace * 1000) / 3));
  const stopLease = () => {
    clearInterval(leaseTimer);
    leaseTimer = undefined;
  };
  const stream = await openDelveStream(conn, target.port);
  let client;
  let resolveFinished;
  const finished = new Promise((r) => (resolveFinished = r));
  const proxy = new KubeletDapProxy({
    stream,
    target,
    substitutePath: [],
    stopOnEntry: false,
    log: memoryLogger(),
    toClient: (m) => client.receive(m),
    onFinished: (o) => {
      stopLease();
      resolveFinished(o);
    },
  });
  client = new DapTestClient((m) => proxy.handleClientMessage(m));
  try {
    // A session that ends before its first stop (its lease ran out, Delve died) fails at once, not after 60 s.
    // Both are marked handled: the loser of the race rejects later (or, for endedEarly, at every session's end).
    const firstStop = runToSyncLoop(client, node.sshHosts.root, functionForStage('syncLoop', target.functions));
    const endedEarly = finished.then((o) => {
      throw new Error(`the session ended before the first stop: ${o.message}`);
    });
    firstStop.catch(() => undefined);
    endedEarly.catch(() => undefined);
    await Promise.race([firstStop, endedEarly]);
  } catch (err) {
    console.error(client.transcript.join('\n'));
    await proxy.dispose();
    stopLease();
    throw err;
  }
  return { target, proxy, client, stream, stopLease, finished };
}

const withTimeout = (p, ms, what) =>
  Promise.race([
    p,
    sleep(ms).then(() => {
      throw new Error(`${what} did not finish within ${ms / 1000} s`);
    }),
  ]);

const KILL_OWN_SSHD = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';

/**
 * One fault trial; returns the seconds from the fault until the node was restored. With `pods` (the
 * real node), every container and its task's PID must also be as before: the kubelet's restarts may not
 * restart a workload.
 */
async function faultTrial(node, kind, name, binary, workspace, hashes, pods, grace) {
  const conn = connect(node);
  const s = await startSession(node, conn, binary, workspace, grace);
  let t0;
  try {
    if (kind === 'connection destroyed') {
      // As if VS Code were killed: nothing of ours reacts any more, the TCP connection just ends.
      s.stopLease();
      s.stream.removeAllListeners();
      s.stream.on('error', () => undefined);
      const client = await conn.client();
      t0 = performance.now();
      client.destroy();
    } else if (kind === 'sshd killed') {
      // A network cut seen from the node: the connection's own sshd dies; the extension lives on.
      t0 = performance.now();
      await conn.exec(['/bin/sh', '-c', KILL_OWN_SSHD]).catch(() => undefined);
    } else {
      t0 = performance.now();
      await node.ssh('pkill -KILL -x dlv');
    }
    const seconds = await waitRestored(node, hashes, (grace + 20) * 1000, t0);
    if (pods !== undefined) {
      const now = await podState(node);
      record(`${name}: the pods kept their containers and PIDs`, now === pods, now === pods ? '' : `before:\n${pods}\nafter:\n${now}`);
    }
    if (kind !== 'connection destroyed') {
      // The extension is alive here: its session must end by itself (terminated to VS Code, node restored).
      const ended = await Promise.race([s.finished.then(() => true), sleep(3000).then(() => false)]);
      record(
        `${name}: the debug session ended by itself`,
        ended,
        ended ? '' : 'no terminated/restore 3 s after the node was restored',
        kind === 'Delve killed' ? 'bridge-ignores-end' : undefined,
      );
      if (!ended) {
        // Let the stale proxy finish now, before the next trial arms the node again.
        s.stream.destroy();
        await withTimeout(s.finished, 30_000, "the proxy's restore");
        await waitRestored(node, hashes, 30_000);
      }
    }
    return seconds;
  } finally {
    s.stopLease();
    conn.disconnect();
  }
}

/**
 * `real`: the real node, its pods' state before the trials. Its restore times are reported, not judged:
 * the real kubelet's stop under Delve and its start-up vary by seconds on a shared machine.
 */
async function faultTrials(node, binary, workspace, hashes, trials, real = undefined) {
  for (const kind of FAULTS) {
    const times = [];
    let restored = 0;
    let leaks = 0;
    for (let i = 0; i < trials; i++) {
      const name = `${real ? 'real node: ' : ''}${kind} #${i + 1}`;
      try {
        const seconds = await faultTrial(node, kind, name, binary, workspace, hashes, real?.pods, real ? REAL_GRACE : GRACE);
        times.push(seconds);
        restored++;
        // The guard restores after GRACE s without a lease renewal, checking every second; then a restart.
        const limit = GRACE + 5;
        record(`${name}: restored in ${fmt(seconds, 1)} s`, real || seconds <= limit, real || seconds <= limit ? '' : `over ${limit} s`);
      } catch (err) {
        leaks++;
        // What systemd did in the last minute (the units' own lines, not the kubelet's log), to tell why.
        const said = (
          await node.ssh(
            'journalctl --no-pager -o short-precise --since=-60s -u kubelet -u "krd-guard-*" | grep -E "systemd\\[1\\]|sh\\[[0-9]+\\]|dlv|panic|fatal" | tail -n 25; true',
          )
        ).stdout;
        record(name, false, `${err.message}\n${said}`);
        await restoreByHand(node);
      }
    }
    summary.push([
      `fault${real ? ' on the real v1.20.2 node' : ''}: ${kind}`,
      trials,
      restored,
      times.length ? `${fmt(Math.max(...times), 1)} s` : '-',
      leaks,
    ]);
  }
}

/** The fault trials on a real Kubernetes v1.20.2 node (containerd, a static pod) with its 153 MB debug kubelet. */
async function realFaultTrials() {
  const k8s = realKubernetes();
  const t0 = Date.now();
  const node = await bootTestNode({ kind: 'real', log: () => undefined });
  log(`booted a real Kubernetes v1.20.2 node: ${fmt((Date.now() - t0) / 1000, 1)} s`);
  try {
    const hashes = await unitHashes(node);
    const before = await nodeProblems(node, hashes);
    if (before !== '') {
      throw new Error(`the real node is not clean before its trials: ${before}`);
    }
    const pods = await podState(node);
    if (!/RUNNING/.test(pods)) {
      throw new Error(`the real node runs no pod to watch: ${pods}`);
    }
    await faultTrials(node, k8s.debugKubelet, k8s.src, hashes, REAL_TRIALS, { pods });
    const after = await nodeProblems(node, hashes);
    record('the real node is as it was at the end', after === '', after);
  } finally {
    await node.stop();
  }
}

/** After a failed trial: put the node back so the next trial starts clean (and report that we had to). */
async function restoreByHand(node) {
  await node.ssh(
    'systemctl stop "krd-guard-*" 2>/dev/null; pkill -KILL -x dlv; rm -rf /run/systemd/system/kubelet.service.d/99-kubelet-remote-debug.conf /run/kubelet-remote-debug/kubelet.service; systemctl daemon-reload; systemctl restart kubelet; find /var/lib/kubelet-debug -mindepth 1 ! -name kubelet ! -name "*.krd-sha256" -delete 2>/dev/null; true',
  );
}

async function sessionsInARow(node, binary, workspace, hashes) {
  const conn = connect(node);
  let ok = 0;
  let leaks = 0;
  let maxRestore = 0;
  let heapStart;
  // npm run soak starts plain node: turn on gc() here rather than needing --expose-gc.
  v8.setFlagsFromString('--expose-gc');
  const gc = globalThis.gc ?? runInNewContext('gc');
  try {
    for (let i = 0; i < SESSIONS; i++) {
      try {
        const s = await startSession(node, conn, binary, workspace);
        const t0 = performance.now();
        const answered = s.client.request('disconnect', { restart: false }, 120_000);
        if (!(await Promise.race([answered.then(() => true), sleep(15_000).then(() => false)]))) {
          // Seen about once in 25-50 sessions: the restore's `systemctl restart` waits for Delve, which
          // ignores SIGTERM, until systemd's TimeoutStopSec (90 s). Record it, then unblock it.
          const diag = (await node.ssh('systemctl list-jobs --no-legend; ps -o stat=,args= -C dlv,kubelet | cut -c1-100')).stdout;
          const known = /kubelet\.service\s+restart\s+running/.test(diag) && /dlv exec/.test(diag);
          record(
            `session #${i + 1}: disconnect answered within 15 s`,
            false,
            diag.replace(/\n/g, ' | '),
            known ? 'restore-waits-for-dlv' : undefined,
          );
          await node.ssh('pkill -KILL -x dlv');
          await withTimeout(answered, 30_000, 'disconnect after killing Delve');
          if (!(known && KNOWN_BUGS_PENDING)) {
            leaks++;
          }
        }
        const outcome = await withTimeout(s.finished, 30_000, 'restore');
        const problems = await nodeProblems(node, hashes);
        maxRestore = Math.max(maxRestore, (performance.now() - t0) / 1000);
        if (outcome.restored && problems === '') {
          ok++;
        } else {
          leaks++;
          record(`session #${i + 1}`, false, `${outcome.message} ${problems}`);
          await restoreByHand(node);
        }
      } catch (err) {
        leaks++;
        // What systemd still holds (guard unit, jobs) and what runs, for the first failure only.
        const guard =
          leaks === 1
            ? (
                await node
                  .ssh(
                    'systemctl show -p LoadState -p ActiveState -p Transient -p CollectMode "krd-guard-*"; systemctl list-jobs --no-legend; ps -o pid,stat,etime,args -C dlv,kubelet | cut -c1-120',
                  )
                  .catch(() => ({ stdout: '' }))
              ).stdout.replace(/\n/g, ' | ')
            : '';
        record(`session #${i + 1}`, false, `${err.message} ${guard}`);
        await restoreByHand(node);
      }
      if (i === 0 && gc) {
        // After the first session (warm-up: modules loaded, caches filled).
        gc();
        heapStart = process.memoryUsage().heapUsed;
      }
    }
  } finally {
    conn.disconnect();
  }
  record(`${SESSIONS} sessions in a row: ${ok} restored, nothing left on the node`, ok === SESSIONS && leaks === 0, `${leaks} failed`);
  if (gc && heapStart !== undefined) {
    await sleep(100);
    gc();
    const growth = (process.memoryUsage().heapUsed - heapStart) / 1024 / 1024;
    record(`heapUsed after GC grew by ${fmt(growth, 1)} MB over ${SESSIONS - 1} sessions`, growth < 20, growth < 20 ? '' : 'limit 20 MB');
    summary.push([`sessions in a row (heap +${fmt(growth, 1)} MB)`, SESSIONS, ok, `${fmt(maxRestore, 1)} s`, leaks]);
  } else {
    log('heap growth not measured: run node with --expose-gc (npm run soak does)');
    summary.push(['sessions in a row (heap not measured)', SESSIONS, ok, `${fmt(maxRestore, 1)} s`, leaks]);
  }
}

/** ≥ HOSTILE strings: the shared hostile words, plus variants and control characters. */
function hostileValues(canary) {
  const touch = `touch ${canary}`;
  const base = hostileWords(canary);
  const extra = [
    `x\rExecStartPre=/bin/${touch}\r`,
    `\rExecStartPost=/bin/${touch}`,
    `x\nExecStartPre=/bin/${touch}`,
    `\v\f\x1b[31m\x7f`,
    `\u2028${touch}\u2029`,
    `\u0085${touch}`,
    '%h %u %i %n %%n',
    '$$ ${KUBELET_CONFIG_ARGS} $KUBELET_CONFIG_ARGS',
    '\\n\\r\\t\\x41\\101',
    'a'.repeat(4000),
  ];
  const values = new Set([...base, ...extra]);
  const target = Math.max(HOSTILE, 200);
  for (const w of base) {
    for (const v of [`x${w}`, `${w}x`, `-${w}`, `/${w}/`, `${w}${w}`]) {
      if (values.size < target) {
        values.add(v);
      }
    }
  }
  return [...values];
}

async function hostileInput(node, conn) {
  const canary = '/tmp/krd-canary';
  await node.ssh(`rm -f ${canary}`);
  const values = hostileValues(canary);
  const unhandled = [];
  const accepted = { host: 0, unit: 0 };
  for (const v of values) {
    try {
      const spec = parseHostSpec(v);
      accepted.host++;
      if (/[\s'"`;$\\]/.test(spec.host) || spec.host.startsWith('-') || /[\s'"`;$\\]/.test(spec.user ?? '')) {
        unhandled.push(`parseHostSpec accepted ${JSON.stringify(v)} as ${JSON.stringify(spec)}`);
      }
    } catch (err) {
      if (!(err instanceof UserError)) {
        unhandled.push(`parseHostSpec(${JSON.stringify(v)}) threw ${err.name}: ${err.message}`);
      }
    }
    try {
      checkUnitName(v);
      accepted.unit++;
      unhandled.push(`checkUnitName accepted ${JSON.stringify(v)}`);
    } catch (err) {
      if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) {
        unhandled.push(`checkUnitName(${JSON.stringify(v)}) threw ${err}`);
      }
    }
  }
  record(
    `${values.length} hostile values: parseHostSpec and checkUnitName refuse them cleanly`,
    unhandled.length === 0,
    unhandled.slice(0, 5).join('; '),
  );

  // Remote paths through the extension's exec (shell-quoted): must name no file, and run nothing.
  let pathProblems = 0;
  for (const v of values) {
    if (v.includes('\0')) {
      continue;
    }
    const sum = await remoteSha256(conn, `/nonexistent/${v}`).catch((err) => `error ${err.message}`);
    if (sum !== undefined) {
      pathProblems++;
    }
  }
  record('hostile remote paths (remoteSha256) name no file', pathProblems === 0, `${pathProblems} did`);

  // Args, env values and the remote binary path through buildDebugDropIn, started by the node's real
  // systemd: the program must receive every one literally. Values with a carriage return go last and
  // apart: systemd ends a unit-file line at \r too, and quoteUnitWord does not escape it.
  const canaryThere = async () => (await node.ssh(`test -e ${canary} && echo yes`)).stdout.trim() === 'yes';
  let problems = 0;
  for (const [label, group, bug] of [
    ['', values.filter((v) => !v.includes('\0') && !v.includes('\r')), undefined],
    [' (values with \\r)', values.filter((v) => !v.includes('\0') && v.includes('\r')), 'unit-word-cr'],
  ]) {
    const argProblems = await dropInLiterally(node, group);
    record(
      `${group.length} hostile args/env/paths${label} reach the program literally through the debug drop-in`,
      argProblems.length === 0,
      argProblems.slice(0, 3).join('; '),
      bug,
    );
    const ran = await canaryThere();
    record(`no hostile value${label} ran anything on the node (canary absent)`, !ran, ran ? `${canary} was created` : '', bug);
    problems += argProblems.length + (ran ? 1 : 0);
    await node.ssh(`rm -f ${canary}`);
  }
  summary.push(['hostile input', values.length, values.length - unhandled.length, '-', problems + pathProblems]);
}

const ARGDUMP = [
  '#!/bin/sh',
  'for a in "$@"; do printf "%s\\0" "$a"; done > /run/krd-hostile/argv.tmp',
  'env -0 > /run/krd-hostile/env',
  'mv /run/krd-hostile/argv.tmp /run/krd-hostile/argv',
  '',
].join('\n');
const HOSTILE_SETUP = [
  'mkdir -p /run/krd-hostile /run/systemd/system/krd-hostile.service.d',
  `echo ${Buffer.from(ARGDUMP).toString('base64')} | base64 -d > /run/krd-hostile/argdump`,
  'chmod 755 /run/krd-hostile/argdump',
  "printf '[Service]\\nExecStart=/bin/true\\n' > /run/systemd/system/krd-hostile.service",
].join(' && ');

/** Starts a throwaway unit with the extension's drop-in; returns its argv and env as seen by the program. */
async function runDropIn(node, dropIn) {
  const b64 = Buffer.from(dropIn).toString('base64');
  const r = await node.ssh(
    [
      'rm -f /run/krd-hostile/argv /run/krd-hostile/env',
      `echo ${b64} | base64 -d > /run/systemd/system/krd-hostile.service.d/99-kubelet-remote-debug.conf`,
      // A drop-in systemd refuses fails the start at once; only a started unit is waited for.
      'systemctl daemon-reload && systemctl start krd-hostile.service 2>/dev/null && for i in $(seq 50); do [ -e /run/krd-hostile/argv ] && break; sleep 0.1; done',
      'echo "ARGV=$(base64 -w0 < /run/krd-hostile/argv 2>/dev/null)"',
      'echo "ENV=$(base64 -w0 < /run/krd-hostile/env 2>/dev/null)"',
      'systemctl stop krd-hostile.service 2>/dev/null; true',
    ].join('\n'),
  );
  const field = (k) =>
    Buffer.from(new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? '', 'base64')
      .toString('utf8')
      .split('\0')
      .slice(0, -1);
  return { argv: field('ARGV'), env: field('ENV'), stderr: r.stderr };
}

async function dropInLiterally(node, values) {
  const problems = [];
  await node.ssh(HOSTILE_SETUP);
  try {
    const common = { execStart: '/bin/true', dlvPath: '/run/krd-hostile/argdump', port: 2345, sessionId: 'hostile' };
    const expectArgs = (rb, extra) => [
      'exec',
      '--headless',
      '--listen=127.0.0.1:2345',
      '--api-version=2',
      '--accept-multiclient',
      rb,
      '--',
      ...extra,
    ];
    const check = async (label, words, asEnv) => {
      let dropIn;
      try {
        dropIn = asEnv
          ? buildDebugDropIn({
              ...common,
              remoteBinary: '/bin/true',
              extraArgs: [],
              env: Object.fromEntries(words.map((w, i) => [`KRD_H${i}`, w])),
            })
          : buildDebugDropIn({ ...common, remoteBinary: words[0], extraArgs: words, env: {} });
      } catch (err) {
        return [`${label}: buildDebugDropIn threw ${err.message}`];
      }
      const got = await runDropIn(node, dropIn);
      if (asEnv) {
        const env = new Map(got.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
        return words.flatMap((w, i) =>
          env.get(`KRD_H${i}`) === w
            ? []
            : [`${label} env ${JSON.stringify(w).slice(0, 60)} arrived as ${JSON.stringify(env.get(`KRD_H${i}`) ?? null).slice(0, 60)}`],
        );
      }
      const want = expectArgs(words[0], words);
      return JSON.stringify(got.argv) === JSON.stringify(want)
        ? []
        : [`${label} args: ${got.argv.length ? 'changed' : 'the program did not run'}`];
    };
    const batch = 30;
    let singles = 0;
    for (let i = 0; i < values.length; i += batch) {
      const words = values.slice(i, i + batch);
      for (const asEnv of [false, true]) {
        const p = await check(`batch ${i / batch + 1}`, words, asEnv);
        if (p.length && !asEnv) {
          // Find the culprits one by one (bounded).
          for (const w of words) {
            if (singles++ < 80) {
              problems.push(...(await check(JSON.stringify(w).slice(0, 50), [w], false)));
            }
          }
        } else {
          problems.push(...p);
        }
      }
    }
  } finally {
    await node.ssh(
      'systemctl stop krd-hostile.service 2>/dev/null; rm -rf /run/systemd/system/krd-hostile.service /run/systemd/system/krd-hostile.service.d /run/krd-hostile; systemctl daemon-reload',
    );
  }
  return problems;
}

/**
 * Drop-in saves with the connection cut at a random point, before or during the save (its own sshd
 * killed on the node). Afterwards the drop-in must be the old content or the new one, whole, and no
 * temporary file may be left.
 */
async function dropInSaves(node) {
  const { writeNodeFile, sha256 } = out('src/node/nodeFileWrite');
  const dir = '/etc/systemd/system/kubelet.service.d';
  const file = `${dir}/90-krd-soak.conf`;
  const killOwnSshd = 'p=$PPID; while [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d" " -f4 /proc/$p/stat); done; kill -9 $p';
  let whole = 0;
  let cutDuring = 0;
  let maxSeconds = 0;
  try {
    for (let i = 0; i < SAVES; i++) {
      const old = `# soak save ${i}, old\n[Service]\nEnvironment="KRD_SOAK=${i}"\n`;
      await node.ssh(`printf '%s' '${old}' > ${file}`);
      // From a few bytes to a few MB, so the cut lands before, during or after the transfer.
      const padding = '#'.repeat(Math.floor(Math.random() * 4 * 1024 * 1024));
      const next = `# soak save ${i}, new\n[Service]\nEnvironment="KRD_SOAK=new${i}"\n${padding}\n`;
      const own = connect(node);
      await own.exec(['true']);
      const t0 = Date.now();
      const saving = writeNodeFile(own, file, Buffer.from(next), { create: true, overwrite: true, expectedSha256: sha256(old) }).then(
        () => 'saved',
        () => 'failed',
      );
      await sleep(Math.floor(Math.random() * 60));
      await own.exec(['/bin/sh', '-c', killOwnSshd]).catch(() => undefined);
      const outcome = await saving;
      own.disconnect();
      if (outcome === 'failed') {
        cutDuring++;
      }
      // The node side cleans up its temp file when the channel dies; give it a moment.
      let temps = '';
      for (let j = 0; j < 20; j++) {
        temps = (await node.ssh(`ls -a ${dir} | grep -F .krd- || true`)).stdout.trim();
        if (temps === '') {
          break;
        }
        await sleep(250);
      }
      maxSeconds = Math.max(maxSeconds, (Date.now() - t0) / 1000);
      const onNode = (await node.ssh(`sha256sum < ${file} | cut -c1-64`)).stdout.trim();
      const ok = (onNode === sha256(old) || onNode === sha256(next)) && temps === '';
      if (ok) {
        whole++;
      }
      record(
        `drop-in save #${i + 1} (${outcome === 'failed' ? 'cut' : 'finished'}): ${onNode === sha256(next) ? 'new' : onNode === sha256(old) ? 'old' : 'TORN'} content, no temp file`,
        ok,
        temps ? `left: ${temps}` : '',
      );
    }
  } finally {
    await node.ssh(`rm -f ${file}; rm -f ${dir}/.90-krd-soak.conf.krd-*`);
  }
  summary.push(['drop-in saves, connection cut', String(SAVES), String(whole), `${fmt(maxSeconds, 1)} s`, String(SAVES - whole)]);
  log(`drop-in saves: ${cutDuring} of ${SAVES} cut before the node confirmed`);
}

/** Runs test/node/boot-node.sh for a node whose rootfs persists across reboots (only /run is wiped). */
function bootPersistentNode(name, index, state) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'test/node/boot-node.sh'), name, String(index), state], {
      env: { ...process.env, KRD_NODE_PERSISTENT: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => (code === 0 ? resolve(existingNode(state)) : reject(new Error(`boot-node.sh failed: ${err.slice(-800)}`))));
  });
}

/**
 * Reboots mid-session, halted at syncLoop, on a node whose /etc and /var persist: after the reboot the
 * original kubelet must run from the original unit files with nothing of the session left, because
 * the debug drop-in and the safeguard's state live in /run.
 */
async function rebootTrials(binary, workspace) {
  if (REBOOTS === 0) {
    return;
  }
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  const index = [...Array(20).keys()].map((i) => 249 - i).find((i) => !used.includes(` 10.213.${i}.`));
  const state = mkdtempSync(path.join(tmpdir(), 'krd-reboot-'));
  const name = `krdrb${index}`;
  const times = [];
  let restored = 0;
  let node = await bootPersistentNode(name, index, state);
  try {
    const hashes = await unitHashes(node);
    // Proof that this is a reboot of the same disk, not a fresh node: a marker in /etc survives it.
    const marker = `reboot-${process.pid}-${Date.now()}`;
    await node.ssh(`echo ${marker} > /etc/krd-reboot-marker`);
    for (let i = 0; i < REBOOTS; i++) {
      const conn = connect(node);
      try {
        await startSession(node, conn, binary, workspace);
        const nspawnPid = JSON.parse(readFileSync(path.join(state, 'node.json'), 'utf8')).nspawnPid;
        const t0 = Date.now();
        await node.ssh('systemctl reboot').catch(() => undefined);
        // nspawn exits when the container reboots; the node then boots again from the same rootfs.
        for (let j = 0; j < 300 && isAlive(nspawnPid); j++) {
          await sleep(100);
        }
        node = await bootPersistentNode(name, index, state);
        const seconds = (Date.now() - t0) / 1000;
        const kept = (await node.ssh('cat /etc/krd-reboot-marker')).stdout.trim() === marker;
        const problems = `${await nodeProblems(node, hashes)}${kept ? '' : ' /etc was not kept across the reboot'}`.trim();
        times.push(seconds);
        if (problems === '') {
          restored++;
        }
        record(`reboot mid-session #${i + 1}: the original kubelet is back after ${fmt(seconds, 1)} s`, problems === '', problems);
      } catch (err) {
        record(`reboot mid-session #${i + 1}`, false, err.message);
      } finally {
        conn.disconnect();
      }
    }
  } finally {
    await new Promise((r) => spawn('bash', [path.join(ROOT, 'test/node/stop-node.sh'), state], { stdio: 'ignore' }).on('close', r));
    rmSync(state, { recursive: true, force: true });
  }
  summary.push([
    'fault: node rebooted (/etc kept)',
    String(REBOOTS),
    String(restored),
    times.length ? `${fmt(Math.max(...times), 1)} s` : '-',
    String(REBOOTS - restored),
  ]);
}

async function main() {
  const started = Date.now();
  console.log(
    `Soak: ${REAL_ONLY ? '' : `${TRIALS} trials per fault kind, ${SESSIONS} sessions, ${SAVES} drop-in saves, ${REBOOTS} reboots, `}${REAL_TRIALS} trials per fault kind on the real node, grace ${GRACE} s (${REAL_GRACE} s on the real node)`,
  );
  if (!REAL_ONLY) {
    await sampleSoak();
  }
  if (REAL_TRIALS > 0) {
    const t0 = Date.now();
    await realFaultTrials().catch((err) => record('real-node fault trials', false, err.stack));
    log(`real-node fault trials: ${fmt((Date.now() - t0) / 1000, 1)} s`);
  }
  console.log('');
  printTable(['Check', 'Trials', 'Restored / clean', 'Max restore time', 'Leaks / failures'], summary);
  console.log(`\n${fmt((Date.now() - started) / 1000, 0)} s`);
  if (failures.length) {
    console.log(`\nFailures:\n  ${failures.join('\n  ')}`);
  }
  if (knownBugs) {
    console.log(`${knownBugs} checks failed because of known bugs (see bench/README.md), not counted`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (!REAL_ONLY) {
    updateReadme(
      'reliability',
      [
        `\`npm run soak\` on ${new Date(started).toISOString().slice(0, 10)}: ${TRIALS} trials per fault kind, ${SESSIONS} sessions in a row, ${SAVES} drop-in saves cut at random points, ${REBOOTS} reboots mid-session, ${REAL_TRIALS ? `${REAL_TRIALS} trials per fault kind on a real Kubernetes v1.20.2 node, ` : ''}safeguard grace ${GRACE} s${REAL_TRIALS ? ` (${REAL_GRACE} s on the real node, the extension's default)` : ''}; ${passed} passed, ${failed} failed in ${fmt((Date.now() - started) / 1000, 0)} s.`,
        '',
        tableText(['Check', 'Trials', 'Restored / clean', 'Max restore time', 'Leaks / failures'], summary),
      ].join('\n'),
    );
  }
  // Exit now: ssh2 sockets of abandoned sessions (the "VS Code killed" trials) may keep the loop alive.
  process.exit(failed === 0 ? 0 : 1);
}

/** Everything on the sample kubelet's node: hostile input, faults, sessions in a row, drop-in saves, reboots. */
async function sampleSoak() {
  const started = Date.now();
  const workspace = mkdtempSync(path.join(tmpdir(), 'krd-soak-'));
  const binary = buildDebugKubelet(workspace);
  log(`built the debug kubelet: ${fmt((Date.now() - started) / 1000, 1)} s`);
  const node = NODE_DIR ? existingNode(NODE_DIR) : await bootTestNode({ log: () => undefined });
  // On someone else's node, keep its cached debug binary (the sessions here upload their own).
  if (NODE_DIR) {
    await node.ssh(
      'rm -rf /run/krd-soak-saved; if [ -e /var/lib/kubelet-debug ]; then cp -a /var/lib/kubelet-debug /run/krd-soak-saved; fi',
    );
  }
  const conn = connect(node);
  try {
    const hashes = await unitHashes(node);
    const before = await nodeProblems(node, hashes);
    if (before !== '') {
      throw new Error(`the node is not clean before the soak: ${before}`);
    }
    for (const [what, phase] of [
      ['hostile input', () => hostileInput(node, conn)],
      ['fault trials', () => faultTrials(node, binary, workspace, hashes, TRIALS)],
      ['sessions', () => sessionsInARow(node, binary, workspace, hashes)],
      ['drop-in saves', () => dropInSaves(node)],
      ['reboots', () => rebootTrials(binary, workspace)],
    ]) {
      const t0 = Date.now();
      await phase();
      log(`${what}: ${fmt((Date.now() - t0) / 1000, 1)} s`);
    }
    const after = await nodeProblems(node, hashes);
    record('the node is as it was at the end', after === '', after);
  } catch (err) {
    record('soak run', false, err.stack);
  } finally {
    conn.disconnect();
    if (NODE_DIR) {
      await node.ssh(
        'rm -rf /var/lib/kubelet-debug; if [ -e /run/krd-soak-saved ]; then mv /run/krd-soak-saved /var/lib/kubelet-debug; fi',
      );
    }
    await node.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (!existsSync(path.join(ROOT, 'out/test/node/testNode.js'))) {
  throw new Error('out/ missing: run npm run -s compile-tests');
}
await main();
