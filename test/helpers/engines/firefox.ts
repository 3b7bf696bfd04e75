/**
 * Firefox through puppeteer-core over WebDriver BiDi: Debian's `firefox-esr` (or FIREFOX_PATH),
 * headless, never a downloaded build and no geckodriver (BiDi needs none). Firefox writes profiles
 * and caches under HOME and TMPDIR, so each launch gets a temporary folder of its own for HOME,
 * TMPDIR, the XDG folders and the profile, deleted when the browser is closed.
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page, type Target } from 'puppeteer-core';
import {
  artifactPath,
  type EngineBrowser,
  type EngineContext,
  type EngineDriver,
  type EnginePage,
  type ProfileBrowser,
  type Report,
  TWO_FRAMES,
  tempFolder,
} from './engine';
import { keyChord, loaded, pollPage } from './page-common';

export const DEFAULT_FIREFOX_PATH = '/usr/bin/firefox-esr';
const VIEWPORT = { width: 1280, height: 720 };

function firefoxPath(): string {
  const fromEnv = process.env.FIREFOX_PATH;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_FIREFOX_PATH;
}

function wrapPage(page: Page): EnginePage {
  const reports: Report[] = [];
  page.on('console', (message) => {
    const type = message.type() as string;
    reports.push({ type: type === 'warning' ? 'warn' : (type as Report['type']), text: message.text() });
  });
  page.on('pageerror', (error) => {
    // Firefox logs a failed or cut WebSocket as a script error of the page (BiDi log type
    // "javascript"), though no script threw: it is the browser's network message.
    const network =
      /^Firefox can’t establish a connection to the server at |^The connection to .* was interrupted/;
    reports.push({
      type: network.test(String((error as Error)?.message)) ? 'network' : 'pageerror',
      text: String(error),
    });
  });
  const self: EnginePage = {
    engine: 'firefox',
    native: page,
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' });
    },
    async reload() {
      await page.reload({ waitUntil: 'load' });
    },
    async url() {
      return page.url();
    },
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    waitForFunction: (fn, arg, options) => pollPage(self, fn, arg, options),
    async click(selector) {
      await page.click(selector);
    },
    async fill(selector, text) {
      await page.locator(selector).fill(text);
    },
    async press(key) {
      const keys = keyChord(key) as Parameters<Page['keyboard']['press']>[0][];
      for (const held of keys.slice(0, -1)) await page.keyboard.down(held);
      await page.keyboard.press(keys.at(-1) as (typeof keys)[number]);
      for (const held of keys.slice(0, -1).reverse()) await page.keyboard.up(held);
    },
    async type(text) {
      await page.keyboard.type(text);
    },
    async setViewport(width, height) {
      await page.setViewport({ width, height });
    },
    async screenshot(name) {
      const path = artifactPath(`${name}-firefox`);
      await page.evaluate(TWO_FRAMES);
      writeFileSync(path, await page.screenshot());
      return path;
    },
    async reports() {
      return [...reports];
    },
    async close() {
      await page.close();
    },
  };
  return self;
}

/** `close` ends what the context stands for: a BiDi user context, or a profile browser's pages. */
function wrapContext(context: BrowserContext | Browser, close: () => Promise<void>): EngineContext {
  return {
    engine: 'firefox',
    async newPage() {
      const page = await context.newPage();
      await page.setViewport(VIEWPORT);
      return wrapPage(page);
    },
    async waitForPage(trigger) {
      const opened = new Promise<Page>((resolve, reject) => {
        const browser = 'browser' in context ? context.browser() : context;
        browser.once('targetcreated', (target: Target) =>
          target
            .page()
            .then(
              (page) => (page ? resolve(page) : reject(new Error('The new target is not a page'))),
              reject,
            ),
        );
      });
      const [page] = await Promise.all([opened, trigger()]);
      return loaded(wrapPage(page));
    },
    close,
  };
}

/** The pages of a profile browser are closed, the browser stays (the profile's owner ends it). */
function profileContext(browser: Browser): EngineContext {
  return wrapContext(browser, async () => {
    for (const page of await browser.pages()) await page.close().catch(() => {});
  });
}

/** Starts Firefox with its HOME, TMPDIR and profile inside `folder`. */
function start(folder: string): Promise<Browser> {
  const dirs = { home: join(folder, 'home'), tmp: join(folder, 'tmp'), profile: join(folder, 'profile') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath(),
    headless: true,
    userDataDir: dirs.profile,
    defaultViewport: VIEWPORT,
    env: {
      ...process.env,
      HOME: dirs.home,
      TMPDIR: dirs.tmp,
      XDG_CACHE_HOME: join(dirs.home, '.cache'),
      XDG_CONFIG_HOME: join(dirs.home, '.config'),
      XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
      XDG_RUNTIME_DIR: dirs.tmp,
    },
  });
}

/** SIGKILL of Firefox's process group (puppeteer starts it detached, as a group leader). */
async function killBrowser(browser: Browser): Promise<void> {
  const child = browser.process();
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-(child.pid as number), 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
  await exited;
}

async function launchOnProfile(): Promise<ProfileBrowser> {
  const folder = tempFolder('tether-firefox-profile-');
  let browser = await start(folder.path);
  return {
    context: profileContext(browser),
    kill: () => killBrowser(browser),
    async relaunch() {
      await killBrowser(browser);
      browser = await start(folder.path);
      return profileContext(browser);
    },
    async close() {
      await browser.close().catch(() => {});
      await killBrowser(browser);
      folder.remove();
    },
  };
}

export const firefoxDriver: EngineDriver = {
  engine: 'firefox',
  missing() {
    try {
      accessSync(firefoxPath(), constants.X_OK);
      return undefined;
    } catch {
      return `no Firefox at ${firefoxPath()}. Install it with \`sudo apt-get install -y firefox-esr\`, or set FIREFOX_PATH.`;
    }
  },
  async launch(): Promise<EngineBrowser> {
    const folder = tempFolder('tether-firefox-');
    const browser = await start(folder.path).catch((error: unknown) => {
      folder.remove();
      throw error;
    });
    const contexts: BrowserContext[] = [];
    return {
      engine: 'firefox',
      async newContext() {
        const context = await browser.createBrowserContext();
        contexts.push(context);
        return wrapContext(context, () => context.close().catch(() => {}));
      },
      launchOnProfile,
      async close() {
        await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => {})));
        await browser.close().catch(() => {});
        await killBrowser(browser);
        folder.remove();
      },
    };
  },
};
