/**
 * WebKit: WebKitGTK's MiniBrowser (Debian's `libwebkit2gtk-4.1-0`, pulled in by
 * `webkit2gtk-driver`) driven by `WebKitWebDriver` through selenium-webdriver, on an Xvfb display
 * of our own (MiniBrowser has no headless mode, and without a display the new-session request
 * hangs). Playwright's `webkit` needs Playwright's own WebKit build, which we never download.
 *
 * Each context is one WebDriver session (its own driver process and MiniBrowser); MiniBrowser in
 * automation mode keeps its storage in memory (an ephemeral session), so a context's storage is
 * its own, and nothing survives the process: no kill-and-relaunch on a profile here. WebDriver
 * classic has no console events: the page's console calls and uncaught errors are recorded by a
 * shim that each evaluation (and each read of the reports) installs in the current document, kept in
 * the tab's sessionStorage so that they survive a reload. What a document logs before the first
 * evaluation in it is not seen.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { By, Key, type WebDriver } from 'selenium-webdriver';
import {
  artifactPath,
  type EngineBrowser,
  type EngineContext,
  type EngineDriver,
  type EnginePage,
  type Report,
  TWO_FRAMES,
} from './engine';
import { keyChord, loaded, pollPage } from './page-common';

import {
  MINIBROWSER,
  startSession,
  startXvfb,
  stop,
  stopGroup,
  WEBKIT_DRIVER,
  within,
  XVFB,
} from './webkit-session';

/** Installed in a document once: records console calls and uncaught errors in sessionStorage. */
const SHIM = `if (!window.__tetherReports) {
  window.__tetherReports = true;
  const put = (type, text) => {
    try {
      const list = JSON.parse(sessionStorage.getItem('__tetherReports') || '[]');
      list.push({ type, text });
      sessionStorage.setItem('__tetherReports', JSON.stringify(list));
    } catch {}
  };
  for (const type of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = console[type];
    console[type] = function (...args) {
      put(type, args.map(String).join(' '));
      return original.apply(this, args);
    };
  }
  addEventListener('error', (event) => put('pageerror', String(event.error ?? event.message)));
  addEventListener('unhandledrejection', (event) => put('pageerror', String(event.reason)));
}`;

/** Runs arguments[0] (a function's source) on arguments[1]; the result comes back as JSON. */
const EVALUATE = `const done = arguments[arguments.length - 1];
${SHIM}
Promise.resolve()
  .then(() => (0, eval)('(' + arguments[0] + ')')(arguments[2] ? undefined : arguments[1]))
  .then(
    (value) => done({ json: value === undefined ? undefined : JSON.stringify(value) }),
    (error) => done({ error: String((error && error.stack) || error) }),
  );`;

const DRAIN = `${SHIM}
const list = JSON.parse(sessionStorage.getItem('__tetherReports') || '[]');
sessionStorage.removeItem('__tetherReports');
return list;`;

const KEYS: Record<string, string> = {
  Enter: Key.ENTER,
  Tab: Key.TAB,
  Shift: Key.SHIFT,
  Control: Key.CONTROL,
  Alt: Key.ALT,
  Escape: Key.ESCAPE,
  Backspace: Key.BACK_SPACE,
  Space: ' ',
  ArrowUp: Key.ARROW_UP,
  ArrowDown: Key.ARROW_DOWN,
  ArrowLeft: Key.ARROW_LEFT,
  ArrowRight: Key.ARROW_RIGHT,
  Home: Key.HOME,
  End: Key.END,
};

/** Serialises the session's commands: a command goes to the window last switched to. */
function serial() {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = last.then(task, task);
    last = run.catch(() => {});
    return run;
  };
}

function wrapContext(driver: WebDriver, end: () => Promise<void>): EngineContext {
  const inSession = serial();
  let initialFree = true;
  let open = 0;
  const wrapPage = (handle: string): EnginePage => {
    const reports: Report[] = [];
    const onPage = <T>(task: () => Promise<T>) =>
      inSession(async () => {
        await driver.switchTo().window(handle);
        return task();
      });
    const drain = async () => {
      const list = (await driver.executeScript(DRAIN).catch(() => [])) as Report[];
      reports.push(...list);
    };
    const self: EnginePage = {
      engine: 'webkit',
      native: { driver, handle },
      goto: (url) =>
        onPage(async () => {
          await drain();
          await driver.get(url);
        }),
      reload: (() =>
        onPage(async () => {
          await drain();
          await driver.navigate().refresh();
        })) as EnginePage['reload'],
      url: () => onPage(() => driver.getCurrentUrl()),
      evaluate: ((fn: (arg: unknown) => unknown, arg?: unknown) =>
        onPage(async () => {
          const result = (await driver.executeAsyncScript(
            EVALUATE,
            String(fn),
            arg ?? null,
            arg === undefined,
          )) as {
            json?: string;
            error?: string;
          };
          if (result.error !== undefined) throw new Error(`Evaluation failed in WebKit: ${result.error}`);
          return result.json === undefined || result.json === null ? undefined : JSON.parse(result.json);
        })) as EnginePage['evaluate'],
      waitForFunction: (fn, arg, options) => pollPage(self, fn, arg, options),
      click: (selector) => onPage(async () => driver.findElement(By.css(selector)).click()),
      fill: (selector, text) =>
        onPage(async () => {
          const element = await driver.findElement(By.css(selector));
          await element.clear();
          await element.sendKeys(text);
        }),
      press: (key) =>
        onPage(async () => {
          const keys = keyChord(key).map((name) => KEYS[name] ?? name);
          const actions = driver.actions();
          for (const held of keys.slice(0, -1)) actions.keyDown(held);
          actions.sendKeys(keys.at(-1) as string);
          for (const held of keys.slice(0, -1).reverse()) actions.keyUp(held);
          await actions.perform();
        }),
      type: (text) => onPage(() => driver.actions().sendKeys(text).perform()),
      setViewport: (width, height) =>
        onPage(async () => {
          await driver.manage().window().setRect({ width, height });
        }),
      screenshot: (name) =>
        onPage(async () => {
          const path = artifactPath(`${name}-webkit`);
          await driver.executeAsyncScript(
            `const done = arguments[arguments.length - 1]; (${String(TWO_FRAMES)})().then(done);`,
          );
          writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64'));
          return path;
        }),
      reports: () =>
        onPage(async () => {
          await drain();
          return [...reports];
        }),
      close: () =>
        onPage(async () => {
          open -= 1;
          // The session's last window stays (closing it would end the session): it is emptied.
          if (open === 0) await driver.get('about:blank');
          else await driver.close();
        }),
    };
    return self;
  };
  return {
    engine: 'webkit',
    newPage: () =>
      inSession(async () => {
        open += 1;
        if (initialFree) {
          initialFree = false;
          return wrapPage(await driver.getWindowHandle());
        }
        // From a window that exists: the current one may have been closed.
        await driver.switchTo().window((await driver.getAllWindowHandles())[0] as string);
        await driver.switchTo().newWindow('tab');
        return wrapPage(await driver.getWindowHandle());
      }),
    async waitForPage(trigger) {
      const before = new Set(await inSession(() => driver.getAllWindowHandles()));
      await trigger();
      const deadline = performance.now() + 5000;
      for (;;) {
        const handles = await inSession(() => driver.getAllWindowHandles());
        const handle = handles.find((candidate) => !before.has(candidate));
        if (handle !== undefined) {
          open += 1;
          return loaded(wrapPage(handle));
        }
        if (performance.now() > deadline) throw new Error('No new tab within 5000 ms');
        await new Promise<void>((resolve) => setTimeout(resolve, 25));
      }
    },
    close: end,
  };
}

export const webkitDriver: EngineDriver = {
  engine: 'webkit',
  noProfile:
    'MiniBrowser in automation mode keeps its storage in memory (an ephemeral session), so nothing survives a kill',
  missing() {
    const missing: string[] = [];
    for (const [path, pkg] of [
      [WEBKIT_DRIVER, 'webkit2gtk-driver'],
      [MINIBROWSER, 'webkit2gtk-driver'],
      [XVFB, 'xvfb'],
    ] as const) {
      try {
        accessSync(path, constants.X_OK);
      } catch {
        if (!missing.includes(pkg)) missing.push(pkg);
      }
    }
    return missing.length === 0
      ? undefined
      : `no WebKitWebDriver, MiniBrowser or Xvfb. Install them with \`sudo apt-get install -y ${missing.join(' ')}\`.`;
  },
  async launch(): Promise<EngineBrowser> {
    const xvfb = await startXvfb();
    const sessions = new Set<{ driver: WebDriver; child: ChildProcess }>();
    const end = async (session: { driver: WebDriver; child: ChildProcess }) => {
      if (!sessions.delete(session)) return;
      await within(session.driver.quit(), 10_000, 'Ending the WebKit session').catch(() => {});
      await stopGroup(session.child);
    };
    return {
      engine: 'webkit',
      async newContext() {
        const session = await startSession(xvfb.display);
        sessions.add(session);
        return wrapContext(session.driver, () => end(session));
      },
      async close() {
        await Promise.all([...sessions].map(end));
        await stop(xvfb.child);
      },
    };
  },
};
