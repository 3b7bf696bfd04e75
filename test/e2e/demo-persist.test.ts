/**
 * The demo page with "kept across reloads" on, in real Chromium against the real dev server: type
 * while the server's WebSocket endpoint is down, reload the page, and the messages are delivered
 * by the next page once the endpoint is back, once each and in order. The page itself stays
 * reachable: only the server's upgrade handling is taken away (its `upgrade` listeners removed and
 * put back), as when a backend is down behind a CDN that still serves the page.
 * Screenshot: test/artifacts/demo-persist.png (git-ignored).
 */
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { describeWithBrowser, ensureUmdBuild, expectDemoState, screenshot } from '../helpers/browser';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';

const timeout = 15_000;

describeWithBrowser('demo page, kept across reloads', (suite) => {
  let dev: TestDevServer | undefined;
  const pageErrors: Error[] = [];

  beforeAll(() => {
    ensureUmdBuild();
  });
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    expect(pageErrors.splice(0).map(String)).toEqual([]);
  });

  const notes = (page: Page) => page.locator('#log li[data-direction="note"] .text').allTextContents();
  const received = (page: Page) => page.locator('#log li[data-direction="received"] .text').allTextContents();
  const type = async (page: Page, text: string) => {
    await page.locator('#message').fill(text);
    await page.locator('#message').press('Enter');
  };

  it('delivers what was typed while the server was down, after a reload, once and in order', async () => {
    dev = await startDevServer();
    const server = dev.server;
    const got: string[] = [];
    server.wss.on('connection', (socket: WebSocket) => {
      socket.on('message', (data: RawData) => {
        if (String(data) !== '__ping__') got.push(String(data));
      });
    });
    /** The WebSocket endpoint down (connections cut, upgrades refused) or back, the page still served. */
    let upgrades: Array<(...args: unknown[]) => void> = [];
    const endpointDown = () => {
      upgrades = server.httpServer.listeners('upgrade') as typeof upgrades;
      server.httpServer.removeAllListeners('upgrade');
      server.httpServer.on('upgrade', (_request, socket) => socket.destroy());
      for (const socket of server.wss.clients) socket.terminate();
    };
    const endpointBack = () => {
      server.httpServer.removeAllListeners('upgrade');
      for (const listener of upgrades) server.httpServer.on('upgrade', listener);
    };

    const page = await suite.newPage();
    await page.setViewportSize({ width: 1280, height: 800 });
    page.on('pageerror', (error) => pageErrors.push(error));
    await page.goto(`${dev.url}/`);
    const keep = page.getByRole('checkbox', { name: /kept across reloads/ });
    // Turning it on reloads the page.
    await Promise.all([page.waitForEvent('load'), keep.click()]);
    await expect
      .poll(() => notes(page), { timeout })
      .toEqual(['Outbox kept across reloads, in IndexedDB as “demo-best-effort”']);
    expect(await keep.isChecked()).toBe(true);

    await page.click('#connect');
    await expectDemoState(page, 'open', timeout);
    await type(page, 'before the outage');
    await expect.poll(() => received(page), { timeout }).toEqual(['before the outage']);

    endpointDown();
    await page.locator('#state:not([data-state="open"])').waitFor({ timeout });
    await type(page, 'typed while down 1');
    await type(page, 'typed while down 2');
    await expect.poll(() => page.locator('#queued').textContent(), { timeout }).toBe('2');

    await page.reload();
    await expect
      .poll(() => notes(page), { timeout })
      .toEqual([
        'Outbox kept across reloads, in IndexedDB as “demo-best-effort”',
        '2 message(s) left by the last page: sending them',
      ]);
    expect(await page.locator('#queued').textContent()).toBe('2');
    endpointBack();
    await expectDemoState(page, 'open', timeout);
    await expect
      .poll(() => received(page), { timeout })
      .toEqual(['typed while down 1', 'typed while down 2']);
    await expect.poll(() => page.locator('#queued').textContent(), { timeout }).toBe('0');
    // The server got each message once, in order: nothing lost, nothing sent twice.
    expect(got).toEqual(['before the outage', 'typed while down 1', 'typed while down 2']);
    await screenshot(page, 'demo-persist', { fullPage: false });

    // Off again: a reload starts with an empty outbox and no note.
    await Promise.all([page.waitForEvent('load'), keep.click()]);
    expect(await keep.isChecked()).toBe(false);
    expect(await notes(page)).toEqual([]);
  });
});
