/**
 * The demo page (demo/index.html on the UMD build) in real Chromium against the real dev server:
 * echo, the queue across a server restart, recovery from dropped connections, Disconnect, and
 * keyboard-only use. Screenshots go to test/artifacts/ (git-ignored).
 */
import type { Locator, Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { describeWithBrowser, ensureUmdBuild, expectDemoState, screenshot } from '../helpers/browser';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { waitFor, waitUntil } from '../helpers/next-event';

/** Generous for CI on two shared cores; a retry in the demo is at most 5 s away (its maxDelay). */
const timeout = 15_000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };

describeWithBrowser('demo page', (suite) => {
  const servers: TestDevServer[] = [];
  const pageErrors: Error[] = [];

  beforeAll(() => {
    // The page loads /dist/tether-ws.umd.js.
    ensureUmdBuild();
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    // An exception in demo.js fails the test that caused it, even if the page still looked right.
    expect(pageErrors.splice(0).map(String)).toEqual([]);
  });

  async function startServer(port?: number): Promise<TestDevServer> {
    const server = await startDevServer(port === undefined ? {} : { port });
    servers.push(server);
    return server;
  }

  async function openDemo(server: TestDevServer): Promise<Page> {
    const page = await suite.newPage();
    await page.setViewportSize(DESKTOP);
    page.on('pageerror', (error) => pageErrors.push(error));
    await page.goto(`${server.url}/`);
    return page;
  }

  const logEntries = (page: Page, direction: 'sent' | 'received'): Locator =>
    page.locator(`#log li[data-direction="${direction}"]`);

  const expectState = (page: Page, state: string) => expectDemoState(page, state, timeout);

  /** The demo on `server`, connected with its Connect button. */
  async function openConnected(server: TestDevServer): Promise<Page> {
    const page = await openDemo(server);
    await page.click('#connect');
    await expectState(page, 'open');
    return page;
  }

  async function type(page: Page, text: string): Promise<void> {
    await page.locator('#message').fill(text);
    await page.locator('#message').press('Enter');
  }

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

  const texts = (entries: Locator) => entries.locator('.text').allTextContents();
  const statuses = (entries: Locator) =>
    entries.evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.status));

  it('connects on Connect, sends on Enter, clears the box, and shows the echo as delivered', async () => {
    const server = await startServer();
    const received = recordReceived(server);
    const page = await openDemo(server);

    // Nothing connects before the user asks: the demo does not use autoOpen.
    await expectState(page, 'idle');
    expect(server.server.wss.clients.size).toBe(0);

    await page.click('#connect');
    await expectState(page, 'open');
    await expect(page.locator('#detail').textContent()).resolves.toBe(`Connected to ${server.wsUrl}/`);

    await type(page, 'hello tether');
    expect(await page.inputValue('#message')).toBe('');
    await logEntries(page, 'received').filter({ hasText: 'hello tether' }).waitFor({ timeout });
    await page.locator('#log li[data-direction="sent"][data-status="delivered"]').waitFor({ timeout });

    expect(await texts(logEntries(page, 'sent'))).toEqual(['hello tether']);
    expect(await page.locator('#log li[data-direction="sent"] .status').textContent()).toBe('delivered');
    expect(await texts(logEntries(page, 'received'))).toEqual(['hello tether']);
    expect(received).toEqual(['hello tether']);
    expect(await page.locator('#queued').textContent()).toBe('0');
  });

  it('queues what is typed while the server is down and delivers it in order after the restart', async () => {
    const first = await startServer();
    const page = await openConnected(first);

    // The server goes away with 1001 (RFC 6455 §7.4.1); the client retries with backoff meanwhile.
    await first.close();
    await page.locator('#state:not([data-state="open"])').waitFor({ timeout });
    for (const text of ['one', 'two', 'three']) await type(page, text);

    expect(await statuses(logEntries(page, 'sent'))).toEqual(['queued', 'queued', 'queued']);
    expect(await page.locator('#queued').textContent()).toBe('3');
    // The badge counts down to the next attempt, e.g. "reconnecting in 1.7 s".
    await page.waitForFunction(
      () => /^reconnecting in \d+\.\d s$/.test(document.getElementById('state')?.textContent ?? ''),
      undefined,
      { timeout },
    );
    await screenshot(page, 'demo-server-down-desktop');

    // Same port: the page keeps retrying the URL it was given.
    const second = await startServer(first.port);
    const received = recordReceived(second);
    await expectState(page, 'open');
    await expect
      .poll(() => texts(logEntries(page, 'received')), { timeout })
      .toEqual(['one', 'two', 'three']);
    await expect
      .poll(() => statuses(logEntries(page, 'sent')), { timeout })
      .toEqual(['delivered', 'delivered', 'delivered']);
    // The entries keep the proof that they waited for the reconnect.
    expect(await logEntries(page, 'sent').locator('.status').allTextContents()).toEqual([
      'queued → delivered',
      'queued → delivered',
      'queued → delivered',
    ]);
    expect(received).toEqual(['one', 'two', 'three']);
    expect(await page.locator('#queued').textContent()).toBe('0');

    await type(page, 'and one more, sent at once');
    await page.locator('#log li[data-status="delivered"]', { hasText: 'sent at once' }).waitFor({ timeout });

    await screenshot(page, 'demo-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'demo-phone');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'demo-phone-dark');
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
    await page.locator('#log li[data-status="delivered"]', { hasText: 'still here' }).waitFor({ timeout });
    expect(wss.clients.size).toBe(1);
  });

  it('shows "offline" while the browser is offline and reconnects when the network is back', async () => {
    const server = await startServer();
    const wss = server.server.wss;
    const page = await openConnected(server);

    await page.context().setOffline(true);
    for (const socket of wss.clients) socket.terminate();
    // With navigator.onLine false the client schedules no retry; it waits for `online`.
    await expectState(page, 'offline');
    expect(await page.locator('#state').textContent()).toBe('offline');

    const reconnected = waitFor(wss, 'connection', { timeoutMs: timeout, label: 'the dev server' });
    await page.context().setOffline(false);
    await reconnected;
    await expectState(page, 'open');
  });

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
    expect(await page.locator('#state').getAttribute('data-state')).toBe('closed');

    await type(page, 'for later');
    expect(await statuses(logEntries(page, 'sent'))).toEqual(['queued']);
    expect(await page.locator('#queued').textContent()).toBe('1');

    await page.click('#connect');
    await page.locator('#log li[data-status="delivered"]', { hasText: 'for later' }).waitFor({ timeout });
    expect(await page.locator('#queued').textContent()).toBe('0');
  });

  it('works from the keyboard alone, with labelled controls, a polite live log and a visible focus', async () => {
    const server = await startServer();
    const page = await openDemo(server);

    expect(await page.getByRole('textbox', { name: 'Message', exact: true }).getAttribute('id')).toBe(
      'message',
    );
    expect(await page.getByRole('button', { name: 'Connect', exact: true }).getAttribute('id')).toBe(
      'connect',
    );
    expect(await page.getByRole('button', { name: 'Disconnect', exact: true }).getAttribute('id')).toBe(
      'disconnect',
    );
    expect(await page.locator('#message').getAttribute('placeholder')).toBe('Type your msg & hit enter');
    expect(await page.locator('#log').getAttribute('aria-live')).toBe('polite');
    expect(await page.getByRole('status').getAttribute('id')).toBe('state');

    const focused = () => page.evaluate(() => document.activeElement?.id);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('connect');
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement as Element);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    });
    expect(outline).toBe('solid 3px');

    await page.keyboard.press('Enter');
    await expectState(page, 'open');
    // Connect is disabled once open (it would do nothing): the focus moves on to Disconnect.
    expect(await focused()).toBe('disconnect');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('delivery');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('persist'); // "kept across reloads"
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('message');
    await page.keyboard.type('typed, not clicked');
    await page.keyboard.press('Enter');
    await page
      .locator('#log li[data-status="delivered"]', { hasText: 'typed, not clicked' })
      .waitFor({ timeout });
    expect(await focused()).toBe('message');
  });
});
