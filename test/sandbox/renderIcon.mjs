// Renders media/icon.svg to the 128×128 media/icon.png that package.json names as the icon, with
// headless Chromium (the same one the tests drive). Run it after editing the SVG.
//   node test/sandbox/renderIcon.mjs
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../vscode/lib/chromium.mjs';

const media = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'media');
const profile = mkdtempSync(join(tmpdir(), 'krd-icon-'));
const browser = await launchChromium({ userDataDir: profile, viewport: { width: 128, height: 128 } });
try {
  const svg = readFileSync(join(media, 'icon.svg'), 'utf8');
  await browser.page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await browser.page.locator('svg').screenshot({ path: join(media, 'icon.png'), omitBackground: true });
  console.log(join(media, 'icon.png'));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
