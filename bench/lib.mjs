// Shared helpers for `npm run bench` and `npm run soak`: build the compiled code when stale, load it,
// statistics, OpenSSH helpers, and independent checks of a test node's state (made with OpenSSH).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const require = createRequire(path.join(ROOT, 'package.json'));

function newestMtime(dir, ext) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '_output' && entry.name !== 'fixtures') {
        newest = Math.max(newest, newestMtime(p, ext));
      }
    } else if (entry.name.endsWith(ext)) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** Runs `npm run -s compile-tests` / `npm run -s build` when out/ or dist/ is missing or older than the sources. */
export function ensureBuilt(log = console.error) {
  const sources = Math.max(newestMtime(path.join(ROOT, 'src'), '.ts'), newestMtime(path.join(ROOT, 'test'), '.ts'));
  if (mtime(path.join(ROOT, 'out/src/extension.js')) < sources || !existsSync(path.join(ROOT, 'out/test/node/testNode.js'))) {
    log('out/ is missing or stale: npm run -s compile-tests');
    execFileSync('npm', ['run', '-s', 'compile-tests'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (mtime(path.join(ROOT, 'dist/extension.js')) < newestMtime(path.join(ROOT, 'src'), '.ts')) {
    log('dist/ is missing or stale: npm run -s build');
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
}

/** A module of the compiled tree, e.g. out('src/node/upload'). */
export const out = (rel) => require(path.join(ROOT, 'out', rel));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

export function argValue(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a program; resolves with its exit code, output and wall time (ms). Never rejects on exit code. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr, ms: performance.now() - started });
    });
  });
}

export const UNIT_FILES = '/lib/systemd/system/kubelet.service /etc/systemd/system/kubelet.service.d/*';
export const CACHED_BINARY = 'kubelet';

/** sha256 of the kubelet's unit file and drop-ins, as one string. */
export async function unitHashes(node) {
  return (await node.ssh(`sha256sum ${UNIT_FILES} 2>&1`)).stdout.trim();
}

/**
 * What a debug session may not leave behind, checked with OpenSSH: returns '' when the original
 * kubelet runs and nothing of ours is left, else a description of what is wrong.
 */
export async function nodeProblems(node, unitHashesBefore) {
  const script = [
    'pid=$(systemctl show -p MainPID --value kubelet)',
    'echo "state=$(systemctl is-active kubelet) exe=$(readlink /proc/$pid/exe)"',
    'pgrep -x dlv >/dev/null && echo "leftover=dlv process"',
    'systemctl list-units --all --plain --no-legend "krd-guard-*" 2>/dev/null | sed "s/^/leftover=unit /"',
    '[ -e /run/systemd/system/kubelet.service.d/99-kubelet-remote-debug.conf ] && echo leftover=debug drop-in',
    '[ -e /run/kubelet-remote-debug/kubelet.service ] && echo leftover=state dir',
    'ss -Htlnp | grep \'"dlv"\' | sed "s/^/leftover=listener /"',
    // Cached binaries and the records of their SHA-256 stay on purpose; anything else is a leftover.
    `ls -A /var/lib/kubelet-debug 2>/dev/null | grep -vx -e ${CACHED_BINARY} | grep -v '[.]krd-sha256$' | sed "s/^/leftover=temp file /"`,
    `echo "hashes=$(sha256sum ${UNIT_FILES} 2>&1 | sha256sum | cut -c1-16)"`,
    'true',
  ].join('\n');
  const r = await node.ssh(script);
  const problems = [];
  const state = /^state=(\S*) exe=(\S*)/m.exec(r.stdout);
  if (!state || state[1] !== 'active' || state[2] !== '/usr/bin/kubelet') {
    problems.push(`kubelet ${state ? `${state[1]} ${state[2] || '(no exe)'}` : `unknown (${r.stderr.trim()})`}`);
  }
  problems.push(...[...r.stdout.matchAll(/^leftover=(.*)$/gm)].map((m) => m[1]));
  if (unitHashesBefore) {
    const now = /^hashes=(.*)$/m.exec(r.stdout)?.[1];
    const before = hashOf(unitHashesBefore);
    if (now !== before) {
      problems.push('unit files changed');
    }
  }
  return problems.join('; ');
}

function hashOf(text) {
  // Same digest the node computes: sha256 of the sha256sum listing plus newline, first 16 hex chars.
  return require('node:crypto')
    .createHash('sha256')
    .update(text + '\n')
    .digest('hex')
    .slice(0, 16);
}

/** Polls until nodeProblems() is empty; returns the seconds it took, or throws with the last problems. */
export async function waitRestored(node, unitHashesBefore, timeoutMs, since = performance.now()) {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (let i = 0; i < 1000; i++) {
    last = await nodeProblems(node, unitHashesBefore);
    if (last === '') {
      return (performance.now() - since) / 1000;
    }
    if (performance.now() > deadline) {
      break;
    }
    await sleep(250);
  }
  throw new Error(`not restored within ${timeoutMs / 1000} s: ${last}`);
}

/** Copies the sample kubelet (minus _output) into `dir` and builds it with DBG=1; returns the binary. */
export function buildDebugKubelet(dir) {
  cpSync(path.join(ROOT, 'test/fixtures/kubelet-src'), dir, { recursive: true, filter: (s) => !s.includes('_output') });
  execFileSync('make', ['-C', dir, 'WHAT=cmd/kubelet', 'DBG=1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off' },
  });
  return path.join(dir, '_output/local/bin/linux/amd64/kubelet');
}

/** The DAP start of a session as VS Code drives it, up to the first stop in syncLoop. */
export async function runToSyncLoop(client, host, functionName) {
  await client.request('initialize', { adapterID: 'kubelet', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
  await client.request('launch', { host });
  await client.waitEvent('initialized');
  await client.request('setFunctionBreakpoints', { breakpoints: [{ name: functionName }] });
  await client.request('configurationDone');
  return client.waitEvent('stopped', 60_000);
}

export function fmt(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** Rows (arrays) as an aligned Markdown table. */
export function tableText(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(all[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...all.slice(1).map(line)].join('\n');
}

/** Prints rows (arrays) as an aligned table. */
export function printTable(header, rows) {
  console.log(tableText(header, rows));
}

/**
 * With --readme, replaces the text between `<!-- name -->` and `<!-- /name -->` in the README, so its
 * Performance and Reliability sections are always what a script printed.
 */
export function updateReadme(name, markdown) {
  if (!process.argv.includes('--readme')) {
    return;
  }
  const file = path.join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const begin = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) {
    throw new Error(`README.md has no ${begin} … ${end} section to update.`);
  }
  writeFileSync(file, text.slice(0, i + begin.length) + '\n' + markdown.trim() + '\n' + text.slice(j));
  console.log(`Updated the ${name} section of README.md`);
}
