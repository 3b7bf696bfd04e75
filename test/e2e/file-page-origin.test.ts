/**
 * A page opened from disk (`file:///…`) in real Chromium, opening a WebSocket to the dev server:
 * what Origin it sends and what the server answers, as docs/server.md ("Origin check") says. The
 * header is read on the server's `upgrade` event, so the test sees what the browser sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';

/** What the page reports: `open`, or the close code when the handshake failed. */
type Outcome = { event: 'open' } | { event: 'close'; code: number };

const PAGE = `<!doctype html><meta charset="utf-8"><title>file page</title>
<script>
  window.connect = (url) => new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { resolve({ event: 'open' }); socket.close(); };
    socket.onclose = (event) => resolve({ event: 'close', code: event.code });
  });
</script>`;

describeWithBrowser('a page opened from disk', (suite) => {
  let folder: string;
  let dev: TestDevServer | undefined;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'tether-ws-file-page-'));
    writeFileSync(join(folder, 'index.html'), PAGE);
  });
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    rmSync(folder, { recursive: true, force: true });
  });

  /** Opens the page from disk and connects to the server; returns the outcome and the Origin sent. */
  async function connectFromDisk(server: TestDevServer): Promise<{ outcome: Outcome; origin: unknown }> {
    const origins: unknown[] = [];
    server.server.httpServer.on('upgrade', (request) => origins.push(request.headers.origin));
    const page = await suite.newPage();
    await page.goto(pathToFileURL(join(folder, 'index.html')).href);
    const outcome = (await page.evaluate(
      (url) => (window as unknown as { connect(url: string): Promise<Outcome> }).connect(url),
      server.wsUrl,
    )) as Outcome;
    return { outcome, origin: origins[0] };
  }

  it('sends Origin: null and is refused by default (403 "Origin not allowed")', async () => {
    dev = await startDevServer();
    const { outcome, origin } = await connectFromDisk(dev);
    expect(origin).toBe('null');
    expect(outcome).toEqual({ event: 'close', code: 1006 });
    const health = (await (await fetch(`${dev.url}/healthz`)).json()) as { refusals: { origin: number } };
    expect(health.refusals.origin).toBe(1);
  });

  it('is accepted when allowedOrigins lists null', async () => {
    dev = await startDevServer({ allowedOrigins: ['null'] });
    const { outcome, origin } = await connectFromDisk(dev);
    expect(origin).toBe('null');
    expect(outcome).toEqual({ event: 'open' });
  });
});
