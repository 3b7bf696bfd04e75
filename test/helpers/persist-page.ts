/**
 * A page of the test's own for the `tether-ws/persist` suites: `/persist-test` of a dev server (a
 * 404 page, so that nothing of the demo runs in it; it shares the origin of `/dist/` and of the
 * WebSocket routes), into which a script imports the built ES
 * entries and exposes them as `window.T` (core), `window.P` (persist) and `window.E` (exactly-once),
 * and a client the tests drive (`startClient`, `sendAll`, `seen`; each received message is also
 * logged as `got <text>` to the console, which outlives a reload).
 */
import type { BrowserContext, Page } from 'playwright-core';
import type { EngineContext, EnginePage } from './engines';

export const PERSIST_PAGE_PATH = '/persist-test';

/**
 * Run in every page of the context before its own scripts: a classic script, so the entries come in
 * by dynamic import. (A page fulfilled by the test through `route()` would count as a public
 * address to Chromium's local network access checks, which then block its WebSockets to
 * 127.0.0.1; the dev server's own 404 page at this path is a local document.)
 */
const SCRIPT = `window.persistReady = (async () => {
  const [T, P, E] = await Promise.all([
    import('/dist/tether-ws.js'),
    import('/dist/persist.js'),
    import('/dist/exactly-once.js'),
  ]);
  Object.assign(window, { T, P, E });
  // One client per page, driven by the tests: window.startClient(), then window.client and window.seen.
  window.startClient = async ({ url, name, exactly, resumeWindow, retryDelay = 50 }) => {
    const seen = { got: [], redelivered: [], errors: [], lost: [], owned: '' };
    window.seen = seen;
    const store = name === null ? P.memoryStore() : P.browserStore(name);
    const delivery = await P.persist(store, exactly ? E.exactlyOnce(resumeWindow ? { resumeWindow } : undefined) : undefined);
    seen.owned = store.owned ?? '';
    const client = new T.WebSocketClient(url, {
      delivery,
      heartbeat: false,
      reconnect: { minDelay: retryDelay, maxDelay: Math.max(300, retryDelay), jitter: 0 },
    });
    client.on('message', (text, info) => {
      seen.got.push(text);
      if (info?.redelivered) seen.redelivered.push(text);
      console.log(\`got \${text}\`);
    });
    client.on('error', (error) => seen.errors.push(\`\${error.code}: \${error.message}\`));
    client.on('session-lost', ({ reason, undelivered }) => seen.lost.push({ reason, undelivered }));
    window.client = client;
    client.open();
  };
  window.sendAll = (texts) => {
    for (const text of texts) {
      window.client.send(text);
      console.log(\`sent \${text}\`);
    }
  };
})();`;

/** What a page's client saw: messages, `error` events (`code: message`), `session-lost` events. */
export interface Seen {
  got: string[];
  /** The messages its listeners got flagged `redelivered` (restored after a crash). */
  redelivered: string[];
  errors: string[];
  lost: Array<{ reason: string; undelivered: unknown[] }>;
  /** The name the page's store owns (`browserStore().owned`). */
  owned: string;
}

export type PersistWindow = Window & {
  T: typeof import('../../client/index.js');
  P: typeof import('../../client/persist/index.js');
  E: typeof import('../../client/exactly-once/index.js');
  /** Creates `window.client` with `persist(browserStore(name))` (`name` null: a memory store), and opens it. */
  startClient(options: {
    url: string;
    name: string | null;
    exactly: boolean;
    resumeWindow?: number;
  }): Promise<void>;
  /** `client.send()` of each text, logging `sent <text>` to the console. */
  sendAll(texts: string[]): void;
  client: import('../../client/index.js').WebSocketClient<string, string>;
  seen: Seen;
};

/** Makes every tab of `context` (reloads and new tabs included) a test page. */
export async function servePersistPage(context: BrowserContext): Promise<void> {
  await context.addInitScript(SCRIPT);
}

const isEnginePage = (page: Page | EnginePage): page is EnginePage => 'engine' in page;

/**
 * Waits until the page's modules are loaded (after a goto or a reload), running the script in it
 * when it is not there yet: always for an engine page (the harness has no init scripts: WebDriver
 * classic has none), and for a playwright tab opened by `window.open()`, which ran its init
 * script in its initial `about:blank`, whose window it keeps for the same-origin page it then
 * loads, where the imports failed.
 */
export async function persistPageReady(page: Page | EnginePage): Promise<void> {
  if (!isEnginePage(page)) await page.waitForLoadState('load');
  const evaluate = <R, A>(fn: (arg: A) => R | Promise<R>, arg: A) =>
    (isEnginePage(page) ? page.evaluate(fn, arg) : page.evaluate(fn as never, arg)) as Promise<Awaited<R>>;
  const loaded = () =>
    evaluate(() => {
      const ready = (window as { persistReady?: Promise<void> }).persistReady;
      return ready
        ? ready.then(
            () => true,
            () => false,
          )
        : false;
    }, undefined);
  if (!(await loaded())) {
    // As an inline classic script of the page's own (run on insertion), not inside the evaluation.
    await evaluate((script: string) => {
      const element = document.createElement('script');
      element.textContent = script;
      document.head.append(element);
    }, SCRIPT);
    if (!(await loaded()))
      throw new Error(`The test page at ${await page.url()} could not import the entries`);
  }
}

/** Opens the page in a new tab of `context` at `origin`. */
export async function openPersistPage(context: BrowserContext, origin: string): Promise<Page>;
export async function openPersistPage(context: EngineContext, origin: string): Promise<EnginePage>;
export async function openPersistPage(
  context: BrowserContext | EngineContext,
  origin: string,
): Promise<Page | EnginePage> {
  const page = await context.newPage();
  await page.goto(`${origin}${PERSIST_PAGE_PATH}`);
  await persistPageReady(page);
  return page;
}
