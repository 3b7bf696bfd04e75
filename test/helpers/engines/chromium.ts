/**
 * Chromium through playwright-core: the system's Chromium (Debian's `chromium`, or CHROME_PATH),
 * never a downloaded one. A profile browser is started by us in its own process group (so that a
 * SIGKILL takes every process of it) and reached over CDP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, findChromium, launchBrowser, missingChromiumMessage } from '../browser';
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
import { loaded, pollPage } from './page-common';

const VIEWPORT = { width: 1280, height: 720 };

function wrapPage(page: Page): EnginePage {
  const reports: Report[] = [];
  page.on('console', (message) => {
    const type = message.type();
    reports.push({
      type: type === 'warning' ? 'warn' : (type as Report['type']),
      text: message.text(),
    });
  });
  page.on('pageerror', (error) => reports.push({ type: 'pageerror', text: String(error) }));
  const self: EnginePage = {
    engine: 'chromium',
    native: page,
    async goto(url) {
      await page.goto(url);
    },
    async reload() {
      await page.reload();
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
      await page.fill(selector, text);
    },
    async press(key) {
      await page.keyboard.press(key);
    },
    async type(text) {
      await page.keyboard.type(text);
    },
    async setViewport(width, height) {
      await page.setViewportSize({ width, height });
    },
    async screenshot(name) {
      const path = artifactPath(`${name}-chromium`);
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

function wrapContext(context: BrowserContext): EngineContext {
  return {
    engine: 'chromium',
    async newPage() {
      return wrapPage(await context.newPage());
    },
    async waitForPage(trigger) {
      const [page] = await Promise.all([context.waitForEvent('page'), trigger()]);
      return loaded(wrapPage(page));
    },
    close: () => context.close(),
  };
}

/**
 * Starts Chromium on `folder`/profile in its own process group and connects to it over CDP. Its
 * TMPDIR is `folder`/tmp: Chromium removes its `org.chromium.Chromium.*` folders there only on a
 * clean exit, and a SIGKILLed one would leave them in the system's.
 */
async function launchOn(folder: string): Promise<{ browser: Browser; child: ChildProcess }> {
  const tmp = join(folder, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const child = spawn(
    findChromium() as string,
    [
      ...CHROMIUM_ARGS,
      '--headless',
      `--user-data-dir=${join(folder, 'profile')}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmp } },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${output}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}):\n${output}`));
    });
  });
  return { browser: await chromium.connectOverCDP(endpoint), child };
}

/** SIGKILL of the child's process group; resolves once the child is gone. */
export function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      resolve();
    }
  });
}

async function launchOnProfile(): Promise<ProfileBrowser> {
  const profile = tempFolder('tether-chromium-profile-');
  let current = await launchOn(profile.path);
  const contextOf = async (browser: Browser) =>
    wrapContext(browser.contexts()[0] ?? (await browser.newContext()));
  return {
    context: await contextOf(current.browser),
    kill: () => killGroup(current.child),
    async relaunch() {
      await killGroup(current.child);
      current = await launchOn(profile.path);
      return contextOf(current.browser);
    },
    async close() {
      await current.browser.close().catch(() => {});
      await killGroup(current.child);
      profile.remove();
    },
  };
}

export const chromiumDriver: EngineDriver = {
  engine: 'chromium',
  missing: () => (findChromium() === undefined ? missingChromiumMessage() : undefined),
  async launch(): Promise<EngineBrowser> {
    const browser = await launchBrowser();
    const contexts: BrowserContext[] = [];
    return {
      engine: 'chromium',
      async newContext() {
        const context = await browser.newContext({ viewport: VIEWPORT });
        contexts.push(context);
        return wrapContext(context);
      },
      launchOnProfile,
      async close() {
        await Promise.all(contexts.splice(0).map((context) => context.close().catch(() => {})));
        await browser.close();
      },
    };
  },
};
