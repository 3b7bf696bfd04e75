/** What the three drivers share: waiting on the page by polling it, and the key names. */
import type { EnginePage, WaitOptions } from './engine';

/** The default of {@link EnginePage.waitForFunction}. */
export const WAIT_MS = 5000;

/**
 * Runs `fn(arg)` in the page every 20 ms until it returns something truthy. Polled from Node
 * (not in the page) so that a reload or navigation meanwhile does not lose the wait.
 */
export async function pollPage<R, A>(
  page: Pick<EnginePage, 'evaluate' | 'url'>,
  fn: (arg: A) => R | Promise<R>,
  arg: A | undefined,
  { timeout = WAIT_MS, message }: WaitOptions = {},
): Promise<NonNullable<Awaited<R>>> {
  const deadline = performance.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await page.evaluate(fn, arg as A);
      if (value) return value as NonNullable<Awaited<R>>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const what = message ?? `the page function ${fn.name || String(fn).slice(0, 80)} to return true`;
      throw new Error(`${what} (not met within ${timeout} ms at ${await page.url().catch(() => '?')})`, {
        cause: lastError,
      });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}

/** `Shift+Tab` -> ['Shift', 'Tab']. */
export function keyChord(key: string): string[] {
  return key === '+' ? ['+'] : key.split('+');
}

/** Waits for a tab a page opened to have loaded its document. */
export async function loaded(page: EnginePage): Promise<EnginePage> {
  await page.waitForFunction(
    () => document.readyState === 'complete' && location.href !== 'about:blank',
    undefined,
    {
      message: 'the opened tab to load its document',
    },
  );
  return page;
}
