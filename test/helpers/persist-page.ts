/**
 * A page of the test's own for the `tether-ws/persist` suites: served at `/persist-test` of a dev
 * server (so it shares the origin of `/dist/` and of the WebSocket routes), it imports the built ES
 * entries and exposes them as `window.T` (core), `window.P` (persist) and `window.E` (exactly-once).
 * The route is installed on a browser context, so reloads and new tabs of that context get it too.
 */
import type { BrowserContext, Page } from 'playwright-core';

export const PERSIST_PAGE_PATH = '/persist-test';

const PAGE = `<!doctype html><meta charset="utf-8"><title>tether-ws/persist</title>
<script type="module">
  import * as T from '/dist/tether-ws.js';
  import * as P from '/dist/persist.js';
  import * as E from '/dist/exactly-once.js';
  Object.assign(window, { T, P, E });
</script>`;

export type PersistWindow = Window & {
  T: typeof import('../../client/index.js');
  P: typeof import('../../client/persist/index.js');
  E: typeof import('../../client/exactly-once/index.js');
};

/** Serves the page to every tab of `context`. */
export async function servePersistPage(context: BrowserContext): Promise<void> {
  await context.route(`**${PERSIST_PAGE_PATH}`, (route) =>
    route.fulfill({ body: PAGE, contentType: 'text/html; charset=utf-8' }),
  );
}

/** Waits until the page's modules are loaded (after a goto or a reload). */
export async function persistPageReady(page: Page, timeout = 10_000): Promise<void> {
  await page.waitForFunction(() => 'P' in window && 'E' in window, undefined, { timeout });
}

/** Opens the page in a new tab of `context` at `origin`. */
export async function openPersistPage(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}${PERSIST_PAGE_PATH}`);
  await persistPageReady(page);
  return page;
}
