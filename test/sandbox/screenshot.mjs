// For looking, not a test: opens the sandbox in headless Chromium, shows the Kubelet view
// container and saves a screenshot. Starts (and afterwards stops) a sandbox unless given a URL.
//
//   node test/sandbox/screenshot.mjs [URL] [--out FILE] [--vsix FILE] [--no-node]
//     URL   attach to a running sandbox (e.g. http://127.0.0.1:8080/) instead of starting one
//     FILE  default test/sandbox/screenshots/workbench.png
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium } from '../vscode/lib/chromium.mjs';
import { startSandbox } from './sandbox.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const say = (msg) => process.stderr.write(`screenshot: ${msg}\n`);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: join(here, 'screenshots', 'workbench.png') },
    vsix: { type: 'string' },
    'no-node': { type: 'boolean', default: false },
  },
});
const out = resolve(values.out);

let stopSandbox;
let browser;
const profile = mkdtempSync(join(tmpdir(), 'krd-shot-'));
let cleaning;
const cleanup = () =>
  (cleaning ??= (async () => {
    await browser?.close();
    await stopSandbox?.();
    rmSync(profile, { recursive: true, force: true });
  })());
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, async () => {
    say(`${sig}: stopping`);
    await cleanup();
    process.exit(code);
  });
}

/** Opens the Kubelet view container: by its activity-bar entry, else through the command palette. */
async function showKubeletView(page) {
  const entry = page.locator('.activitybar .action-item').filter({ has: page.locator('a[aria-label^="Kubelet"]') });
  try {
    await entry.first().waitFor({ timeout: 15_000 });
    await entry.first().click();
  } catch {
    say('no "Kubelet" entry in the activity bar; trying the command palette');
    await page.keyboard.press('F1');
    await page.keyboard.type('View: Show Kubelet');
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter');
  }
  // With one view in the container VS Code hides its pane header, so wait for it to exist only.
  await page.locator('.sidebar .pane-header[aria-label^="Nodes"]').first().waitFor({ state: 'attached', timeout: 15_000 });
}

async function main() {
  let url = positionals[0];
  if (!url) {
    const sandbox = await startSandbox({ vsix: values.vsix, withNode: !values['no-node'], onStop: (fn) => (stopSandbox = fn) });
    url = sandbox.url;
  }
  browser = await launchChromium({ userDataDir: join(profile, 'browser'), viewport: { width: 1400, height: 900 } });
  const { page } = browser;
  const t0 = Date.now();
  await page.goto(url);
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
  say(`workbench up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await showKubeletView(page);
  // Give the tree a moment to ask the extension for its children.
  await page.locator('.pane-body .monaco-list-row').first().waitFor({ timeout: 10_000 }).catch(() => {});
  await page.waitForTimeout(1500);
  // Expand the first node, so the picture shows the kubelet unit as the extension reads it.
  await page.locator('.pane-body .monaco-list-row').first().click().catch(() => {});
  await page.locator('.pane-body .monaco-list-row', { hasText: 'kubelet.service' }).first().waitFor({ timeout: 20_000 }).catch(() => {});
  await page.waitForTimeout(1500);
  const rows = await page.locator('.pane-body .monaco-list-row').allInnerTexts().catch(() => []);
  if (rows.length) say(`Nodes view rows: ${rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ')}`);
  await page.mouse.move(700, 880); // away from the activity bar, so no hover tooltip covers the view
  await page.waitForTimeout(1000);
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(out);
}

let code = 0;
try {
  await main();
} catch (e) {
  say(`failed: ${e.message}`);
  code = 1;
  // Whatever the page shows is the best clue to why.
  if (browser) {
    mkdirSync(dirname(out), { recursive: true });
    await browser.page.screenshot({ path: out }).then(() => say(`screenshot of the failure: ${out}`), () => {});
  }
}
await cleanup();
process.exit(code);
