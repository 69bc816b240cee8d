// Launches Debian's headless Chromium through playwright-core with its profile inside a run
// folder, and closes it again even when the browser no longer answers.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { childrenOf, stopTree } from './processes.mjs';

export const chromiumPath = process.env.KRD_CHROMIUM || '/usr/bin/chromium';

const flags = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
  '--disable-crash-reporter',
  '--disable-breakpad',
  // Only loopback: the browser never resolves a name, so nothing it loads can leave the machine.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/**
 * @param {{userDataDir:string, viewport?:{width:number,height:number}}} options  The browser also gets
 *   its HOME inside userDataDir: Chromium otherwise writes ~/.config/chromium and ~/.cache/dconf.
 * @returns {Promise<{context: import('playwright-core').BrowserContext, page: import('playwright-core').Page, pids: Map<number,string>, close(): Promise<void>}>}
 */
export async function launchChromium({ userDataDir, viewport = { width: 1400, height: 900 } }) {
  const before = new Set(childrenOf(process.pid).keys());
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium, or set KRD_CHROMIUM`);
  }
  const home = join(userDataDir, 'home');
  mkdirSync(home, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
    headless: true,
    args: flags,
    viewport,
    // The caller tears everything down on signals itself, in a known order.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  // The browser is the new child of this process; remember it by PID so that it and its
  // renderers can be killed if it stops answering.
  const pids = new Map([...childrenOf(process.pid)].filter(([pid]) => !before.has(pid)));
  const page = context.pages()[0] ?? (await context.newPage());
  let closed;
  const close = () =>
    (closed ??= (async () => {
      const timeout = new Promise((r) => setTimeout(r, 5000, 'timeout'));
      const result = await Promise.race([
        context.close().then(
          () => 'ok',
          () => 'error',
        ),
        timeout,
      ]);
      if (result !== 'ok') {
        for (const [pid, start] of pids) await stopTree(pid, { graceMs: 1000, group: false, rootStart: start });
      }
    })());
  return { context, page, pids, close };
}
