/** The demo page (demo/index.html) as the e2e suites drive it, in any engine. */
import type { EnginePage } from './engines';
import { attribute, waitForSelector } from './engines/dom';

/** The log entries of one direction (`sent`, `received`, `event`, `note`). */
export const logEntries = (direction: string) => `#log li[data-direction="${direction}"]`;

/**
 * Waits until the `#state` badge shows `state`; the failure names the state it shows instead.
 * (test/helpers/browser.ts has the same for a playwright page.)
 */
export async function expectDemoState(page: EnginePage, state: string, timeout: number): Promise<void> {
  await waitForSelector(page, `#state[data-state="${state}"]`, { timeout }).catch(async (error: unknown) => {
    const shown = await attribute(page, '#state', 'data-state');
    throw new Error(`#state never became "${state}"; it shows "${shown}" (${page.engine})`, { cause: error });
  });
}

/** Types `text` into the message box and presses Enter, as a person would. */
export async function typeMessage(page: EnginePage, text: string): Promise<void> {
  await page.fill('#message', text);
  await page.press('Enter');
}

/**
 * Clicks `selector`, which makes the page reload itself, and waits for the next document to have
 * loaded (the current one is marked first, so that it cannot be mistaken for the next).
 */
export async function clickAndWaitForReload(
  page: EnginePage,
  selector: string,
  timeout: number,
): Promise<void> {
  await page.evaluate(() => {
    (window as { previousDocument?: boolean }).previousDocument = true;
  });
  await page.click(selector);
  await page.waitForFunction(
    () => !(window as { previousDocument?: boolean }).previousDocument && document.readyState === 'complete',
    undefined,
    { timeout, message: `the page to reload after a click on ${selector}` },
  );
}
