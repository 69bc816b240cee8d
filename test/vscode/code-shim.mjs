// Stands in for the VS Code executable, so @vscode/test-electron's runTests() runs the extension
// tests in a real VS Code server's extension host, driven by headless Chromium, and exits with
// the tests' status. Started through code-shim.sh; see README.md for the whole picture.
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { format } from 'node:util';
import { ensureVSCode } from './lib/vscodeInstall.mjs';
import { startVSCodeServer } from './lib/vscodeServer.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { shimExit } from './lib/exitCode.mjs';
import { startUiProbe } from './lib/uiProbe.mjs';

const verbose = process.env.KRD_VSCODE_VERBOSE === '1';
const say = (msg) => process.stderr.write(`code-shim: ${msg}\n`);
const timeoutS = (() => {
  const raw = process.env.KRD_VSCODE_TIMEOUT_S;
  const n = Number(raw || 600);
  if (Number.isFinite(n) && n > 0) return n;
  say(`ignoring KRD_VSCODE_TIMEOUT_S=${raw} (not a positive number of seconds); using 600`);
  return 600;
})();

/** The VS Code command line that runTests() builds: flags, --x=value options, and a folder. */
function parseArgs(argv) {
  const valueFlags = new Set([
    'user-data-dir',
    'extensions-dir',
    'extensionDevelopmentPath',
    'extensionTestsPath',
    'folder-uri',
    'locale',
    'log',
  ]);
  const o = {
    extensionDevelopmentPath: [],
    extensionTestsPath: undefined,
    userDataDir: undefined,
    extensionsDir: undefined,
    folder: undefined,
    ignored: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      o.folder ??= arg;
      continue;
    }
    let [name, value] = arg.slice(2).split(/=(.*)/s);
    if (value === undefined && valueFlags.has(name)) value = argv[++i];
    switch (name) {
      case 'extensionDevelopmentPath':
        o.extensionDevelopmentPath.push(resolve(value));
        break;
      case 'extensionTestsPath':
        o.extensionTestsPath = resolve(value);
        break;
      case 'user-data-dir':
        o.userDataDir = resolve(value);
        break;
      case 'extensions-dir':
        o.extensionsDir = resolve(value);
        break;
      case 'folder-uri':
        o.folder ??= decodeURIComponent(new URL(value).pathname);
        break;
      default:
        o.ignored.push(arg);
    }
  }
  if (o.folder) o.folder = resolve(o.folder);
  return o;
}

/** Why the run cannot start, before anything is launched; undefined when it can. */
function setupProblem(o) {
  if (!o.extensionTestsPath) return 'this shim only runs extension tests: --extensionTestsPath= is required';
  const t = o.extensionTestsPath;
  if (![t, `${t}.js`, join(t, 'index.js')].some((p) => existsSync(p) && (p !== t || statSync(p).isFile()))) {
    return `extensionTestsPath ${t} does not exist; compile the tests first (npm run compile-tests)`;
  }
  if (o.extensionDevelopmentPath.length === 0) return '--extensionDevelopmentPath= is required';
  for (const dev of o.extensionDevelopmentPath) {
    if (!existsSync(join(dev, 'package.json'))) return `extensionDevelopmentPath ${dev} has no package.json`;
    const main = JSON.parse(readFileSync(join(dev, 'package.json'), 'utf8')).main;
    if (main && ![main, `${main}.js`].some((m) => existsSync(resolve(dev, m)))) {
      say(`warning: the extension's main ${resolve(dev, main)} is missing (npm run build?); it will not activate`);
    }
  }
  if (o.folder && !existsSync(o.folder)) return `workspace folder ${o.folder} does not exist`;
}

/** vscode-remote URI of an absolute path on this machine, as the workbench payload wants it. */
function remoteUri(authority, path) {
  return `vscode-remote://${authority}${path.split('/').map(encodeURIComponent).join('/')}`;
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// Everything the run started, so that one teardown path covers success, failure, timeout and signals.
const run = {
  runDir: undefined,
  server: undefined,
  browser: undefined,
  probe: undefined,
  timer: undefined,
  finishing: undefined,
  lastTestLine: undefined,
};
const keepRun = process.env.KRD_KEEP_RUN === '1';

function finish(code, message) {
  return (run.finishing ??= (async () => {
    clearTimeout(run.timer);
    if (message) say(message);
    await run.probe?.close().catch(() => {});
    await run.browser?.close().catch(() => {});
    await run.server?.stop().catch(() => {});
    if (run.runDir) {
      if (code === 0 && !keepRun) rmSync(run.runDir, { recursive: true, force: true });
      else {
        // Keep the logs for a failed run; the browser profile (~25 MB) and sockets tell nothing.
        if (!keepRun) for (const d of ['browser', 'tmp']) rmSync(join(run.runDir, d), { recursive: true, force: true });
        say(`run folder kept: ${run.runDir}`);
      }
    }
    process.exit(code);
  })());
}

for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(sig, () => {
    // A second signal while tearing down: stop waiting; the browser dies with this process
    // (playwright kills it on exit) and the server's process group gets SIGKILL.
    if (run.finishing) {
      if (run.server) {
        try {
          process.kill(-run.server.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      process.exit(code);
    }
    finish(code, `${sig}: stopping the VS Code server and the browser`);
  });
}
process.on('unhandledRejection', (e) => finish(1, `unexpected error: ${e?.stack ?? e}`));
// If whoever started the shim is gone (killed without passing a signal on), nobody reads the
// result: tear down rather than run on as an orphan.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && finish(1, 'the parent process exited; stopping'), 1000).unref();
process.stdout.on('error', () => {});

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (verbose && opts.ignored.length) say(`ignoring ${opts.ignored.join(' ')}`);
  const problem = setupProblem(opts);
  if (problem) return finish(2, problem);

  const install = await ensureVSCode({ quiet: !verbose });
  // Sockets live under TMPDIR of the run and must stay under ~100 characters: keep the folder short.
  const base = tmpdir().length <= 40 ? tmpdir() : '/tmp';
  const runDir = (run.runDir = mkdtempSync(join(base, 'krd-vsc-')));
  run.timer = setTimeout(() => {
    finish(
      1,
      `timed out after ${timeoutS} s (KRD_VSCODE_TIMEOUT_S) without an exit code from the extension host.` +
        (run.lastTestLine ? `\ncode-shim: the tests' last output: ${run.lastTestLine.trim()}` : '\ncode-shim: the tests printed nothing') +
        `\ncode-shim: last lines of the server log:\n${tail(join(runDir, 'server.log'), 15)}`,
    );
  }, timeoutS * 1000);

  // Tests read and click the workbench through it; the server passes the variable to the extension host.
  run.probe = await startUiProbe(() => run.browser?.page);
  process.env.KRD_UI_PROBE = run.probe.url;

  const started = Date.now();
  const server = (run.server = await startVSCodeServer({
    install,
    runDir,
    userDataDir: opts.userDataDir ?? join(runDir, 'user-data'),
    extensionsDir: opts.extensionsDir ?? join(runDir, 'extensions'),
    port: Number(process.env.KRD_VSCODE_PORT || 0),
    verbose,
    workspaceTrust: process.env.KRD_VSCODE_WORKSPACE_TRUST === '1',
    onSpawn: (handle) => (run.server = handle),
  }));
  server.child.exited.then(({ code, signal }) => {
    finish(1, `VS Code server exited unexpectedly (${signal ?? `code ${code}`}); last lines of its log:\n${tail(server.logFile)}`);
  });
  if (verbose) say(`VS Code ${install.version} server on ${server.base} (authority ${server.remoteAuthority}), run folder ${runDir}`);
  if (run.finishing) return;

  // KRD_BROWSER_PROFILE keeps the browser profile across runs: the web workbench stores settings and
  // the extensions' global state in the browser (IndexedDB of the origin, so KRD_VSCODE_PORT too).
  run.browser = await launchChromium({ userDataDir: process.env.KRD_BROWSER_PROFILE || join(runDir, 'browser') });
  const { page } = run.browser;
  // The workbench sends both its own log and the extension host's console (the tests' output)
  // through codeAutomationLog, in the same shape. Only the latter passes through
  // $logExtensionHostMessage (an RPC method name, so never minified): tell them apart by stack.
  const workbenchLog = createWriteStream(join(runDir, 'workbench.log'));
  await page.exposeBinding('__krdAutomationLog', (_source, fromExtensionHost, type, args) => {
    const line = format(...(Array.isArray(args) ? args : [args]));
    if (fromExtensionHost) {
      process.stdout.write(`${line}\n`);
      if (line.trim()) run.lastTestLine = line;
    } else {
      workbenchLog.write(`[${type}] ${line}\n`);
      if (verbose) process.stderr.write(`[workbench] ${line}\n`);
    }
  });
  await page.addInitScript(() => {
    globalThis.codeAutomationLog = (type, args) => {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 100;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      globalThis.__krdAutomationLog(stack.includes('$logExtensionHostMessage'), type, args);
    };
  });
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    if (shimExit(code).code !== 0 || keepRun) {
      for (const { relativePath, contents } of logs ?? []) {
        const file = join(runDir, 'logs', relativePath);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, contents);
      }
    }
    if (verbose) say(`extension host exited with ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const exit = shimExit(code);
    finish(exit.code, exit.failure && `${exit.failure}; workbench logs in ${join(runDir, 'logs')}`);
  });
  page.on('crash', () => finish(1, 'the browser page crashed'));
  if (verbose) {
    page.on('pageerror', (e) => say(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && say(`page console: ${m.text()}`));
  }

  const payload = [
    ...opts.extensionDevelopmentPath.map((p) => ['extensionDevelopmentPath', remoteUri(server.remoteAuthority, p)]),
    ['extensionTestsPath', remoteUri(server.remoteAuthority, opts.extensionTestsPath)],
  ];
  const query = new URLSearchParams();
  if (!opts.folder) query.set('ew', 'true');
  else if (opts.folder.endsWith('.code-workspace')) query.set('workspace', opts.folder);
  else query.set('folder', opts.folder);
  query.set('payload', JSON.stringify(payload));
  if (run.finishing) return;
  await page.goto(`${server.base}/?${query}`);
}

main().catch((e) => finish(1, verbose && e?.stack ? e.stack : (e?.message ?? String(e))));
