/**
 * The tutorial's own page (its public/index.html, copied byte for byte from the tutorial into
 * fixtures/tutorial-index.html.txt) in real Chromium, Firefox and WebKit against our dev server: it must work unchanged,
 * as it did with the tutorial's Express app. The `.txt` keeps Biome from reformatting and "fixing"
 * it: the point is to serve the page exactly as the tutorial wrote it.
 *
 * The page is served the tutorial's way, as the static folder of the server that also answers the
 * WebSocket (`demoDir` points at a temporary folder holding it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine } from '../helpers/engines';
import { waitFor, waitUntil } from '../helpers/next-event';

const FIXTURE = fileURLToPath(new URL('./fixtures/tutorial-index.html.txt', import.meta.url));
const HARDCODED_URL = 'ws://localhost:3000';
const timeoutMs = 10_000;

/** What the page keeps in its global `var conn` once Connect is pressed. */
type TutorialWindow = Window & { conn?: WebSocket; echoes?: string[] };

describeEachEngine("the tutorial's original page", (suite) => {
  let server: TestDevServer;
  let folder: string;
  let served: string;
  const logLines: string[] = [];

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'tether-ws-tutorial-'));
    logLines.length = 0;
    // Not quiet: the server's own "Data received: …" line is what the tutorial showed.
    const logger = {
      info: (line: string) => logLines.push(line),
      error: (line: string) => logLines.push(line),
    };
    server = await startDevServer({ demoDir: folder, quiet: false, logger });

    // The page hardcodes ws://localhost:3000, the tutorial's fixed port. The test server listens on a
    // free port instead, so that one URL is rewritten to it; nothing else in the page is touched.
    const original = readFileSync(FIXTURE, 'utf8');
    expect(original.split(HARDCODED_URL)).toHaveLength(2);
    served = original.replace(HARDCODED_URL, `ws://localhost:${server.port}`);
    // express.static reads the file per request, so it can be written once the port is known.
    writeFileSync(join(folder, 'index.html'), served);
  });

  afterEach(async () => {
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('connects with its own Connect button, sends on Enter, and gets its message echoed', async () => {
    const response = await fetch(`${server.url}/`);
    expect(await response.text()).toBe(served);

    const page = await suite.newPage();
    await page.setViewport(1280, 800);
    await page.goto(`${server.url}/`);

    const connected = waitFor(server.server.wss, 'connection', { timeoutMs, label: 'the dev server' });
    // The page's own buttons, found by the name the tutorial gave them, labelled as it labelled them.
    expect(
      await page.evaluate(() =>
        [...document.querySelectorAll('button')].map((button) => `${button.name}: ${button.textContent}`),
      ),
    ).toEqual(['open: Connect', 'close: Disconnect']);
    await page.click('button[name="open"]');
    await connected;
    await page.waitForFunction(
      () => (window as TutorialWindow).conn?.readyState === WebSocket.OPEN,
      undefined,
      {
        timeout: timeoutMs,
      },
    );
    // The page ignores what comes back; the test listens on its socket (the global `conn`) to see the echo.
    await page.evaluate(() => {
      const scope = window as TutorialWindow;
      const echoes: string[] = [];
      scope.echoes = echoes;
      scope.conn?.addEventListener('message', (event) => echoes.push(String(event.data)));
    });

    // Its input sends on keyup of Enter (keyCode 13) and clears itself.
    await page.fill('#message', 'hello from the tutorial');
    await page.press('Enter');
    expect(await page.evaluate(() => (document.getElementById('message') as HTMLInputElement).value)).toBe(
      '',
    );

    await waitUntil(
      () =>
        logLines.some((line) => line.endsWith('Data received: text, 23 bytes: "hello from the tutorial"')),
      { timeoutMs, message: 'the server to log the message' },
    );
    await page.waitForFunction(
      () => (window as TutorialWindow).echoes?.includes('hello from the tutorial'),
      undefined,
      { timeout: timeoutMs },
    );
    await page.screenshot('tutorial-page');

    // Disconnect calls conn.close() with no code: the server sees 1005 (no status, RFC 6455 §7.1.5).
    await page.click('button[name="close"]');
    await waitUntil(() => logLines.some((line) => / closed 1005 after 1 message$/.test(line)), {
      timeoutMs,
      message: 'the server to log the close',
    });
    expect(server.server.wss.clients.size).toBe(0);
  });
});
