/**
 * `persist()` in real Chromium, Firefox and WebKit against the real dev server: the outbox (best-effort) and the
 * session (exactly-once) survive a reload, two tabs with one name each get their own, a duplicated
 * tab does not take over the original's session, and a store that fails leaves the client working
 * in memory, with an `error`, and nothing lost. The server's own log (every message frame it got)
 * and the pages' received messages are checked for exactly-once order.
 */
import type { Page } from 'playwright-core';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EngineContext, type EnginePage, itUnless } from '../helpers/engines';
import { type SessionLog, sessionLogger } from '../helpers/exactly-once-harness.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { openPersistPage, type PersistWindow, persistPageReady, type Seen } from '../helpers/persist-page';

const timeout = 15_000;
/** The quota tests lower the origin's quota through CDP, which only Chromium offers. */
const QUOTA_SKIP = {
  firefox: 'no way to lower one origin’s quota from the test (Chromium’s CDP Storage.overrideQuotaForOrigin)',
  webkit: 'no way to lower one origin’s quota from the test (Chromium’s CDP Storage.overrideQuotaForOrigin)',
};
const numbered = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `msg ${from + i}`);

describeEachEngine('tether-ws/persist: persist() with a client', (suite) => {
  let dev: TestDevServer | undefined;
  let proxy: FaultProxy | undefined;
  let sessions: SessionLog;
  /** What the server got: best-effort, the texts; exactly-once, every message frame, resends included. */
  let wire: Array<{ seq: number; text: string }>;

  async function startServer(port?: number): Promise<TestDevServer> {
    const server = await startDevServer({
      ...(port ? { port } : {}),
      quiet: false,
      logger: sessionLogger(sessions),
    });
    server.server.wss.on('connection', (socket: WebSocket) => {
      socket.on('message', (data: RawData, isBinary: boolean) => {
        const text = String(data);
        if (isBinary || text.startsWith('h') || /^a\d+$/.test(text) || text === 'x') return;
        const frame = /^m(\d+):(.*)$/s.exec(text);
        wire.push(frame ? { seq: Number(frame[1]), text: frame[2] as string } : { seq: 0, text });
      });
    });
    return server;
  }

  beforeAll(async () => {
    sessions = { sessions: 0, resumes: [], lost: [] };
    wire = [];
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await dev?.close();
    dev = undefined;
    sessions = { sessions: 0, resumes: [], lost: [] };
    wire = [];
  });

  const newContext = (): Promise<EngineContext> => suite.newContext();

  const start = (
    page: EnginePage,
    options: {
      url: string;
      name: string | null;
      exactly: boolean;
      resumeWindow?: number;
      retryDelay?: number;
    },
  ) => page.evaluate((options) => (window as unknown as PersistWindow).startClient(options), options);
  const send = (page: EnginePage, texts: string[]) =>
    page.evaluate((texts) => (window as unknown as PersistWindow).sendAll(texts), texts);
  const seen = (page: EnginePage) =>
    page.evaluate(() => (window as unknown as PersistWindow).seen) as Promise<Seen>;
  const state = (page: EnginePage) => page.evaluate(() => (window as unknown as PersistWindow).client.state);
  const waitFor = (page: EnginePage, what: string, predicate: (seen: Seen) => boolean) =>
    expect.poll(async () => predicate(await seen(page)), { timeout, message: what }).toBe(true);
  /** Every `got` line a page logged, across reloads (a reloaded page's own record is gone). */
  const gotLog = (page: EnginePage) => async () =>
    (await page.reports()).flatMap(({ text }) => (text.startsWith('got ') ? [text.slice(4)] : []));
  /** The server's messages once each: the first frame of each seq (a resend repeats one). */
  const firstOfEachSeq = () => wire.filter((frame, i) => wire.findIndex((f) => f.seq === frame.seq) === i);

  it('best-effort: messages queued while the server is down survive a reload and are sent once, in order, by the next page', async () => {
    dev = await startServer();
    // The page comes from the dev server; its WebSocket goes through the proxy, which plays the
    // server going down (refusing and resetting connections) while the page can still reload.
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
    const url = proxy.url('/');
    const page = await openPersistPage(await newContext(), dev.url);
    const got = gotLog(page);
    await start(page, { url, name: 'chat', exactly: false });
    await expect.poll(() => state(page), { timeout }).toBe('open');
    await send(page, numbered(1, 5));
    await waitFor(page, 'echoes 1-5', (s) => s.got.length === 5);

    proxy.refuse(true);
    proxy.resetAll();
    await expect.poll(() => state(page), { timeout }).toBe('reconnecting');
    await send(page, numbered(6, 10)); // queued: nothing to write them to
    await page.reload();
    await persistPageReady(page);
    await start(page, { url, name: 'chat', exactly: false });
    await send(page, numbered(11, 12)); // after the stored ones, though sent before they were restored
    proxy.refuse(false);
    await waitFor(page, 'echoes 6-12', (s) => s.got.length === 7);
    // The server got every message once, in order: 1-5 from the first page, 6-12 from the second.
    expect(wire.map((f) => f.text)).toEqual(numbered(1, 12));
    expect((await seen(page)).got).toEqual(numbered(6, 12));
    expect(await got()).toEqual(numbered(1, 12));
    expect((await seen(page)).errors.filter((e) => !e.startsWith('SOCKET_ERROR'))).toEqual([]);

    // What was written is not resent: a reload with nothing queued sends nothing.
    await page.reload();
    await persistPageReady(page);
    await start(page, { url, name: 'chat', exactly: false });
    await expect.poll(() => state(page), { timeout }).toBe('open');
    await send(page, ['after']);
    await waitFor(page, 'echo of "after"', (s) => s.got.length === 1);
    expect(wire.map((f) => f.text)).toEqual([...numbered(1, 12), 'after']);
  });

  it('exactly-once: a reload mid-stream resumes the session; every message once, in order, both ways', async () => {
    dev = await startServer();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
    const url = proxy.url('/reliable');
    const page = await openPersistPage(await newContext(), dev.url);
    const got = gotLog(page);
    await start(page, { url, name: 'chat', exactly: true });
    await expect.poll(() => state(page), { timeout }).toBe('open');
    await send(page, numbered(1, 5));
    await waitFor(page, 'echoes 1-5', (s) => s.got.length === 5);
    // In flight when the page goes: written (stored with their seqs) and not acknowledged.
    proxy.setLatency(300);
    await send(page, numbered(6, 10));
    await expect
      .poll(() => firstOfEachSeq().length < 10 && firstOfEachSeq().length >= 5, { timeout })
      .toBe(true);
    const serverHadAtReload = firstOfEachSeq().length;
    await page.reload();
    await persistPageReady(page);
    proxy.setLatency(0);
    await start(page, { url, name: 'chat', exactly: true });
    await send(page, numbered(11, 15));
    await expect.poll(async () => (await got()).length, { timeout }).toBe(15);

    expect(firstOfEachSeq().map((f) => f.text)).toEqual(numbered(1, 15));
    expect(firstOfEachSeq().map((f) => f.seq)).toEqual(numbered(1, 15).map((_, i) => i + 1));
    expect(await got()).toEqual(numbered(1, 15));
    expect(serverHadAtReload).toBeLessThan(10);
    // One session, resumed by the second page.
    expect(sessions).toMatchObject({ sessions: 1, lost: [] });
    expect(sessions.resumes.length).toBeGreaterThanOrEqual(1);
    expect(await seen(page)).toMatchObject({ errors: [], lost: [] });
  });

  it('exactly-once: a session the server no longer holds gives session-lost in the next page, with what was written and not acknowledged', async () => {
    dev = await startServer();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
    const url = proxy.url('/reliable');
    const page = await openPersistPage(await newContext(), dev.url);
    await start(page, { url, name: 'chat', exactly: true });
    await expect.poll(() => state(page), { timeout }).toBe('open');
    await send(page, ['acknowledged']);
    // The echo, and the server's acknowledgement: nothing written is held any more.
    await waitFor(page, 'echo', (s) => s.got.length === 1);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as PersistWindow).client.queued), { timeout })
      .toBe(0);
    proxy.blackhole(true); // written, never acknowledged
    await send(page, ['written 1', 'written 2']);
    await page.reload();
    await persistPageReady(page);
    // Past the resume window the server has discarded the session; a restarted one never had it.
    const port = dev.port;
    await proxy.close();
    await dev.close();
    dev = await startServer(port);
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port } });
    await start(page, { url: proxy.url('/reliable'), name: 'chat', exactly: true });
    await send(page, ['new']);
    await waitFor(page, 'session-lost', (s) => s.lost.length === 1 && s.got.includes('new'));
    expect((await seen(page)).lost).toEqual([
      { reason: 'not-resumed', undelivered: ['written 1', 'written 2'] },
    ]);
  });

  it('exactly-once: a session this page gave up (resume window passed) is not resumed by the next page', async () => {
    dev = await startServer();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
    const url = proxy.url('/reliable');
    const page = await openPersistPage(await newContext(), dev.url);
    // The client's window far shorter than the server's (60 s): the server still holds the session.
    // No retry comes before the reload (a phone offline for longer than the window).
    await start(page, { url, name: 'chat', exactly: true, resumeWindow: 300, retryDelay: 10_000 });
    await expect.poll(() => state(page), { timeout }).toBe('open');
    await send(page, ['acknowledged']);
    await waitFor(page, 'echo', (s) => s.got.length === 1);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as PersistWindow).client.queued), { timeout })
      .toBe(0);
    proxy.blackhole(true);
    await send(page, ['given up']);
    proxy.refuse(true);
    proxy.resetAll();
    proxy.blackhole(false);
    await waitFor(page, 'session-lost (expired)', (s) => s.lost.length === 1);
    expect((await seen(page)).lost).toEqual([{ reason: 'expired', undelivered: ['given up'] }]);
    // Reported lost here: the next page must neither resume that session nor send the message.
    await page.reload();
    await persistPageReady(page);
    proxy.refuse(false);
    await start(page, { url, name: 'chat', exactly: true, resumeWindow: 300 });
    await send(page, ['next page']);
    await waitFor(page, 'echo', (s) => s.got.includes('next page'));
    expect((await seen(page)).lost).toEqual([]);
    expect(wire.map((f) => f.text)).toEqual(['acknowledged', 'next page']);
    expect(sessions.sessions).toBe(2);
  });

  it('gives two tabs with the same name a session each, and each its own back after a reload', async () => {
    dev = await startServer();
    const url = `${dev.wsUrl}/reliable`;
    const context = await newContext();
    const first = await openPersistPage(context, dev.url);
    const second = await openPersistPage(context, dev.url);
    await start(first, { url, name: 'chat', exactly: true });
    await start(second, { url, name: 'chat', exactly: true });
    expect((await seen(first)).owned).toBe('chat');
    expect((await seen(second)).owned).toBe('chat#2');
    await send(first, ['first 1']);
    await send(second, ['second 1']);
    await waitFor(first, 'echo', (s) => s.got.length === 1);
    await waitFor(second, 'echo', (s) => s.got.length === 1);
    await second.reload();
    await persistPageReady(second);
    await start(second, { url, name: 'chat', exactly: true });
    await send(second, ['second 2']);
    await send(first, ['first 2']);
    await waitFor(second, 'echo', (s) => s.got.length === 1);
    await waitFor(first, 'echo', (s) => s.got.length === 2);
    expect((await seen(second)).owned).toBe('chat#2');
    expect((await seen(first)).got).toEqual(['first 1', 'first 2']);
    expect((await seen(second)).got).toEqual(['second 2']);
    // Two sessions; the second tab's resumed after its reload (seq 2 in the same session).
    expect(sessions.sessions).toBe(2);
    expect(wire.filter((f) => f.text.startsWith('second'))).toEqual([
      { seq: 1, text: 'second 1' },
      { seq: 2, text: 'second 2' },
    ]);
  });

  it('does not let a duplicated tab resume the original tab’s session', async () => {
    dev = await startServer();
    const url = `${dev.wsUrl}/reliable`;
    const context = await newContext();
    const original = await openPersistPage(context, dev.url);
    await start(original, { url, name: 'chat', exactly: true });
    await send(original, ['original 1']);
    await waitFor(original, 'echo', (s) => s.got.length === 1);
    const duplicate = await context.waitForPage(() =>
      original.evaluate(() => {
        window.open(location.href);
      }),
    );
    await persistPageReady(duplicate);
    await start(duplicate, { url, name: 'chat', exactly: true });
    await send(duplicate, ['duplicate 1']);
    await send(original, ['original 2']);
    await waitFor(duplicate, 'echo', (s) => s.got.length === 1);
    await waitFor(original, 'echo', (s) => s.got.length === 2);
    expect((await seen(duplicate)).owned).toBe('chat#2');
    expect(sessions.sessions).toBe(2);
    expect(sessions.resumes).toEqual([]);
    expect(wire.find((f) => f.text === 'duplicate 1')?.seq).toBe(1);
  });

  it('reports a store that cannot work (no IndexedDB) as an error and delivers in memory', async () => {
    dev = await startServer();
    const page = await openPersistPage(await newContext(), dev.url);
    await page.evaluate(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined });
    });
    await start(page, { url: `${dev.wsUrl}/reliable`, name: 'chat', exactly: true });
    await send(page, ['one', 'two']);
    await waitFor(page, 'echoes', (s) => s.got.length === 2);
    expect((await seen(page)).errors).toEqual([
      'PERSIST_FAILED: Storage failed (load), going on in memory: Error: IndexedDB is not available here',
    ]);
  });

  itUnless(suite, QUOTA_SKIP)(
    'reports the quota exceeded as an error, going on in memory without losing the message that did not fit',
    async () => {
      dev = await startServer();
      const page = await openPersistPage(await newContext(), dev.url);
      const cdp = await (page.native as Page).context().newCDPSession(page.native as Page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: dev.url, quotaSize: 256 * 1024 });
      proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: dev.port } });
      proxy.refuse(true); // the server is down: everything is queued, and stored
      await start(page, { url: proxy.url('/reliable'), name: 'chat', exactly: true });
      await send(page, ['small']);
      await page.evaluate(() => {
        const random = new Uint8Array(512 * 1024);
        for (let at = 0; at < random.length; at += 65_536)
          crypto.getRandomValues(random.subarray(at, at + 65_536));
        (window as unknown as PersistWindow).client.send(random.buffer as unknown as string);
      });
      await send(page, ['after']);
      const stored = (s: Seen) => s.errors.filter((e) => !e.startsWith('SOCKET_ERROR'));
      await waitFor(page, 'error', (s) => stored(s).length === 1);
      proxy.refuse(false);
      await waitFor(page, 'echoes', (s) => s.got.length === 3);
      const outcome = await seen(page);
      expect(stored(outcome)).toEqual([
        expect.stringMatching(
          /^PERSIST_FAILED: Storage failed \(write\), going on in memory: QuotaExceededError/,
        ),
      ]);
      expect(outcome.got[0]).toBe('small');
      expect(outcome.got[2]).toBe('after');
    },
  );
});
