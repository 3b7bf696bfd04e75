/**
 * What every engine driver offers the e2e suites (test/helpers/engines/): a test is written once
 * against these interfaces and runs in Chromium (playwright-core), Firefox (puppeteer-core over
 * WebDriver BiDi) and WebKit (WebKitGTK's MiniBrowser through WebKitWebDriver and
 * selenium-webdriver). Only what all three can do is here; a test that needs more of one engine
 * reads `page.native` and says in one line why the others are skipped.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type EngineName = 'chromium' | 'firefox' | 'webkit';

/**
 * A line the page reported: a console call (by its method), an uncaught error (`pageerror`), or
 * a message the browser itself printed about a connection of the page (`network`: Firefox's "can't
 * establish a connection to the server at ws://..." and "connection ... was interrupted"; Chromium's
 * equivalents do not reach playwright's console events, WebKit's do not reach the page).
 */
export interface Report {
  type: 'log' | 'info' | 'warn' | 'error' | 'debug' | 'pageerror' | 'network';
  text: string;
}

export interface WaitOptions {
  /** Milliseconds; the default is 5,000. */
  timeout?: number;
  /** Names what was awaited in the failure. */
  message?: string;
}

/** One tab. Every method waits for the engine to have done it. */
export interface EnginePage {
  readonly engine: EngineName;
  /** The engine's own page object (playwright Page, puppeteer Page, or a selenium window handle). */
  readonly native: unknown;
  /** Loads `url` and waits for its `load` event. */
  goto(url: string): Promise<void>;
  /** Reloads and waits for `load`. */
  reload(): Promise<void>;
  /** The page's current address. */
  url(): Promise<string>;
  /**
   * Runs `fn(arg)` in the page and returns its (awaited) result. `fn` is sent as source text: it
   * may use only its argument and the page's globals. `arg` and the result must be JSON values.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Runs `fn(arg)` in the page until it returns something truthy, and returns that. */
  waitForFunction<R, A = undefined>(
    fn: (arg: A) => R | Promise<R>,
    arg?: A,
    options?: WaitOptions,
  ): Promise<NonNullable<Awaited<R>>>;
  /** A real click (mouse or WebDriver element click) on the first element matching `selector`. */
  click(selector: string): Promise<void>;
  /** Replaces the text of an input matching `selector` by typing `text` into it. */
  fill(selector: string, text: string): Promise<void>;
  /** Presses one key (`Enter`, `Tab`, `Shift+Tab`, `Space`, a letter) with the focus where it is. */
  press(key: string): Promise<void>;
  /** Types `text` with the keyboard, one key at a time, into whatever has the focus. */
  type(text: string): Promise<void>;
  /** Sets the viewport (what a person sees, without the browser's own chrome) in CSS pixels. */
  setViewport(width: number, height: number): Promise<void>;
  /**
   * Saves a PNG of the viewport as `test/artifacts/NAME-ENGINE.png`, after two animation frames
   * (WebKit can otherwise show the page as it was before the last change), and returns its path.
   */
  screenshot(name: string): Promise<string>;
  /** Everything the page reported so far (console calls, uncaught errors), oldest first. */
  reports(): Promise<Report[]>;
  close(): Promise<void>;
}

/** Pages that share storage (cookies, localStorage, IndexedDB): tabs of one profile. */
export interface EngineContext {
  readonly engine: EngineName;
  newPage(): Promise<EnginePage>;
  /**
   * The tab that `trigger` makes a page open (`window.open()`), once its document has loaded
   * (`readyState` complete, no longer `about:blank`).
   */
  waitForPage(trigger: () => Promise<unknown>): Promise<EnginePage>;
  close(): Promise<void>;
}

/** A browser on a profile folder that outlives it: kill it, start it again, find the storage. */
export interface ProfileBrowser {
  readonly context: EngineContext;
  /** SIGKILL of the browser's whole process group: no unload, no flush. */
  kill(): Promise<void>;
  /** Starts the engine again on the same profile folder; returns its context. */
  relaunch(): Promise<EngineContext>;
  /** Ends the browser and deletes the profile folder. */
  close(): Promise<void>;
}

/** One engine's browser, launched once per suite. */
export interface EngineBrowser {
  readonly engine: EngineName;
  /** A fresh context: no storage shared with any other. Closed by `close()` or the suite. */
  newContext(): Promise<EngineContext>;
  /** A browser of the engine's own on a temporary profile (see {@link ProfileBrowser}). */
  launchOnProfile?(): Promise<ProfileBrowser>;
  close(): Promise<void>;
}

/** How a driver is found and started. */
export interface EngineDriver {
  readonly engine: EngineName;
  /** A sentence saying what is missing and which package installs it, or undefined when ready. */
  missing(): string | undefined;
  launch(): Promise<EngineBrowser>;
  /** Why kill-and-relaunch on a profile cannot be done in this engine, when it cannot. */
  readonly noProfile?: string;
}

const ARTIFACTS_DIR = fileURLToPath(new URL('../../artifacts/', import.meta.url));

/** `test/artifacts/NAME.png` (folder created), after checking NAME cannot escape the folder. */
export function artifactPath(name: string): string {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw new Error(
      `screenshot(): invalid name ${JSON.stringify(name)}; use letters, digits, ".", "_" or "-".`,
    );
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, `${name}.png`);
}

/** Two animation frames: the one that paints the last change, and one after it. */
export const TWO_FRAMES = () =>
  new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));

/** A temporary folder, and the function that deletes it (the harness leaves none behind). */
export function tempFolder(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** True when running in CI, where a missing browser is an error rather than a reason to skip. */
export function inCI(): boolean {
  const value = process.env.CI;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
