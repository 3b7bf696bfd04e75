/**
 * The e2e suites' one browser harness: `describeEachEngine(name, body)` runs `body` once per
 * engine (Chromium, Firefox, WebKit), one engine after the other (one browser alive at a time: two
 * cores, and Firefox alone takes about 0.5 GB). The body gets a suite whose pages, contexts and
 * profile browsers are closed after each test; the browser itself is launched once per engine.
 *
 * An engine that is not installed fails its part of the suite in CI (`CI` set) and is skipped
 * elsewhere, with a note naming the package to install. `TETHER_ENGINES=firefox,webkit` runs only
 * those (for working on one engine; CI runs all).
 */
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { chromiumDriver } from './chromium';
import {
  type EngineBrowser,
  type EngineContext,
  type EngineDriver,
  type EngineName,
  type EnginePage,
  inCI,
  type ProfileBrowser,
} from './engine';
import { firefoxDriver } from './firefox';
import { webkitDriver } from './webkit';

export type { EngineContext, EngineName, EnginePage, ProfileBrowser, Report } from './engine';

export const DRIVERS: readonly EngineDriver[] = [chromiumDriver, firefoxDriver, webkitDriver];
export const ENGINES: readonly EngineName[] = DRIVERS.map((driver) => driver.engine);

export interface EngineSuite {
  readonly engine: EngineName;
  /** The engine's browser, launched in `beforeAll`. */
  readonly browser: EngineBrowser;
  /** A context of its own (no storage shared), closed after the test. */
  newContext(): Promise<EngineContext>;
  /** A page in a context of its own, closed after the test. */
  newPage(): Promise<EnginePage>;
  /** A browser on a temporary profile (kill, relaunch), closed and its folder deleted after the test. */
  launchOnProfile(): Promise<ProfileBrowser>;
}

export interface EachEngineOptions {
  /** Engines this suite cannot run in, each with the one-line reason printed in the test list. */
  skip?: Partial<Record<EngineName, string>>;
}

function selected(engine: EngineName): boolean {
  const only = process.env.TETHER_ENGINES;
  if (only === undefined || only === '') return true;
  return only.split(',').some((name) => name.trim() === engine);
}

/** Reads a value set in `beforeAll`, or says that it is read too early. */
function set<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('The browser is launched in beforeAll: use it inside a test.');
  return value;
}

/**
 * `describe(name [engine], body)` for each engine. The tests of a body are written once against
 * {@link EngineSuite}; `suite.engine` is there for figures and for what an engine does differently.
 *
 * @example
 * describeEachEngine('smoke', (suite) => {
 *   it('echoes', async () => {
 *     const page = await suite.newPage();
 *     await page.goto(url);
 *   });
 * });
 */
export function describeEachEngine(
  name: string,
  body: (suite: EngineSuite) => void,
  options: EachEngineOptions = {},
): void {
  for (const driver of DRIVERS) {
    const { engine } = driver;
    const title = `${name} [${engine}]`;
    if (!selected(engine)) continue;
    const reason = options.skip?.[engine];
    if (reason !== undefined) {
      describe.skip(`${title}: skipped, ${reason}`, () => body(unavailable(engine)));
      continue;
    }
    const missing = driver.missing();
    if (missing !== undefined) {
      if (inCI()) {
        describe(title, () => {
          it(`has ${engine} to run in`, () => {
            throw new Error(`Browser tests cannot run in CI: ${missing}`);
          });
        });
      } else {
        console.warn(`[tether-ws] Skipping "${title}": ${missing}`);
        describe.skip(`${title}: ${missing}`, () => body(unavailable(engine)));
      }
      continue;
    }
    describe(title, () => {
      let browser: EngineBrowser | undefined;
      const toClose: Array<{ close(): Promise<void> }> = [];
      beforeAll(async () => {
        browser = await driver.launch();
      });
      afterEach(async () => {
        for (const item of toClose.splice(0).reverse()) await item.close().catch(() => {});
      });
      afterAll(async () => {
        await browser?.close();
        browser = undefined;
      });
      const suite: EngineSuite = {
        engine,
        get browser() {
          return set(browser);
        },
        async newContext() {
          const context = await set(browser).newContext();
          toClose.push(context);
          return context;
        },
        async newPage() {
          return (await suite.newContext()).newPage();
        },
        async launchOnProfile() {
          const launch = set(browser).launchOnProfile;
          if (launch === undefined)
            throw new Error(
              `${engine} cannot relaunch on a profile: ${driver.noProfile ?? 'no driver support'}`,
            );
          const profile = await launch();
          toClose.push(profile);
          return profile;
        },
      };
      body(suite);
    });
  }
}

/** Handed to a skipped body, which still runs to collect its (skipped) tests. */
function unavailable(engine: EngineName): EngineSuite {
  const fail = () => Promise.reject(new Error(`No ${engine}: this suite is skipped.`));
  return {
    engine,
    get browser(): EngineBrowser {
      throw new Error(`No ${engine}: this suite is skipped.`);
    },
    newContext: fail,
    newPage: fail,
    launchOnProfile: fail,
  };
}

/** The reason to give `skip` for a suite that kills the browser and relaunches it on its profile. */
export function noProfileReasons(): Partial<Record<EngineName, string>> {
  return Object.fromEntries(
    DRIVERS.filter((driver) => driver.noProfile !== undefined).map((driver) => [
      driver.engine,
      driver.noProfile,
    ]),
  );
}

/**
 * `it` for a test that cannot run in some engines: in those it is skipped, and its title says why
 * (one line per engine). The rest of the suite still runs there.
 *
 * @example
 * itUnless(suite, { webkit: 'no way to ...' })('lowers the quota', async () => {});
 */
export function itUnless(suite: Pick<EngineSuite, 'engine'>, reasons: Partial<Record<EngineName, string>>) {
  const reason = reasons[suite.engine];
  if (reason === undefined) return it;
  return (name: string, fn: () => Promise<void>) =>
    it.skip(`${name} (skipped in ${suite.engine}: ${reason})`, fn);
}
