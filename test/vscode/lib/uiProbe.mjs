// A loopback HTTP endpoint through which tests in the extension host look at the workbench and act
// on it as a person would: read the status bar, list notifications, click a notification's button,
// answer or cancel the input box (quick input), and click a row of a tree view.
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
    case 'quick-input':
      return [200, await quickInput(page)];
    case 'quick-input/answer': {
      // Typed key by key into the real input box and submitted with Enter, as a person would.
      const shown = await quickInput(page);
      if (!shown.visible) return [404, { error: 'no input box is shown' }];
      const input = page.locator(QUICK_INPUT_BOX);
      await input.click({ timeout: CLICK_TIMEOUT_MS });
      await input.press('ControlOrMeta+a');
      await input.pressSequentially(params.get('text') ?? '');
      await input.press('Enter');
      return [200, { answered: true }];
    }
    case 'quick-input/cancel': {
      const shown = await quickInput(page);
      if (!shown.visible) return [404, { error: 'no input box is shown' }];
      await page.locator(QUICK_INPUT_BOX).press('Escape');
      return [200, { cancelled: true }];
    }
    case 'tree/rows':
      // The rows a tree view renders (only those in view), with their label and description.
      return [
        200,
        await page.$$eval(`${treeSelector(params.get('view') ?? '')} .monaco-list-row`, (els) =>
          els.map((e) => ({
            label: e.querySelector('.label-name')?.textContent?.trim() ?? '',
            description: e.querySelector('.label-description')?.textContent?.trim() ?? '',
            level: Number(e.getAttribute('aria-level')),
            expanded: e.getAttribute('aria-expanded'),
          })),
        ),
      ];
    case 'tree/click': {
      const label = params.get('label') ?? '';
      const rows = page
        .locator(`${treeSelector(params.get('view') ?? '')} .monaco-list-row`)
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) });
      const count = await rows.count();
      if (count !== 1) return [404, { error: `${count} rows of the view are labelled "${label}"` }];
      // A hover the pointer left behind (a row's tooltip) lies over the rows below it: move away first.
      await page.mouse.move(0, 0);
      await page.locator('.context-view .hover-contents').waitFor({ state: 'hidden', timeout: CLICK_TIMEOUT_MS });
      await rows.click({ timeout: CLICK_TIMEOUT_MS });
      return [200, { clicked: true }];
    }
    default:
      return [404, { error: `no route ${route}` }];
  }
}

const QUICK_INPUT_BOX = '.quick-input-widget .quick-input-box input';

/** The input box as a person sees it: its title, the prompt under it, and whether it masks what is typed. */
function quickInput(page) {
  return page.evaluate(() => {
    const widget = document.querySelector('.quick-input-widget');
    const input = widget?.querySelector('.quick-input-box input');
    if (!widget || !input || widget.offsetParent === null || getComputedStyle(widget).display === 'none') return { visible: false };
    return {
      visible: true,
      title: widget.querySelector('.quick-input-title')?.textContent?.trim() ?? '',
      prompt: widget.querySelector('.quick-input-message')?.textContent?.trim() ?? '',
      placeholder: input.getAttribute('placeholder') ?? '',
      password: input.getAttribute('type') === 'password',
      focused: document.activeElement === input,
    };
  });
}

/** A view's tree by the view's name (the workbench labels the tree with it). */
function treeSelector(viewName) {
  return `.monaco-list[role="tree"][aria-label="${viewName.replace(/["\\]/g, '\\$&')}"]`;
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
