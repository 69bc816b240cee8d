// A loopback HTTP endpoint through which tests in the extension host look at the workbench and act
// on it as a person would: read the status bar, list notifications, click a notification's button.
// The shim passes its URL (with a random token) to the extension host as KRD_UI_PROBE.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const CLICK_TIMEOUT_MS = 3000;

/**
 * @param {() => import('playwright-core').Page | undefined} getPage  the workbench page, once it exists
 * @returns {Promise<{url: string, close(): Promise<void>}>}
 */
export async function startUiProbe(getPage) {
  const token = randomBytes(16).toString('hex');
  const server = createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://probe');
    const [, given, ...route] = url.pathname.split('/');
    if (given !== token) return reply(403, { error: 'wrong token' });
    const page = getPage();
    if (!page) return reply(503, { error: 'the workbench page is not open yet' });
    handle(page, route.join('/'), url.searchParams)
      .then(([status, body]) => reply(status, body))
      .catch((err) => reply(500, { error: err?.message ?? String(err) }));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/${token}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** @returns {Promise<[number, unknown]>} */
async function handle(page, route, params) {
  switch (route) {
    case 'status-bar':
      // Every entry the status bar renders, with the id VS Code gives it (extension id + item id).
      return [
        200,
        await page.$$eval('.part.statusbar .statusbar-item', (els) =>
          els.map((e) => ({
            id: e.id,
            text: e.innerText.trim(),
            label: e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? e.getAttribute('aria-label') ?? '',
            visible: e.offsetParent !== null,
          })),
        ),
      ];
    case 'notifications':
      // Toasts and, when it is open, the notification center.
      return [
        200,
        await page.$$eval('.notification-list-item', (els) =>
          els
            .filter((e) => e.offsetParent !== null)
            .map((e) => ({
              message: e.querySelector('.notification-list-item-message')?.innerText.trim() ?? '',
              buttons: [...e.querySelectorAll('.notification-list-item-buttons-container .monaco-button')].map((b) => b.innerText.trim()),
            })),
        ),
      ];
    case 'notifications/click': {
      const message = params.get('message') ?? '';
      const button = params.get('button') ?? '';
      const items = page.locator('.notification-list-item:visible', { hasText: message });
      const count = await items.count();
      if (count !== 1) return [404, { error: `${count} visible notifications contain "${message}"` }];
      const target = items.locator('.notification-list-item-buttons-container .monaco-button', {
        hasText: new RegExp(`^\\s*${escapeRegExp(button)}\\s*$`),
      });
      if ((await target.count()) !== 1) return [404, { error: `the notification "${message}" has no button "${button}"` }];
      // A click, as a person would; in a long notification center list the sticky header can lie over
      // the button, and then the keyboard does it (a focused button acts on Enter).
      try {
        await target.click({ timeout: CLICK_TIMEOUT_MS });
        return [200, { clicked: true, how: 'click' }];
      } catch {
        await target.press('Enter', { timeout: CLICK_TIMEOUT_MS });
        return [200, { clicked: true, how: 'Enter' }];
      }
    }
    default:
      return [404, { error: `no route ${route}` }];
  }
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
