/**
 * The demo page (demo/index.html on the UMD build) in real Chromium, Firefox and WebKit against the real dev server:
 * echo, the queue across a server restart, recovery from dropped connections, Disconnect, and
 * keyboard-only use. Screenshots go to test/artifacts/ (git-ignored).
 */
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { ensureUmdBuild } from '../helpers/browser';
import { expectDemoState, logEntries, typeMessage } from '../helpers/demo-page';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EnginePage, itUnless } from '../helpers/engines';
import {
  accessibleName,
  attribute,
  attributes,
  inputValue,
  text,
  texts,
  waitForSelector,
} from '../helpers/engines/dom';
import { waitFor, waitUntil } from '../helpers/next-event';

/** Generous for CI on two shared cores; a retry in the demo is at most 5 s away (its maxDelay). */
const timeout = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };
/** Switching the browser offline is playwright's (CDP); puppeteer over BiDi and WebDriver have no such switch. */
const OFFLINE_SKIP = {
  firefox: 'no way to take the browser offline from the test (puppeteer over BiDi has no offline switch)',
  webkit: 'no way to take the browser offline from the test (WebDriver has no network emulation)',
};

describeEachEngine('demo page', (suite) => {
  const servers: TestDevServer[] = [];
  const pages: EnginePage[] = [];

  beforeAll(() => {
    // The page loads /dist/tether-ws.umd.js.
    ensureUmdBuild();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    // An exception in demo.js fails the test that caused it, even if the page still looked right.
    const errors = [];
    for (const page of pages.splice(0))
      errors.push(...(await page.reports()).filter((r) => r.type === 'pageerror'));
    expect(errors).toEqual([]);
  });

  async function startServer(port?: number): Promise<TestDevServer> {
    const server = await startDevServer(port === undefined ? {} : { port });
    servers.push(server);
    return server;
  }

  async function openDemo(server: TestDevServer): Promise<EnginePage> {
    const page = await suite.newPage();
    pages.push(page);
    await page.setViewport(DESKTOP.width, DESKTOP.height);
    await page.goto(`${server.url}/`);
    return page;
  }

  const expectState = (page: EnginePage, state: string) => expectDemoState(page, state, timeout);

  /** The demo on `server`, connected with its Connect button. */
  async function openConnected(server: TestDevServer): Promise<EnginePage> {
    const page = await openDemo(server);
    await page.click('#connect');
    await expectState(page, 'open');
    return page;
  }

  const type = typeMessage;

  /** Texts the server received (pings excluded), in arrival order, on every connection from now on. */
  function recordReceived(server: TestDevServer): string[] {
    const received: string[] = [];
    server.server.wss.on('connection', (socket: WebSocket) => {
      socket.on('message', (data: RawData) => {
        const text = String(data);
        if (text !== '__ping__') received.push(text);
      });
    });
    return received;
  }

  const textsOf = (page: EnginePage, direction: string) =>
    texts(page, logEntries(direction), { inner: '.text' });
  const statuses = (page: EnginePage, direction: string) =>
    attributes(page, logEntries(direction), 'data-status');
  const delivered = (page: EnginePage, hasText: string) =>
    waitForSelector(page, '#log li[data-status="delivered"]', { hasText, timeout });

  it('connects on Connect, sends on Enter, clears the box, and shows the echo as delivered', async () => {
    const server = await startServer();
    const received = recordReceived(server);
    const page = await openDemo(server);

    // Nothing connects before the user asks: the demo does not use autoOpen.
    await expectState(page, 'idle');
    expect(server.server.wss.clients.size).toBe(0);

    await page.click('#connect');
    await expectState(page, 'open');
    expect(await text(page, '#detail')).toBe(`Connected to ${server.wsUrl}/`);

    await type(page, 'hello tether');
    expect(await inputValue(page, '#message')).toBe('');
    await waitForSelector(page, logEntries('received'), { hasText: 'hello tether', timeout });
    await waitForSelector(page, '#log li[data-direction="sent"][data-status="delivered"]', { timeout });

    expect(await textsOf(page, 'sent')).toEqual(['hello tether']);
    expect(await text(page, '#log li[data-direction="sent"] .status')).toBe('delivered');
    expect(await textsOf(page, 'received')).toEqual(['hello tether']);
    expect(received).toEqual(['hello tether']);
    expect(await text(page, '#queued')).toBe('0');
  });

  it('queues what is typed while the server is down and delivers it in order after the restart', async () => {
    const first = await startServer();
    const page = await openConnected(first);

    // The server goes away with 1001 (RFC 6455 §7.4.1); the client retries with backoff meanwhile.
    await first.close();
    await waitForSelector(page, '#state:not([data-state="open"])', { timeout });
    for (const message of ['one', 'two', 'three']) await type(page, message);

    expect(await statuses(page, 'sent')).toEqual(['queued', 'queued', 'queued']);
    expect(await text(page, '#queued')).toBe('3');
    // The badge counts down to the next attempt, e.g. "reconnecting in 1.7 s".
    await page.waitForFunction(
      () => /^reconnecting in \d+\.\d s$/.test(document.getElementById('state')?.textContent ?? ''),
      undefined,
      { timeout },
    );
    await page.screenshot('demo-server-down-desktop');

    // Same port: the page keeps retrying the URL it was given.
    const second = await startServer(first.port);
    const received = recordReceived(second);
    await expectState(page, 'open');
    await expect.poll(() => textsOf(page, 'received'), { timeout }).toEqual(['one', 'two', 'three']);
    await expect
      .poll(() => statuses(page, 'sent'), { timeout })
      .toEqual(['delivered', 'delivered', 'delivered']);
    // The entries keep the proof that they waited for the reconnect.
    expect(await texts(page, logEntries('sent'), { inner: '.status' })).toEqual([
      'queued → delivered',
      'queued → delivered',
      'queued → delivered',
    ]);
    expect(received).toEqual(['one', 'two', 'three']);
    expect(await text(page, '#queued')).toBe('0');

    await type(page, 'and one more, sent at once');
    await delivered(page, 'sent at once');

    await page.screenshot('demo-desktop');
    await page.setViewport(PHONE.width, PHONE.height);
    await page.screenshot('demo-phone');
    // The dark scheme is emulated through playwright; Firefox (BiDi) and WebKit (WebDriver) cannot switch it on a running page.
    if (suite.engine === 'chromium') {
      await (page.native as Page).emulateMedia({ colorScheme: 'dark' });
      await page.screenshot('demo-phone-dark');
    }
  });

  it('reconnects on its own when the server drops every connection', async () => {
    const server = await startServer();
    const wss = server.server.wss;
    const page = await openConnected(server);
    expect(wss.clients.size).toBe(1);

    // Subscribed before the drop, so a fast reconnect cannot be missed.
    const reconnected = waitFor(wss, 'connection', { timeoutMs: timeout, label: 'the dev server' });
    // terminate() cuts the TCP connection with no close frame: the page sees 1006, as on a network failure.
    for (const socket of wss.clients) socket.terminate();
    await expectState(page, 'reconnecting');
    await reconnected;
    await expectState(page, 'open');

    await type(page, 'still here');
    await delivered(page, 'still here');
    expect(wss.clients.size).toBe(1);
  });

  itUnless(suite, OFFLINE_SKIP)(
    'shows "offline" while the browser is offline and reconnects when the network is back',
    async () => {
      const server = await startServer();
      const wss = server.server.wss;
      const page = await openConnected(server);
      const context = (page.native as Page).context();

      await context.setOffline(true);
      for (const socket of wss.clients) socket.terminate();
      // With navigator.onLine false the client schedules no retry; it waits for `online`.
      await expectState(page, 'offline');
      expect(await text(page, '#state')).toBe('offline');

      const reconnected = waitFor(wss, 'connection', { timeoutMs: timeout, label: 'the dev server' });
      await context.setOffline(false);
      await reconnected;
      await expectState(page, 'open');
    },
  );

  it('stays closed after Disconnect, and keeps what is typed for the next Connect', async () => {
    const server = await startServer();
    const wss = server.server.wss;
    const page = await openConnected(server);

    await page.click('#disconnect');
    await expectState(page, 'closed');
    await waitUntil(() => wss.clients.size === 0, {
      timeoutMs: timeout,
      message: 'the server to lose the page',
    });

    // A retry would come within reconnect.minDelay (500 ms): 3 s without a connection proves there is none.
    await expect(waitFor(wss, 'connection', { timeoutMs: 3000, label: 'the dev server' })).rejects.toThrow(
      'Timed out after 3000 ms waiting for "connection" on the dev server',
    );
    expect(await attribute(page, '#state', 'data-state')).toBe('closed');

    await type(page, 'for later');
    expect(await statuses(page, 'sent')).toEqual(['queued']);
    expect(await text(page, '#queued')).toBe('1');

    await page.click('#connect');
    await delivered(page, 'for later');
    expect(await text(page, '#queued')).toBe('0');
  });

  it('works from the keyboard alone, with labelled controls, a polite live log and a visible focus', async () => {
    const server = await startServer();
    const page = await openDemo(server);

    expect(await accessibleName(page, '#message')).toBe('Message');
    expect(await accessibleName(page, '#connect')).toBe('Connect');
    expect(await accessibleName(page, '#disconnect')).toBe('Disconnect');
    expect(await attribute(page, '#message', 'placeholder')).toBe('Type your msg & hit enter');
    expect(await attribute(page, '#log', 'aria-live')).toBe('polite');
    expect(await attribute(page, '[role="status"]', 'id')).toBe('state');

    const focused = () => page.evaluate(() => document.activeElement?.id);
    await page.press('Tab');
    expect(await focused()).toBe('connect');
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement as Element);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(outline).toBe('solid 3px');

    await page.press('Enter');
    await expectState(page, 'open');
    // Connect is disabled once open (it would do nothing): the focus moves on to Disconnect.
    expect(await focused()).toBe('disconnect');
    await page.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('delivery');
    await page.press('Tab');
    expect(await focused()).toBe('persist'); // "kept across reloads"
    await page.press('Tab');
    expect(await focused()).toBe('message');
    await page.type('typed, not clicked');
    await page.press('Enter');
    await delivered(page, 'typed, not clicked');
    expect(await focused()).toBe('message');
  });
});
