// For looking, not a test: opens the sandbox in headless Chromium and takes the README's pictures
// as a person would make them: the Nodes view, a drop-in with a hover, the walkthrough, and the debug flow (command,
// node pick, progress, the Nodes view while debugging, the stop in syncLoop, the node restored). Starts (and afterwards stops) a
// sandbox unless given a URL.
//
//   node test/sandbox/screenshot.mjs [URL] [--out DIR] [--readme] [--vsix FILE] [--no-node] [--no-debug] [--cluster]
//     URL         attach to a running sandbox (e.g. http://127.0.0.1:8080/) instead of starting one
//     DIR         default test/sandbox/screenshots/ (ignored by git)
//     --readme    write into media/screenshots/, the pictures the README and the walkthrough show
//     --no-debug  only the Nodes view and the drop-in (no debug session)
//     --cluster   only the Nodes view's cluster part (cluster-view.png), in a sandbox started with --cluster
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
    out: { type: 'string' },
    readme: { type: 'boolean', default: false },
    vsix: { type: 'string' },
    'no-node': { type: 'boolean', default: false },
    'no-debug': { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
  },
});
const outDir = resolve(values.out ?? (values.readme ? join(here, '..', '..', 'media', 'screenshots') : join(here, 'screenshots')));
// Small enough for the Marketplace page and the .vsix, large enough to read the code.
const viewport = { width: 1280, height: 800 };

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
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(sig, async () => {
    say(`${sig}: stopping`);
    await cleanup();
    process.exit(code);
  });
}

async function shoot(page, name) {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, name);
  await page.screenshot({ path: file });
  say(`saved ${file}`);
  return file;
}

/** Runs a command through the command palette, as a person would. */
async function palette(page, title, { enter = true } = {}) {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget').waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.type(title);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
  await page.waitForTimeout(400);
  if (enter) await page.keyboard.press('Enter');
}

/** Opens the Kubelet view container: by its activity-bar entry, else through the command palette. */
async function showKubeletView(page) {
  const entry = page.locator('.activitybar .action-item').filter({ has: page.locator('a[aria-label^="Kubelet"]') });
  try {
    await entry.first().waitFor({ timeout: 15_000 });
    await entry.first().click();
  } catch {
    say('no "Kubelet" entry in the activity bar; trying the command palette');
    await palette(page, 'View: Show Kubelet');
  }
  // With one view in the container VS Code hides its pane header, so wait for it to exist only.
  await page.locator('.sidebar .pane-header[aria-label^="Nodes"]').first().waitFor({ state: 'attached', timeout: 15_000 });
}

const treeRows = (page) => page.locator('.sidebar .pane-body .monaco-list-row');

/** Drags the sash between the side bar and the editor, so the Nodes view's descriptions fit. */
async function widenSidebar(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const x = box.x + box.width;
  await page.mouse.move(x, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(width, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

async function nodesView(page) {
  await showKubeletView(page);
  await widenSidebar(page, 600);
  await treeRows(page).first().waitFor({ timeout: 10_000 });
  await page.waitForTimeout(1000);
  // Expand the first node, so the picture shows the kubelet unit as the extension reads it.
  const first = treeRows(page).first();
  if ((await first.getAttribute('aria-expanded')) !== 'true') await first.click();
  await treeRows(page).filter({ hasText: 'Command line' }).first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1000);
  const rows = await treeRows(page).allInnerTexts();
  say(`Nodes view rows: ${rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ')}`);
  await page.mouse.move(viewport.width - 20, viewport.height - 40); // no hover tooltip over the view
  await page.waitForTimeout(500);
}

/** The kubeconfig's context with its node expanded: Ready, version, pods, and the SSH target with the unit below. */
async function clusterView(page) {
  await showKubeletView(page);
  await widenSidebar(page, 640);
  const worker = treeRows(page).filter({ hasText: 'v1.20.2' }).first();
  await worker.waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);
  if ((await worker.getAttribute('aria-expanded')) !== 'true') await worker.click();
  await treeRows(page).filter({ hasText: 'SSH target' }).first().waitFor({ timeout: 30_000 });
  await treeRows(page).filter({ hasText: 'kubelet.service' }).last().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1500);
  const rows = await treeRows(page).allInnerTexts();
  say(`Nodes view rows: ${rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ')}`);
  await page.mouse.move(viewport.width - 20, viewport.height - 40);
  await page.waitForTimeout(500);
}

async function dropInWithHover(page) {
  await treeRows(page).filter({ hasText: '10-kubeadm.conf' }).first().click();
  const editor = page.locator('.editor-instance .monaco-editor').first();
  const word = editor.locator('.view-line span', { hasText: /^EnvironmentFile$/ }).first();
  await word.waitFor({ timeout: 20_000 });
  await page.waitForTimeout(800);
  await word.hover();
  await page.locator('.monaco-hover:not(.hidden) .hover-contents').first().waitFor({ timeout: 10_000 });
  await page.waitForTimeout(800);
  await shoot(page, 'drop-in-hover.png');
  await palette(page, 'View: Close All Editors');
}

async function debugFlow(page) {
  await palette(page, 'Kubelet: Debug kubelet on node', { enter: false });
  await shoot(page, 'flow-1-command.png');
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sandbox-node' }).first().waitFor({ timeout: 15_000 });
  await page.waitForTimeout(500);
  await shoot(page, 'flow-2-pick-node.png');
  await page.keyboard.press('Enter');
  const progress = page.locator('.notification-toast', { hasText: /Debug kubelet on/ }).first();
  await progress.waitFor({ timeout: 30_000 });
  // The build is the longest step: take the picture while the notification says what it does.
  await page
    .locator('.notification-toast', { hasText: /Build|Upload|Starting|Delve/i })
    .first()
    .waitFor({ timeout: 60_000 })
    .catch(() => {});
  await shoot(page, 'flow-3-progress.png');
  const t0 = Date.now();
  // Stopped: the editor marks the top frame's line; then the Run and Debug view shows the call
  // stack with the kubelet's syncLoop frame, and its variables.
  await page.locator('.monaco-editor .debug-top-stack-frame-line').first().waitFor({ timeout: 300_000 });
  say(`stopped after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // While the kubelet is halted, the Nodes view shows the debug drop-in and Delve's command line.
  await palette(page, 'Kubelet: Refresh');
  await treeRows(page)
    .filter({ hasText: /99-kubelet-remote-debug/ })
    .first()
    .waitFor({ timeout: 30_000 });
  await palette(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(900, 620);
  await page.waitForTimeout(800);
  await shoot(page, 'flow-4-debugging-nodes-view.png');
  await palette(page, 'View: Show Run and Debug');
  await widenSidebar(page, 440);
  const debugRows = page.locator('.sidebar .monaco-list-row');
  await debugRows.filter({ hasText: 'syncLoop' }).first().waitFor({ timeout: 30_000 });
  // The goroutine that hit the breakpoint, expanded, and the frame's locals, as a person would look.
  await page
    .locator('.sidebar .pane-header', { hasText: 'Watch' })
    .first()
    .click()
    .catch(() => {});
  const stopped = debugRows.filter({ hasText: /paused on/i }).first();
  if ((await stopped.count()) > 0 && (await stopped.getAttribute('aria-expanded')) === 'false') await stopped.click();
  const locals = debugRows.filter({ hasText: /^\s*Locals\s*$/ }).first();
  if ((await locals.count()) > 0 && (await locals.getAttribute('aria-expanded')) === 'false') await locals.click();
  await page.waitForTimeout(1500);
  await palette(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(900, 620);
  await page.waitForTimeout(800);
  await shoot(page, 'syncloop-stop.png');
  // End the session (Shift+F5 in the editor): the node runs its own kubelet again.
  await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Shift+F5');
  await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 60_000 });
  await showKubeletView(page);
  await widenSidebar(page, 600);
  const restored = treeRows(page)
    .filter({ hasText: /ExecStart\s*\/usr\/bin\/kubelet/ })
    .first();
  for (let i = 0; i < 20 && (await restored.count()) === 0; i++) {
    await page
      .locator('.sidebar .pane-header .codicon-refresh, .sidebar .title-actions .codicon-refresh')
      .first()
      .click()
      .catch(() => {});
    await page.waitForTimeout(1500);
  }
  await restored.waitFor({ timeout: 10_000 });
  await page.waitForTimeout(1000);
  await palette(page, 'Notifications: Clear All Notifications');
  await page.mouse.move(900, 620);
  await page.waitForTimeout(500);
  await shoot(page, 'flow-5-restored.png');
}

/** The Getting Started walkthrough, opened as a user would (Welcome: Open Walkthrough…). */
async function walkthrough(page) {
  await palette(page, 'Welcome: Open Walkthrough');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Debug the kubelet on a node' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.type('Debug the kubelet on a node');
  await page.waitForTimeout(400);
  await page.keyboard.press('Enter');
  await page.locator('.gettingStartedContainer', { hasText: 'Add a node' }).first().waitFor({ timeout: 20_000 });
  await page.waitForTimeout(1500);
  await page.mouse.move(viewport.width - 20, viewport.height - 40);
  await shoot(page, 'walkthrough.png');
  await palette(page, 'View: Close All Editors');
}

async function main() {
  let url = positionals[0];
  const withNode = !values['no-node'];
  if (!url) {
    const sandbox = await startSandbox({ vsix: values.vsix, withNode, cluster: values.cluster, onStop: (fn) => (stopSandbox = fn) });
    url = sandbox.url;
  }
  browser = await launchChromium({ userDataDir: join(profile, 'browser'), viewport });
  const { page } = browser;
  const t0 = Date.now();
  await page.goto(url);
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60_000 });
  say(`workbench up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (values.cluster) {
    await clusterView(page);
    await shoot(page, 'cluster-view.png');
    return;
  }
  if (!withNode) {
    await showKubeletView(page);
    await shoot(page, 'nodes-view.png');
    return;
  }
  await nodesView(page);
  await shoot(page, 'nodes-view.png');
  await dropInWithHover(page);
  await walkthrough(page);
  if (!values['no-debug']) await debugFlow(page);
}

let code = 0;
try {
  await main();
} catch (e) {
  say(`failed: ${e.message}`);
  code = 1;
  // Whatever the page shows is the best clue to why.
  if (browser) await shoot(browser.page, 'failure.png').catch(() => {});
}
await cleanup();
process.exit(code);
