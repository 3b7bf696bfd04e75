/**
 * The demo page with "kept across reloads" on, in real Chromium, Firefox and WebKit against the real dev server: type
 * while the server's WebSocket endpoint is down, reload the page, and the messages are delivered
 * by the next page once the endpoint is back, once each and in order. The page itself stays
 * reachable: only the server's upgrade handling is taken away (its `upgrade` listeners removed and
 * put back), as when a backend is down behind a CDN that still serves the page.
 * Screenshot: test/artifacts/demo-persist-ENGINE.png (git-ignored).
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { ensureUmdBuild } from '../helpers/browser';
import { clickAndWaitForReload, expectDemoState, logEntries, typeMessage } from '../helpers/demo-page';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EnginePage } from '../helpers/engines';
import { accessibleName, isChecked, text, texts, waitForSelector } from '../helpers/engines/dom';

const timeout = 15_000;

describeEachEngine('demo page, kept across reloads', (suite) => {
  let dev: TestDevServer | undefined;
  const pages: EnginePage[] = [];

  beforeAll(() => {
    ensureUmdBuild();
  });
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    const errors = [];
    for (const page of pages.splice(0))
      errors.push(...(await page.reports()).filter((r) => r.type === 'pageerror'));
    expect(errors).toEqual([]);
  });

  const notes = (page: EnginePage) => texts(page, logEntries('note'), { inner: '.text' });
  const received = (page: EnginePage) => texts(page, logEntries('received'), { inner: '.text' });
  const type = typeMessage;

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
    pages.push(page);
    await page.setViewport(1280, 800);
    await page.goto(`${dev.url}/`);
    const keep = '#persist';
    expect(await accessibleName(page, keep)).toBe('kept across reloads tether-ws/persist');
    // Turning it on reloads the page.
    await clickAndWaitForReload(page, keep, timeout);
    await expect
      .poll(() => notes(page), { timeout })
      .toEqual(['Outbox kept across reloads, in IndexedDB as “demo-best-effort”']);
    expect(await isChecked(page, keep)).toBe(true);

    await page.click('#connect');
    await expectDemoState(page, 'open', timeout);
    await type(page, 'before the outage');
    await expect.poll(() => received(page), { timeout }).toEqual(['before the outage']);

    endpointDown();
    await waitForSelector(page, '#state:not([data-state="open"])', { timeout });
    await type(page, 'typed while down 1');
    await type(page, 'typed while down 2');
    await expect.poll(() => text(page, '#queued'), { timeout }).toBe('2');

    await page.reload();
    await expect
      .poll(() => notes(page), { timeout })
      .toEqual([
        'Outbox kept across reloads, in IndexedDB as “demo-best-effort”',
        '2 message(s) left by the last page: sending them',
      ]);
    expect(await text(page, '#queued')).toBe('2');
    endpointBack();
    await expectDemoState(page, 'open', timeout);
    await expect
      .poll(() => received(page), { timeout })
      .toEqual(['typed while down 1', 'typed while down 2']);
    await expect.poll(() => text(page, '#queued'), { timeout }).toBe('0');
    // The server got each message once, in order: nothing lost, nothing sent twice.
    expect(got).toEqual(['before the outage', 'typed while down 1', 'typed while down 2']);
    await page.screenshot('demo-persist');

    // Off again: a reload starts with an empty outbox and no note.
    await clickAndWaitForReload(page, keep, timeout);
    expect(await isChecked(page, keep)).toBe(false);
    expect(await notes(page)).toEqual([]);
  });
});
