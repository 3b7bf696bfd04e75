/**
 * The demo as a person sees it, in real Chromium, Firefox and WebKit against the real dev server, at a laptop's
 * 1366×768 and a phone's 390×844: the state and the message box stay in view while the log grows
 * (only the log scrolls), the log tells what the connection does (open, the server's 1001 "Server
 * shutting down", retries, sessions), nothing looks like an alarm when nothing was lost, queued
 * messages survive a Delivery switch, the buttons are disabled when they would do nothing, and the
 * page asks for nothing that is not there (no favicon 404). Viewport screenshots of each size go to
 * test/artifacts/demo-screen-*-ENGINE.png (git-ignored).
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ensureUmdBuild } from '../helpers/browser';
import { expectDemoState, logEntries, typeMessage } from '../helpers/demo-page';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EnginePage } from '../helpers/engines';
import {
  accessibleName,
  attribute,
  box,
  count,
  inView,
  text,
  texts,
  waitForSelector,
} from '../helpers/engines/dom';

/** Generous for CI on two shared cores; a retry in the demo is at most 5 s away (its maxDelay). */
const timeout = 15_000;
const SIZES = {
  laptop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
} as const;

describeEachEngine('demo page as a person sees it', (suite) => {
  let dev: TestDevServer | undefined;
  /** Failed requests (status >= 400) the server answered. */
  const problems: string[] = [];
  const pages: EnginePage[] = [];

  /** A dev server that notes every request it answers with an error status. */
  async function startServer(port?: number): Promise<TestDevServer> {
    const server = await startDevServer(port === undefined ? {} : { port });
    server.server.httpServer.on('request', (request, response) => {
      response.on('finish', () => {
        if (response.statusCode >= 400) problems.push(`${response.statusCode} ${request.url}`);
      });
    });
    return server;
  }

  beforeAll(() => {
    ensureUmdBuild();
  });

  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    // Page errors and console errors of the test's pages (not the browser's own network messages).
    for (const page of pages.splice(0))
      for (const report of await page.reports())
        if (report.type === 'pageerror' || report.type === 'error')
          problems.push(`${report.type}: ${report.text}`);
    expect(problems.splice(0)).toEqual([]);
  });

  async function openDemo(size: { width: number; height: number }): Promise<EnginePage> {
    if (!dev) throw new Error('start the server first');
    const page = await suite.newPage();
    pages.push(page);
    await page.setViewport(size.width, size.height);
    await page.goto(`${dev.url}/`);
    return page;
  }

  const expectState = (page: EnginePage, state: string) => expectDemoState(page, state, timeout);
  const type = typeMessage;
  /** The `.text` of the log entries of `direction` (those with `hasText`). */
  const entryTexts = (page: EnginePage, direction: string, hasText?: string) =>
    texts(page, logEntries(direction), { inner: '.text', ...(hasText === undefined ? {} : { hasText }) });
  const waitForEntry = (page: EnginePage, selector: string, hasText: string) =>
    waitForSelector(page, selector, { hasText, timeout });
  const exactlyOnceRadio = 'input[name="delivery"][value="exactly-once"]';

  const buttons = (page: EnginePage) =>
    page.evaluate(() => ({
      connect: !(document.getElementById('connect') as HTMLButtonElement).disabled,
      disconnect: !(document.getElementById('disconnect') as HTMLButtonElement).disabled,
    }));

  for (const [name, size] of Object.entries(SIZES)) {
    it(`at ${size.width}×${size.height} (${name}), keeps the state and the message box in view while the log grows`, async () => {
      dev = await startServer();
      const page = await openDemo(size);
      expect(await buttons(page)).toEqual({ connect: true, disconnect: false });
      await page.click('#connect');
      await expectState(page, 'open');
      expect(await buttons(page)).toEqual({ connect: false, disconnect: true });

      for (let n = 1; n <= 30; n++)
        await type(page, `message ${n}, long enough to take some room on a phone`);
      await waitForEntry(page, '#log li[data-direction="sent"][data-status="delivered"]', 'message 30,');

      // The page itself does not scroll: the log does, inside its panel, and shows the newest entry.
      expect(await page.evaluate(() => document.scrollingElement?.scrollTop)).toBe(0);
      expect(await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight)).toBe(
        true,
      );
      for (const selector of ['#state', '#queued', '#connect', '#disconnect', '#message', '#composer button'])
        expect({ selector, inView: await inView(page, selector) }).toEqual({ selector, inView: true });
      expect(await inView(page, '#log li:last-child')).toBe(true);
      // The log gets a fair share of the screen, and starts above the fold.
      const log = await box(page, '#log');
      expect(log?.height).toBeGreaterThan(size.height * 0.3);
      await page.screenshot(`demo-screen-${name}`);

      // The server shuts down (1001 "Server shutting down"): the log keeps that close, and the retries.
      const port = dev.port;
      await dev.close();
      dev = undefined;
      await waitForEntry(page, logEntries('event'), 'Closed: code 1001 “Server shutting down”');
      await waitForEntry(page, '#log li[data-kind="close"]', '· retry 1 in');
      expect(await buttons(page)).toEqual({ connect: false, disconnect: true });
      await type(page, 'typed while the server is down');
      dev = await startServer(port);
      await waitForEntry(page, '#log li[data-status="delivered"]', 'typed while the server is down');
      expect(await entryTexts(page, 'event', 'Open:')).toEqual([
        `Open: ${dev.wsUrl}/`,
        `Open: ${dev.wsUrl}/`,
      ]);
      for (const selector of ['#state', '#message']) expect(await inView(page, selector)).toBe(true);
      await page.screenshot(`demo-screen-${name}-after-restart`);

      await page.click('#disconnect');
      await expectState(page, 'closed');
      expect(await buttons(page)).toEqual({ connect: true, disconnect: false });
    });
  }

  it('exactly-once: a harmless restart and a Disconnect are both reported without alarm, by one rule', async () => {
    dev = await startServer();
    const page = await openDemo(SIZES.laptop);
    expect(await accessibleName(page, exactlyOnceRadio)).toBe('exactly-once /reliable');
    await page.click(exactlyOnceRadio);
    await page.click('#connect');
    await expectState(page, 'open');
    await type(page, 'acknowledged before the restart');
    await waitForEntry(page, '#log li[data-status="delivered"]', 'before the restart');
    expect(await entryTexts(page, 'event', 'Open:')).toEqual([
      `Open: ${dev.wsUrl}/reliable (tether.v1), new session`,
    ]);

    // A connection drop within the resume window: the session is resumed, and the log says so.
    for (const socket of dev.server.wss.clients) socket.terminate();
    await waitForEntry(page, '#log li[data-kind="open"]', 'session resumed');

    // A restart: the new server does not know the session; everything had been acknowledged.
    const port = dev.port;
    await dev.close();
    dev = await startServer(port);
    const notResumed = { hasText: 'Session not resumed' };
    await waitForEntry(page, logEntries('note'), notResumed.hasText);
    await expectState(page, 'open');
    expect(await attribute(page, logEntries('note'), 'data-tone', notResumed)).toBe('info');
    expect(await text(page, logEntries('note'), { ...notResumed, inner: '.text' })).toBe(
      'Session not resumed: the server no longer knew it (it restarted, or another node answered): nothing was lost, the server had acknowledged every message',
    );

    await page.click('#disconnect');
    await expectState(page, 'closed');
    await waitForEntry(page, logEntries('note'), 'Session closed');
    expect(await attribute(page, logEntries('note'), 'data-tone', { hasText: 'Session closed' })).toBe(
      'info',
    );
    expect(await count(page, '#log li[data-tone="warn"]')).toBe(0);
    await page.screenshot('demo-screen-exactly-once-no-alarm');
  });

  it('carries queued messages over when Delivery is switched, and delivers them in the new mode', async () => {
    dev = await startServer();
    const page = await openDemo(SIZES.phone);
    await page.click('#connect');
    await expectState(page, 'open');
    await page.click('#disconnect');
    await expectState(page, 'closed');
    for (const message of ['first queued', 'second queued']) await type(page, message);
    expect(await text(page, '#queued')).toBe('2');

    await page.click(exactlyOnceRadio);
    expect((await entryTexts(page, 'note')).slice(-1)).toEqual([
      `Delivery: exactly-once, endpoint ${dev.wsUrl}/reliable; 2 queued message(s) carried over`,
    ]);
    expect(await text(page, '#queued')).toBe('2');
    expect(await count(page, '#log li[data-status="unsent"], #log li[data-status="lost"]')).toBe(0);

    await page.click('#connect');
    await expectState(page, 'open');
    for (const message of ['first queued', 'second queued'])
      await waitForEntry(page, '#log li[data-status="delivered"]', message);
    expect(await entryTexts(page, 'received')).toEqual(['first queued', 'second queued']);
    // Exactly-once keeps a message queued until the server acknowledges it (within 20 ms).
    await expect.poll(() => text(page, '#queued'), { timeout }).toBe('0');
    await page.screenshot('demo-screen-phone-switched');
  });

  it('at 1366×768 too, the Delivery legend is above its choices and the inputs line up', async () => {
    dev = await startDevServer();
    const page = await openDemo(SIZES.laptop);
    const { legend, inputs } = await page.evaluate(() => {
      const rect = (element: Element | null) => {
        const r = element?.getBoundingClientRect();
        return r ? { x: r.x, y: r.y, height: r.height } : null;
      };
      return {
        legend: rect(document.querySelector('#delivery legend')),
        inputs: [...document.querySelectorAll('#delivery input')].map((element) => rect(element)),
      };
    });
    expect(legend && inputs[0] && legend.y + legend.height <= inputs[0].y).toBe(true);
    expect(new Set(inputs.map((rect) => Math.round(rect?.x ?? -1))).size).toBe(1);
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
    await page.click(exactlyOnceRadio);
    await page.click('#connect');
    await expectState(page, 'open');
    const size = (direction: string) =>
      page.evaluate(
        (selector) => {
          const element = document.querySelector(selector);
          return element ? getComputedStyle(element).fontSize : null;
        },
        `${logEntries(direction)} .text`,
      );
    expect(await size('note')).not.toBeNull();
    expect(await size('note')).toBe(await size('event'));

    // Opening "What this page shows" keeps the log at a useful height; the page scrolls instead.
    for (let n = 1; n <= 12; n++) await type(page, `message ${n}`);
    await page.click('.about summary');
    const log = await box(page, '#log');
    expect(log?.height).toBeGreaterThan(SIZES.phone.height * 0.3);
    await page.evaluate(() =>
      document.querySelector('.about p:last-child')?.scrollIntoView({ block: 'center' }),
    );
    expect({
      box: await box(page, '.about p:last-child'),
      inView: await inView(page, '.about p:last-child'),
    }).toMatchObject({ inView: true });
    await page.screenshot('demo-screen-phone-about-open');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot('demo-screen-phone-delivery');
  });
});
