/**
 * Real-Chromium helpers for the e2e suites. They drive the system's Chromium (Debian's
 * `/usr/bin/chromium`, or `CHROME_PATH`) through playwright-core and never download a browser.
 *
 * A missing browser fails the suite in CI (where `CI` is set) and skips it, with a console note
 * saying how to get one, on a developer's machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type LaunchOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';

/** Where Debian's `chromium` package installs the browser. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, reproducible headless run in containers: no sandbox (containers often lack
 * the namespaces it needs), no GPU, no QUIC (plain TCP, like the tests' servers), and none of the
 * background traffic (updates, sync, first-run pages) that would add noise or hang offline.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** `test/artifacts/`, git-ignored. */
const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The UMD build (`dist/tether-ws.umd.js`) that the demo page and the browser fault page load. */
export const UMD_BUNDLE = join(ROOT, 'dist', 'tether-ws.umd.js');

/**
 * Builds {@link UMD_BUNDLE} with vite (`vite build --mode umd`: plain `vite build` writes only the ES
 * entries) when it is missing, and returns its path. `npm test` builds first; a lone run of an e2e
 * file may not have. Call it in `beforeAll`.
 */
export function ensureUmdBuild(): string {
  if (!existsSync(UMD_BUNDLE)) {
    execFileSync('npx', ['vite', 'build', '--mode', 'umd'], { cwd: ROOT, stdio: 'inherit' });
  }
  return UMD_BUNDLE;
}

/**
 * Waits until the demo page's `#state` badge shows `state`; the failure names the state it shows
 * instead.
 */
export async function expectDemoState(page: Page, state: string, timeout: number): Promise<void> {
  await page
    .locator(`#state[data-state="${state}"]`)
    .waitFor({ timeout })
    .catch(async (error: unknown) => {
      const shown = await page.locator('#state').getAttribute('data-state');
      throw new Error(`#state never became "${state}"; it shows "${shown}"`, { cause: error });
    });
}

/** The browser that would be used: `CHROME_PATH` if set, else `/usr/bin/chromium`. */
function chromiumCandidate(): string {
  const fromEnv = process.env.CHROME_PATH;
  // An empty CHROME_PATH= (as CI templates often leave it) means "not set".
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CHROMIUM_PATH;
}

/** The path of an executable Chromium, or `undefined` when there is none at the expected place. */
export function findChromium(): string | undefined {
  const path = chromiumCandidate();
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/** True when running in CI, where a missing browser is an error rather than a reason to skip. */
function inCI(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** What is missing and how to install it (`chromium`), for a skip note or a CI failure. */
export function missingChromiumMessage(): string {
  const path = chromiumCandidate();
  const where =
    path !== DEFAULT_CHROMIUM_PATH
      ? `CHROME_PATH=${path} is not an executable file`
      : `no Chromium at ${DEFAULT_CHROMIUM_PATH}`;
  return (
    `${where}. Install one with \`sudo apt-get install -y chromium\` (Debian/Ubuntu), ` +
    'or set CHROME_PATH to a Chromium or Chrome executable.'
  );
}

/**
 * Launches the system Chromium headless with {@link CHROMIUM_ARGS}. Playwright gives every
 * `launch()` a fresh temporary profile (user-data-dir) and deletes it on `close()`, so runs never
 * share cookies, cache or service workers. Throws with install instructions when none is found.
 *
 * @param options merged over the defaults; `args` are appended to {@link CHROMIUM_ARGS}.
 */
export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) throw new Error(`Cannot launch Chromium: ${missingChromiumMessage()}`);
  return chromium.launch({
    ...options,
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

export interface BrowserSuite {
  /** The suite's browser, launched in `beforeAll`. Throws if read before that. */
  readonly browser: Browser;
  /** A page in a fresh context (no shared storage); its context is closed after the test. */
  newPage(): Promise<Page>;
}

/**
 * `describe()` with a Chromium launched once for the suite (`beforeAll`) and closed at the end
 * (`afterAll`); pages made with `suite.newPage()` are closed after each test.
 *
 * Without a browser: in CI the suite fails with one test that says what is missing and how to fix
 * it; elsewhere it is skipped and the same advice is printed once.
 *
 * @example
 * describeWithBrowser('demo page', (suite) => {
 *   it('connects', async () => {
 *     const page = await suite.newPage();
 *     await page.goto(url);
 *   });
 * });
 */
export function describeWithBrowser(name: string, fn: (suite: BrowserSuite) => void): void {
  if (findChromium() === undefined) {
    const message = missingChromiumMessage();
    if (inCI()) {
      describe(name, () => {
        it('has a Chromium to run in', () => {
          throw new Error(`Browser tests cannot run in CI: ${message}`);
        });
      });
    } else {
      console.warn(`[tether-ws] Skipping browser suite "${name}": ${message}`);
      describe.skip(name, () => fn(unavailableSuite));
    }
    return;
  }

  describe(name, () => {
    let browser: Browser | undefined;
    const contexts: BrowserContext[] = [];
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterEach(async () => {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
    });
    afterAll(async () => {
      await browser?.close();
      browser = undefined;
    });
    fn({
      get browser() {
        if (browser === undefined)
          throw new Error('The browser is launched in beforeAll: use it inside a test.');
        return browser;
      },
      async newPage() {
        if (browser === undefined)
          throw new Error('The browser is launched in beforeAll: use it inside a test.');
        const context = await browser.newContext();
        contexts.push(context);
        return context.newPage();
      },
    });
  });
}

/** Handed to a skipped suite's body, which still runs to collect the (skipped) tests. */
const unavailableSuite: BrowserSuite = {
  get browser(): Browser {
    throw new Error('No browser: this suite is skipped.');
  },
  newPage() {
    return Promise.reject(new Error('No browser: this suite is skipped.'));
  },
};

/**
 * Saves a full-page PNG as `test/artifacts/NAME.png` (the folder is created if missing, and is
 * git-ignored) and returns its path. CI can upload the folder when a test fails.
 *
 * @param name letters, digits, `.`, `_` and `-` only, so it cannot escape the folder.
 * @param fullPage false for what the viewport shows, as a person sees it (the default is the whole page).
 */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw new Error(
      `screenshot(): invalid name ${JSON.stringify(name)}; use letters, digits, ".", "_" or "-".`,
    );
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

export interface SpawnedChromium {
  /** Playwright connected over CDP. */
  readonly browser: Browser;
  readonly child: ChildProcess;
  /** The folder given to Chromium as TMPDIR (removed by `kill()`). */
  readonly tmpDir: string;
  /** SIGKILLs the browser's process group, as a crash would, then removes `tmpDir`. */
  kill(): Promise<void>;
}

/**
 * Starts the system Chromium headless on `profile` in its own process group, for tests that kill it
 * (playwright's own launch deletes its profile on close, and cannot be SIGKILLed as a crash is).
 *
 * Chromium makes an `org.chromium.Chromium.*` folder in TMPDIR and removes it only on a clean exit:
 * a SIGKILLed browser leaves it behind. So it gets a TMPDIR of its own, which `kill()` removes.
 */
export async function spawnChromium(profile: string, { timeoutMs = 20_000 } = {}): Promise<SpawnedChromium> {
  const executable = findChromium();
  if (executable === undefined) throw new Error(`Cannot launch Chromium: ${missingChromiumMessage()}`);
  const tmpDir = mkdtempSync(join(tmpdir(), 'tether-chromium-tmp-'));
  const child = spawn(
    executable,
    [
      ...CHROMIUM_ARGS,
      '--headless',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: tmpDir } },
  );
  const kill = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(tmpDir, { recursive: true, force: true });
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', done);
      process.kill(-(child.pid as number), 'SIGKILL');
    });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${output}`)), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk;
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      child.once('exit', (code) => reject(new Error(`Chromium exited (${code}):\n${output}`)));
    });
    return { browser: await chromium.connectOverCDP(endpoint), child, tmpDir, kill };
  } catch (error) {
    await kill();
    throw error;
  }
}
