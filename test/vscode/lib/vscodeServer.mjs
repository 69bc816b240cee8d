// Starts the VS Code server (server-main.js from the code-server package) on loopback with the
// smoke-test driver enabled, waits until it answers, and reads the remote authority it serves.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGroup, stopTree } from './processes.mjs';
import { freePort, httpGet, waitForHttp } from './net.mjs';

/**
 * The caller's environment (HOME, KRD_* and all) with three adjustments:
 * - no VSCODE_* variables from a surrounding VS Code window, which would point the server at it;
 * - an empty extension gallery, so the workbench never tries to reach open-vsx.org;
 * - XDG_CACHE_HOME in the run folder, else the server writes $HOME/.cache/Microsoft/DeveloperTools;
 *   GOCACHE keeps its usual place so Go builds in tests stay warm.
 */
export function serverEnv(env, runDir) {
  const out = { ...env };
  for (const k of Object.keys(out)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete out[k];
  out.EXTENSIONS_GALLERY ??= '{}';
  if (!out.XDG_CACHE_HOME) {
    if (!out.GOCACHE && out.HOME) out.GOCACHE = join(out.HOME, '.cache', 'go-build');
    out.XDG_CACHE_HOME = join(runDir, 'xdg-cache');
  }
  return out;
}

/**
 * @param {{install: Awaited<ReturnType<import('./vscodeInstall.mjs').ensureVSCode>>, runDir: string,
 *          userDataDir: string, extensionsDir: string, port?: number, verbose?: boolean, workspaceTrust?: boolean,
 *          onSpawn?: (handle: {child: import('node:child_process').ChildProcess, stop(): Promise<void>}) => void}} o
 *   workspaceTrust keeps VS Code's workspace trust on (a fresh profile trusts no folder, so the
 *   window opens in Restricted Mode); by default it is off, as in a trusted folder.
 *   onSpawn hands out the stop function as soon as the process exists, so that a caller
 *   interrupted while waiting for the server can still stop it.
 */
export async function startVSCodeServer({
  install,
  runDir,
  userDataDir,
  extensionsDir,
  port = 0,
  verbose = false,
  workspaceTrust = false,
  onSpawn,
}) {
  const tmp = join(runDir, 'tmp');
  const serverData = join(runDir, 'server-data');
  for (const d of [tmp, serverData, userDataDir, extensionsDir]) mkdirSync(d, { recursive: true });
  port = port || (await freePort());
  const logFile = join(runDir, 'server.log');
  const log = createWriteStream(logFile);
  const args = [
    install.serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    // Without it the workbench ignores the test payload and the run hangs.
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    // The default is 3 hours: an extension host whose browser has gone would linger, holding locks.
    '--reconnection-grace-time',
    '5',
    '--user-data-dir',
    userDataDir,
    '--server-data-dir',
    serverData,
    '--extensions-dir',
    extensionsDir,
  ];
  // HOME, KRD_* and everything else pass through: tests point HOME at their own ~/.ssh.
  // TMPDIR keeps the server's vscode-ipc-*.sock files in the run folder.
  const child = spawnGroup(install.node24, args, {
    env: { ...serverEnv(process.env, runDir), TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = false;
  child.exited.then(() => (exited = true));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d) => {
      log.write(d);
      if (verbose) process.stderr.write(`[server] ${d}`);
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopTree(child.pid, { graceMs: 5000, rootStart: child.startTime });
    await new Promise((r) => log.end(r));
  };
  onSpawn?.({ child, stop });
  try {
    await waitForHttp(`${base}/version`, { timeoutMs: 60_000, stillAlive: () => !exited, what: 'VS Code server' });
    const { body } = await httpGet(`${base}/`);
    // The page carries its configuration as &quot;-escaped JSON; for this build the authority is "remote".
    const m = /remoteAuthority(?:&quot;|")\s*:\s*(?:&quot;|")([^&"]+)(?:&quot;|")/.exec(body);
    if (!m) throw new Error(`VS Code server: no remoteAuthority in the page at ${base}/ (see ${logFile})`);
    return { child, port, base, remoteAuthority: m[1], logFile, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
