/**
 * The demo page in exactly-once mode, in real Chromium, Firefox and WebKit against the real dev server: the Delivery
 * switch (keyboard) points the page at `/reliable`, then a chat-like stream of 30 typed messages
 * survives the server dropping every connection four times. The page is loaded through the fault
 * proxy, which only adds latency (a WAN): the message typed just before each drop is still on its
 * way when the server terminates the connection, so it dies with it and must be resent; the next
 * ones are typed while the page is reconnecting. Every message must reach the server once and in
 * order, and every echo must reach the page once and in order, with no "no echo" mark and no
 * session-lost report. In best-effort mode the same run loses the in-flight messages. Screenshot:
 * test/artifacts/demo-exactly-once-ENGINE.png (git-ignored).
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { ensureUmdBuild } from '../helpers/browser';
import { expectDemoState, logEntries, typeMessage } from '../helpers/demo-page';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EnginePage } from '../helpers/engines';
import { accessibleName, count, isChecked, text, texts, waitForSelector } from '../helpers/engines/dom';
import { type SessionLog, sessionLogger } from '../helpers/exactly-once-harness.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy';

/** Generous for CI on two shared cores; a retry in the demo is at most 5 s away (its maxDelay). */
const timeout = 15_000;
const MESSAGES = 30;
/** After typing these messages the server terminates every connection (no close frame: 1006). */
const DROP_AFTER: readonly number[] = [5, 12, 19, 26];
/** Each way, through the proxy: a message is in flight this long, far longer than a drop takes. */
const LATENCY_MS = 150;

describeEachEngine('demo page, exactly-once delivery', (suite) => {
  let dev: TestDevServer | undefined;
  let proxy: FaultProxy | undefined;
  const pages: EnginePage[] = [];

  beforeAll(() => {
    // The page loads /dist/tether-ws.umd.js.
    ensureUmdBuild();
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await dev?.close();
    dev = undefined;
    // An exception in demo.js fails the test that caused it, even if the page still looked right.
    const errors = [];
    for (const page of pages.splice(0))
      errors.push(...(await page.reports()).filter((r) => r.type === 'pageerror'));
    expect(errors).toEqual([]);
  });

  const expectState = (page: EnginePage, state: string) => expectDemoState(page, state, timeout);
  const entryTexts = (page: EnginePage, direction: 'sent' | 'received' | 'note') =>
    texts(page, logEntries(direction), { inner: '.text' });
  const delivered = (page: EnginePage, hasText: string) =>
    waitForSelector(page, '#log li[data-status="delivered"]', { hasText, timeout });
  const BEST_EFFORT = 'input[name="delivery"][value="best-effort"]';
  const EXACTLY_ONCE = 'input[name="delivery"][value="exactly-once"]';

  it('keeps a 30-message chat intact, each message and echo exactly once, while the server drops every connection', async () => {
    const sessions: SessionLog = { sessions: 0, resumes: [], lost: [] };
    dev = await startDevServer({ quiet: false, logger: sessionLogger(sessions) });
    const wss = dev.server.wss;
    // Every message frame the server received (`m<seq>:<text>`, docs/protocol.md §3), resends included.
    const wire: Array<{ seq: number; text: string }> = [];
    let connections = 0;
    wss.on('connection', (socket: WebSocket) => {
      connections += 1;
      socket.on('message', (data: RawData, isBinary: boolean) => {
        const frame = isBinary ? null : /^m(\d+):(.*)$/s.exec(String(data));
        if (frame) wire.push({ seq: Number(frame[1]), text: frame[2] as string });
      });
    });

    // The page and its WebSocket go through the proxy: the demo connects to its own origin.
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
    const wsUrl = proxy.url('/reliable');
    const page = await suite.newPage();
    pages.push(page);
    await page.setViewport(1280, 800);
    await page.goto(`http://127.0.0.1:${proxy.port}/`);

    // The switch works from the keyboard: arrow keys move the choice within the radio group.
    expect(await accessibleName(page, BEST_EFFORT)).toBe('best-effort /');
    expect(await accessibleName(page, EXACTLY_ONCE)).toBe('exactly-once /reliable');
    expect(await isChecked(page, BEST_EFFORT)).toBe(true);
    expect(await accessibleName(page, '#delivery')).toBe('Delivery');
    await page.evaluate(
      (selector) => (document.querySelector(selector) as HTMLInputElement).focus(),
      BEST_EFFORT,
    );
    await page.press('ArrowDown');
    expect(await isChecked(page, EXACTLY_ONCE)).toBe(true);
    expect(await text(page, '#detail')).toBe(`Press Connect to open a connection to ${wsUrl}.`);
    expect(await entryTexts(page, 'note')).toEqual([`Delivery: exactly-once, endpoint ${wsUrl}`]);
    // Switching before Connect opens nothing.
    expect(wss.clients.size).toBe(0);

    await page.click('#connect');
    await expectState(page, 'open');
    expect(await text(page, '#detail')).toBe(`Connected to ${wsUrl} (tether.v1)`);

    proxy.setLatency(LATENCY_MS);
    /** Per drop: messages the page had sent that the server had not received when it dropped them. */
    const inFlightAtDrop: number[] = [];
    const serverHas = () => new Set(wire.map((f) => f.seq)).size;
    for (let n = 1; n <= MESSAGES; n++) {
      // Only an open connection can be dropped: the page may still be reconnecting from the last drop.
      if (DROP_AFTER.includes(n)) await expectState(page, 'open');
      await typeMessage(page, `msg ${n}`);
      if (DROP_AFTER.includes(n)) {
        expect(wss.clients.size).toBe(1);
        // At once: `msg n` is still in the proxy's latency, so it dies with the connection.
        for (const socket of wss.clients) socket.terminate();
        inFlightAtDrop.push(n - serverHas());
        // The next messages are typed while the page is reconnecting: they wait in the queue.
        await expectState(page, 'reconnecting');
      }
    }

    const expected = Array.from({ length: MESSAGES }, (_, i) => `msg ${i + 1}`);
    await expect.poll(() => entryTexts(page, 'received'), { timeout }).toHaveLength(MESSAGES);
    await expect
      .poll(() => count(page, '#log li[data-direction="sent"]:not([data-status="delivered"])'), { timeout })
      .toBe(0);
    await expect.poll(() => text(page, '#queued'), { timeout }).toBe('0');

    // The page: every echo once, in order; every sent entry delivered, none marked "no echo".
    expect(await entryTexts(page, 'received')).toEqual(expected);
    expect(await entryTexts(page, 'sent')).toEqual(expected);
    const statuses = await texts(page, logEntries('sent'), { inner: '.status' });
    expect(statuses.filter((s) => s !== 'delivered' && s !== 'queued → delivered')).toEqual([]);
    // Messages typed while reconnecting show that they waited.
    expect(statuses.filter((s) => s === 'queued → delivered').length).toBeGreaterThanOrEqual(
      DROP_AFTER.length,
    );
    expect(await count(page, '#log li[data-status="lost"]')).toBe(0);
    expect(await entryTexts(page, 'note')).toEqual([`Delivery: exactly-once, endpoint ${wsUrl}`]);

    // The server: message n carried seq n; a resend repeats a seq, and the adapter keeps the first.
    const firstOfEachSeq = wire.filter((frame, i) => wire.findIndex((f) => f.seq === frame.seq) === i);
    expect(firstOfEachSeq.map((f) => f.seq)).toEqual(expected.map((_, i) => i + 1));
    expect(firstOfEachSeq.map((f) => f.text)).toEqual(expected);
    expect(wire.every((f) => f.text === `msg ${f.seq}`)).toBe(true);
    // The drops did bite: each killed a connection with a message of the page still on its way.
    for (const inFlight of inFlightAtDrop) expect(inFlight).toBeGreaterThanOrEqual(1);
    // One session, resumed after each drop, never ended; one connection per drop plus the first.
    expect(sessions).toMatchObject({ sessions: 1, lost: [] });
    expect(sessions.resumes).toHaveLength(DROP_AFTER.length);
    expect(connections).toBe(DROP_AFTER.length + 1);
    console.log(
      `[e2e:demo exactly-once:${suite.engine}] ${MESSAGES} messages, ${DROP_AFTER.length} drops with ${inFlightAtDrop.join('/')} ` +
        `message(s) in flight: server got ${wire.length} ` +
        `message frames (${wire.length - firstOfEachSeq.length} resent), echoes resent after resumes: ` +
        `${sessions.resumes.join('+')}; page shows ${MESSAGES} echoes, ${statuses.filter((s) => s.startsWith('queued')).length} waited in the queue`,
    );

    await page.screenshot('demo-exactly-once');
  });

  it('reports a session the restarted server no longer knows, then switches back to best-effort while open', async () => {
    dev = await startDevServer();
    const page = await suite.newPage();
    pages.push(page);
    await page.goto(`${dev.url}/`);
    await page.click(EXACTLY_ONCE);
    await page.click('#connect');
    await expectState(page, 'open');
    const type = (message: string) => typeMessage(page, message);
    await type('before the restart');
    await delivered(page, 'before the restart');

    // Sessions live in the server's memory: the new server answers `resumed: false`.
    const port = dev.port;
    await dev.close();
    await waitForSelector(page, '#state:not([data-state="open"])', { timeout });
    await type('while the server is down');
    dev = await startDevServer({ port });
    await delivered(page, 'while the server is down');
    // Everything written had been acknowledged, so nothing is handed back (and the note is no alarm);
    // a message that was only queued is not part of the lost session and goes out in the new one.
    expect(await entryTexts(page, 'note')).toEqual([
      `Delivery: exactly-once, endpoint ${dev.wsUrl}/reliable`,
      'Session not resumed: the server no longer knew it (it restarted, or another node answered): nothing was lost, the server had acknowledged every message',
    ]);
    expect(await count(page, '#log li[data-tone="warn"]')).toBe(0);

    // Switching while open closes the exactly-once client (bye: nothing unacknowledged, so the client
    // emits no session-lost) and connects the best-effort one to the plain echo at once.
    await page.click(BEST_EFFORT);
    await expectState(page, 'open');
    expect(await text(page, '#detail')).toBe(`Connected to ${dev.wsUrl}/`);
    await type('plain again');
    await delivered(page, 'plain again');
    // The exactly-once session the switch closed had nothing unacknowledged: said so, without alarm.
    await expect
      .poll(async () => (await entryTexts(page, 'note')).slice(2), { timeout })
      .toEqual([
        `Delivery: best-effort, endpoint ${dev.wsUrl}/`,
        'Session closed: nothing was lost, the server had acknowledged every message',
      ]);
    expect(await count(page, '#log li[data-tone="warn"]')).toBe(0);
    expect(await count(page, '#log li[data-status="lost"], #log li[data-status="unsent"]')).toBe(0);
  });
});
