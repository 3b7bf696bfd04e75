/**
 * The browser process SIGKILLed mid-stream and started again on the same profile directory, in
 * exactly-once mode within the resume window: the next page resumes the session from IndexedDB.
 * In Chromium and Firefox (the harness's launchOnProfile: its own process group and profile
 * folder); WebKit is skipped, its MiniBrowser under WebDriver keeps no profile.
 *
 * Measured and printed (docs/persist.md, "Per edge"): the store's write time (the window in which
 * what send() took is lost, and what an inbound message waits before delivery), the messages the
 * next page sent from storage, echoes the first page delivered that the next one got again
 * (asserted: each flagged `redelivered`), and echoes neither page got (asserted none: the inbox
 * keeps each until its listeners ran).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import type { RawData, WebSocket } from 'ws';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, noProfileReasons } from '../helpers/engines';
import { type SessionLog, sessionLogger } from '../helpers/exactly-once-harness.js';
import { openPersistPage, type PersistWindow } from '../helpers/persist-page';

const timeout = 20_000;
/** The next page's last message: its echo says that everything before it is in. */
const END = 'end';

describeEachEngine(
  'tether-ws/persist: the browser killed',
  (suite) => {
    let dev: TestDevServer | undefined;
    const servers: Server[] = [];

    afterEach(async () => {
      for (const server of servers.splice(0)) server.close();
      await dev?.close();
      dev = undefined;
    });

    it('resumes the exactly-once session after a SIGKILL of the browser: what the server got is once and in order', async () => {
      const sessions: SessionLog = { sessions: 0, resumes: [], lost: [] };
      dev = await startDevServer({ quiet: false, logger: sessionLogger(sessions) });
      const wire: Array<{ seq: number; text: string }> = [];
      dev.server.wss.on('connection', (socket: WebSocket) => {
        socket.on('message', (data: RawData) => {
          const frame = /^m(\d+):(.*)$/s.exec(String(data));
          if (frame) wire.push({ seq: Number(frame[1]), text: frame[2] as string });
        });
      });
      const firstOfEachSeq = () =>
        wire.filter((frame, i) => wire.findIndex((f) => f.seq === frame.seq) === i);
      const url = `${dev.wsUrl}/reliable`;

      const browser = await suite.launchOnProfile();
      let markKilled = () => {};
      const killed = new Promise<void>((resolve) => {
        markKilled = resolve;
      });
      const page = await openPersistPage(browser.context, dev.url);
      // What the first page delivered, exactly: the page itself asks for the kill, by a synchronous
      // request that carries its echoes so far (console lines still on their way when the browser
      // dies are lost with it, hundreds of them). Asked from a task of its own, between messages:
      // the page is blocked in that request, delivering nothing more, when it is killed.
      let gotBefore: number[] = [];
      const killer = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk;
        });
        request.on('end', () => {
          gotBefore = JSON.parse(body) as number[];
          browser.kill().then(
            () => {
              markKilled();
              response.destroy();
            },
            () => response.destroy(),
          );
        });
      });
      await new Promise<void>((resolve) => killer.listen(0, '127.0.0.1', resolve));
      servers.push(killer);
      const killUrl = `http://127.0.0.1:${(killer.address() as AddressInfo).port}/kill`;
      // The window in which a crash loses what send() took: one write of the store, from the call
      // to its commit. Timed here, 100 one-record writes one after the other, on this profile's disk.
      const commitMs = await page.evaluate(async () => {
        const store = (window as unknown as PersistWindow).P.browserStore('probe');
        await store.load();
        const times: number[] = [];
        for (let i = 0; i < 100; i++) {
          const started = performance.now();
          await store.write([[1, { wire: `probe ${i}` }]]);
          times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        return { median: times[50] as number, p99: times[98] as number };
      });
      await page.evaluate(
        (url) => (window as unknown as PersistWindow).startClient({ url, name: 'chat', exactly: true }),
        url,
      );
      // A stream of 4,000 messages, 16 every 8 ms: it is still going when the browser is killed,
      // with frames on their way while their records are being written. The echoes of a burst come
      // back together, most of them while the store writes the received count of the first: what
      // was delivered before that count was stored (the old order) the next page got again.
      await page.evaluate(() => {
        let n = 0;
        const timer = setInterval(() => {
          const burst = Array.from({ length: 16 }, (_, i) => `msg ${n + i + 1}`);
          n += 16;
          (window as unknown as PersistWindow).sendAll(burst);
          if (n === 4000) clearInterval(timer);
        }, 8);
      });
      await page.evaluate((killUrl) => {
        const { seen } = window as unknown as PersistWindow;
        const timer = setInterval(() => {
          if (seen.got.length < 100) return;
          clearInterval(timer);
          const request = new XMLHttpRequest();
          request.open('POST', killUrl, false); // synchronous: nothing else runs until the kill
          request.send(JSON.stringify(seen.got.map((text) => Number(text.split(' ')[1]))));
        }, 3);
      }, killUrl);
      await killed;
      const serverHadAtKill = firstOfEachSeq().length;

      const next = await openPersistPage(await browser.relaunch(), dev.url);
      await next.evaluate(
        (url) => (window as unknown as PersistWindow).startClient({ url, name: 'chat', exactly: true }),
        url,
      );
      await expect
        .poll(() => next.evaluate(() => (window as unknown as PersistWindow).client.state), { timeout })
        .toBe('open');
      // Settled: the echo of a last message, sent after what the store gave back, is in (everything
      // before it too: in order), and the page holds nothing unacknowledged.
      await next.evaluate((end) => (window as unknown as PersistWindow).sendAll([end]), END);
      await expect
        .poll(
          () =>
            next.evaluate((end) => {
              const { client, seen } = window as unknown as PersistWindow;
              return client.queued === 0 && seen.got.at(-1) === end;
            }, END),
          { timeout },
        )
        .toBe(true);
      const seen = await next.evaluate(() => (window as unknown as PersistWindow).seen);
      const { lost, errors } = seen;
      const gotAfter = seen.got.slice(0, -1);
      // The server's log: msg 1 … msg M, each once, numbered 1 … M: nothing duplicated or out of order.
      const delivered = firstOfEachSeq().filter((frame) => frame.text !== END);
      const M = delivered.length;
      expect(delivered.map((f) => f.text)).toEqual(Array.from({ length: M }, (_, i) => `msg ${i + 1}`));
      expect(delivered.map((f) => f.seq)).toEqual(Array.from({ length: M }, (_, i) => i + 1));
      expect(M).toBeGreaterThanOrEqual(serverHadAtKill);
      // Inbound: the server numbers its messages (echoes) 1 … M in the order of msg 1 … msg M. The
      // first page logged 1 … g in order; the second page got firstAfter … M in order; no message
      // both pages got: the second page resumed from a received count that covers everything the
      // first one delivered (delivery waits for that count to be stored).
      const numbers = (texts: string[]) => texts.map((text) => Number(text.split(' ')[1]));
      const g = gotBefore.length;
      expect(g).toBeGreaterThanOrEqual(100);
      expect(gotBefore).toEqual(Array.from({ length: g }, (_, i) => i + 1));
      const firstAfter = gotAfter.length > 0 ? (numbers(gotAfter)[0] as number) : M + 1;
      expect(numbers(gotAfter)).toEqual(Array.from({ length: M - firstAfter + 1 }, (_, i) => firstAfter + i));
      const duplicatedInbound = numbers(gotAfter).filter((n) => n <= g).length;
      // After a crash every restored message is flagged (it may have been handled): each duplicate is.
      const flagged = new Set(numbers(seen.redelivered));
      expect(
        numbers(gotAfter)
          .slice(0, duplicatedInbound)
          .filter((n) => !flagged.has(n)),
        'echoes the first page had delivered, delivered again by the next without the flag',
      ).toEqual([]);
      // Between the two: echoes covered by a stored received count that the first page had not yet
      // delivered when it was killed (the write of their count committed, its completion not yet
      // handled by the page): lost, at most the batch of that one write (docs/persist.md).
      const unseen = Math.max(0, firstAfter - 1 - g);
      expect(unseen, 'echoes neither page got').toBe(0);
      // One session, resumed; nothing reported lost.
      expect(sessions).toMatchObject({ sessions: 1, lost: [] });
      expect(sessions.resumes.length).toBeGreaterThanOrEqual(1);
      expect({ lost, errors }).toEqual({ lost: [], errors: [] });

      console.log(
        `[e2e:persist crash:${suite.engine}] the server had ${serverHadAtKill} messages when the browser was killed and ` +
          `${M} after the next page resumed (${M - serverHadAtKill} sent from storage); the first page delivered ${g}, the next page got ` +
          `${duplicatedInbound} of them again; ${unseen} echoes lost between the ` +
          `first page's last one and the next page's first; one store write takes ${commitMs.median.toFixed(1)} ms (median), ` +
          `${commitMs.p99.toFixed(1)} ms (p99): what send() took within that before the kill is lost`,
      );
    });
  },
  { skip: noProfileReasons() },
);
