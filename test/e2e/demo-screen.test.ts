/**
 * The demo as a person sees it, in real Chromium against the real dev server, at a laptop's
 * 1366×768 and a phone's 390×844: the state and the message box stay in view while the log grows
 * (only the log scrolls), the log tells what the connection does (open, the server's 1001 "Server
 * shutting down", retries, sessions), nothing looks like an alarm when nothing was lost, queued
 * messages survive a Delivery switch, the buttons are disabled when they would do nothing, and the
 * page asks for nothing that is not there (no favicon 404). Viewport screenshots of each size go to
 * test/artifacts/demo-screen-*.png (git-ignored).
 */
import type { Locator, Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithBrowser, ensureUmdBuild, expectDemoState, screenshot } from '../helpers/browser';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';

/** Generous for CI on two shared cores; a retry in the demo is at most 5 s away (its maxDelay). */
const timeout = 15_000;
const SIZES = {
  laptop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
} as const;

describeWithBrowser('demo page as a person sees it', (suite) => {
  let dev: TestDevServer | undefined;
  /** Page errors, console errors and failed requests (status >= 400) of the test's page. */
  const problems: string[] = [];

  beforeAll(() => {
    ensureUmdBuild();
  });

  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    expect(problems.splice(0)).toEqual([]);
  });

  async function openDemo(size: { width: number; height: number }): Promise<Page> {
    if (!dev) throw new Error('start the server first');
    const page = await suite.newPage();
    await page.setViewportSize(size);
    page.on('pageerror', (error) => problems.push(`page error: ${error}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${dev.url}/`);
    await page.waitForLoadState('load');
    return page;
  }

  const expectState = (page: Page, state: string) => expectDemoState(page, state, timeout);
  const entries = (page: Page, direction: string): Locator =>
    page.locator(`#log li[data-direction="${direction}"]`);
  const texts = (locator: Locator) => locator.locator('.text').allTextContents();

  async function type(page: Page, text: string): Promise<void> {
    await page.locator('#message').fill(text);
    await page.locator('#message').press('Enter');
  }

  /** Whether `selector` is wholly inside the viewport (not scrolled away, not below the fold). */
  async function inView(page: Page, selector: string): Promise<boolean> {
    const box = await page.locator(selector).boundingBox();
    const viewport = page.viewportSize();
    if (!box || !viewport) return false;
    return (
      box.y >= 0 && box.x >= 0 && box.y + box.height <= viewport.height && box.x + box.width <= viewport.width
    );
  }

  const buttons = (page: Page) =>
    page.evaluate(() => ({
      connect: !(document.getElementById('connect') as HTMLButtonElement).disabled,
      disconnect: !(document.getElementById('disconnect') as HTMLButtonElement).disabled,
    }));

  for (const [name, size] of Object.entries(SIZES)) {
    it(`at ${size.width}×${size.height} (${name}), keeps the state and the message box in view while the log grows`, async () => {
      dev = await startDevServer();
      const page = await openDemo(size);
      expect(await buttons(page)).toEqual({ connect: true, disconnect: false });
      await page.click('#connect');
      await expectState(page, 'open');
      expect(await buttons(page)).toEqual({ connect: false, disconnect: true });

      for (let n = 1; n <= 30; n++)
        await type(page, `message ${n}, long enough to take some room on a phone`);
      await page
        .locator('#log li[data-direction="sent"][data-status="delivered"]', { hasText: 'message 30,' })
        .waitFor({ timeout });

      // The page itself does not scroll: the log does, inside its panel, and shows the newest entry.
      expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
      expect(await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight)).toBe(
        true,
      );
      for (const selector of ['#state', '#queued', '#connect', '#disconnect', '#message', '#composer button'])
        expect({ selector, inView: await inView(page, selector) }).toEqual({ selector, inView: true });
      expect(await inView(page, '#log li:last-child')).toBe(true);
      // The log gets a fair share of the screen, and starts above the fold.
      const log = await page.locator('#log').boundingBox();
      expect(log?.height).toBeGreaterThan(size.height * 0.3);
      await screenshot(page, `demo-screen-${name}`, { fullPage: false });

      // The server shuts down (1001 "Server shutting down"): the log keeps that close, and the retries.
      const port = dev.port;
      await dev.close();
      dev = undefined;
      await entries(page, 'event')
        .filter({ hasText: 'Closed: code 1001 “Server shutting down”' })
        .waitFor({ timeout });
      await page
        .locator('#log li[data-kind="close"]', { hasText: '· retry 1 in' })
        .first()
        .waitFor({ timeout });
      expect(await buttons(page)).toEqual({ connect: false, disconnect: true });
      await type(page, 'typed while the server is down');
      dev = await startDevServer({ port });
      await page
        .locator('#log li[data-status="delivered"]', { hasText: 'typed while the server is down' })
        .waitFor({ timeout });
      expect(await texts(entries(page, 'event').filter({ hasText: 'Open:' }))).toEqual([
        `Open: ${dev.wsUrl}/`,
        `Open: ${dev.wsUrl}/`,
      ]);
      for (const selector of ['#state', '#message']) expect(await inView(page, selector)).toBe(true);
      await screenshot(page, `demo-screen-${name}-after-restart`, { fullPage: false });

      await page.click('#disconnect');
      await expectState(page, 'closed');
      expect(await buttons(page)).toEqual({ connect: true, disconnect: false });
    });
  }

  it('exactly-once: a harmless restart and a Disconnect are both reported without alarm, by one rule', async () => {
    dev = await startDevServer();
    const page = await openDemo(SIZES.laptop);
    await page.getByRole('radio', { name: 'exactly-once /reliable', exact: true }).check();
    await page.click('#connect');
    await expectState(page, 'open');
    await type(page, 'acknowledged before the restart');
    await page
      .locator('#log li[data-status="delivered"]', { hasText: 'before the restart' })
      .waitFor({ timeout });
    expect(await texts(entries(page, 'event').filter({ hasText: 'Open:' }))).toEqual([
      `Open: ${dev.wsUrl}/reliable (tether.v1), new session`,
    ]);

    // A connection drop within the resume window: the session is resumed, and the log says so.
    for (const socket of dev.server.wss.clients) socket.terminate();
    await page.locator('#log li[data-kind="open"]', { hasText: 'session resumed' }).waitFor({ timeout });

    // A restart: the new server does not know the session; everything had been acknowledged.
    const port = dev.port;
    await dev.close();
    dev = await startDevServer({ port });
    const notResumed = page.locator('#log li[data-direction="note"]', { hasText: 'Session not resumed' });
    await notResumed.waitFor({ timeout });
    await expectState(page, 'open');
    expect(await notResumed.getAttribute('data-tone')).toBe('info');
    expect(await notResumed.locator('.text').textContent()).toBe(
      'Session not resumed: the server no longer knew it (it restarted, or another node answered): nothing was lost, the server had acknowledged every message',
    );

    await page.click('#disconnect');
    await expectState(page, 'closed');
    const closed = page.locator('#log li[data-direction="note"]', { hasText: 'Session closed' });
    await closed.waitFor({ timeout });
    expect(await closed.getAttribute('data-tone')).toBe('info');
    expect(await page.locator('#log li[data-tone="warn"]').count()).toBe(0);
    await screenshot(page, 'demo-screen-exactly-once-no-alarm', { fullPage: false });
  });

  it('carries queued messages over when Delivery is switched, and delivers them in the new mode', async () => {
    dev = await startDevServer();
    const page = await openDemo(SIZES.phone);
    await page.click('#connect');
    await expectState(page, 'open');
    await page.click('#disconnect');
    await expectState(page, 'closed');
    for (const text of ['first queued', 'second queued']) await type(page, text);
    expect(await page.locator('#queued').textContent()).toBe('2');

    await page.getByRole('radio', { name: 'exactly-once /reliable', exact: true }).check();
    expect(await texts(entries(page, 'note').last())).toEqual([
      `Delivery: exactly-once, endpoint ${dev.wsUrl}/reliable; 2 queued message(s) carried over`,
    ]);
    expect(await page.locator('#queued').textContent()).toBe('2');
    expect(await page.locator('#log li[data-status="unsent"], #log li[data-status="lost"]').count()).toBe(0);

    await page.click('#connect');
    await expectState(page, 'open');
    for (const text of ['first queued', 'second queued'])
      await page.locator('#log li[data-status="delivered"]', { hasText: text }).waitFor({ timeout });
    expect(await texts(entries(page, 'received'))).toEqual(['first queued', 'second queued']);
    // Exactly-once keeps a message queued until the server acknowledges it (within 20 ms).
    await expect.poll(() => page.locator('#queued').textContent(), { timeout }).toBe('0');
    await screenshot(page, 'demo-screen-phone-switched', { fullPage: false });
  });

  it('at 1366×768 too, the Delivery legend is above its choices and the inputs line up', async () => {
    dev = await startDevServer();
    const page = await openDemo(SIZES.laptop);
    const legend = await page.locator('#delivery legend').boundingBox();
    const inputs = await page
      .locator('#delivery input')
      .evaluateAll((elements) => elements.map((element) => element.getBoundingClientRect()));
    expect(legend && inputs[0] && legend.y + legend.height <= inputs[0].y).toBe(true);
    expect(new Set(inputs.map((box) => Math.round(box.x))).size).toBe(1);
  });

  // Issue 25, point 11: what a phone showed wrong, each measured.
  it('on a phone: the Delivery choices line up, each chip follows its words, notes read as the events, the explanation does not squeeze the log', async () => {
    dev = await startDevServer();
    const page = await openDemo(SIZES.phone);
    const boxes = await page.evaluate(() => {
      const rect = (element: Element | null) => {
        const box = element?.getBoundingClientRect();
        return box ? { x: box.x, y: box.y, right: box.right, bottom: box.bottom } : undefined;
      };
      const inputs = [...document.querySelectorAll('#delivery input')].map(rect);
      const persistLabel = document.getElementById('persist')?.closest('label');
      const words = persistLabel?.querySelector('span')?.firstChild;
      const range = document.createRange();
      if (words) range.selectNodeContents(words);
      const lines = [...range.getClientRects()].map((box) => ({ y: box.y, right: box.right, x: box.x }));
      return {
        legend: rect(document.querySelector('#delivery legend')),
        inputs,
        words: lines,
        chip: rect(persistLabel?.querySelector('code') ?? null),
      };
    });
    // The legend is above the first choice, not beside it, and the three inputs share one x.
    expect(boxes.legend && boxes.inputs[0] && boxes.legend.bottom <= boxes.inputs[0].y).toBe(true);
    const xs = new Set(boxes.inputs.map((box) => Math.round(box?.x ?? -1)));
    expect(xs.size).toBe(1);
    // "kept across reloads" sits on one line, and its chip right after it or at the start of the
    // next line under it: never pushed to the far right of a wrapped label.
    expect(new Set(boxes.words.map((line) => Math.round(line.y))).size).toBe(1);
    const [words] = boxes.words;
    const chip = boxes.chip;
    if (!words || !chip) throw new Error('no persist label');
    const sameLine = Math.abs(chip.y - words.y) < 8;
    expect(sameLine ? chip.x - words.right : Math.abs(chip.x - words.x)).toBeLessThan(12);

    // A note (here: the Delivery switch) is written in the size of the events around it.
    await page.getByRole('radio', { name: 'exactly-once /reliable', exact: true }).check();
    await page.click('#connect');
    await expectState(page, 'open');
    const size = (direction: string) =>
      entries(page, direction)
        .first()
        .locator('.text')
        .evaluate((element) => getComputedStyle(element).fontSize);
    expect(await size('note')).toBe(await size('event'));

    // Opening "What this page shows" keeps the log at a useful height; the page scrolls instead.
    for (let n = 1; n <= 12; n++) await type(page, `message ${n}`);
    await page.locator('.about summary').click();
    const log = await page.locator('#log').boundingBox();
    expect(log?.height).toBeGreaterThan(SIZES.phone.height * 0.3);
    await page.locator('.about p').last().scrollIntoViewIfNeeded();
    expect(await inView(page, '.about p:last-child')).toBe(true);
    await screenshot(page, 'demo-screen-phone-about-open', { fullPage: false });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'demo-screen-phone-delivery', { fullPage: false });
  });
});
