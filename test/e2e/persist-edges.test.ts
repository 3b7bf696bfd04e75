/**
 * Exactly-once to the edge of the page (docs/persist.md, "Per edge"), in real Chromium: the
 * server pushes its own numbered stream (about 300 messages a second) while the page sends about
 * 200 a second, and mid-stream the page is reloaded, its tab closed (a new tab with the same name
 * opened after), or the whole browser SIGKILLed and started again on its profile, 20 times each.
 * Pages report what their listeners got and what `send()` accepted synchronously, at the end of
 * every task (console lines die with a page). Counted per page change, both ways: lost and
 * duplicated. Asserted: nothing lost anywhere (after a crash: nothing `flushed()` confirmed);
 * nothing duplicated across a reload or a closed tab; after a crash, a duplicate only as
 * `redelivered`, and only among the last messages the killed page delivered. One session
 * throughout, never a `session-lost`. The figures go to test/artifacts/persist-edges.md, and with
 * UPDATE_RESULTS=1 to docs/results/persist-edges.md, which the docs link to.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithBrowser } from '../helpers/browser';
import { killGroup, launchOn } from '../helpers/crash-browser';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import {
  type Collector,
  countEdges,
  type EdgeCount,
  type StreamServer,
  startCollector,
  startEdgeClient,
  startStreamServer,
} from '../helpers/edge-stream';
import { PERSIST_PAGE_PATH, persistPageReady, servePersistPage } from '../helpers/persist-page';

const RUNS = 20;
const NAME = 'edges';
const results = new Map<string, EdgeCount[]>();

/** Mid-stream: the page goes 150 to 450 ms after its client opened, a different moment each run. */
const streamFor = (run: number) => 150 + ((run * 97) % 300);

describeWithBrowser('tether-ws/persist at the edge of the page', (suite) => {
  let dev: TestDevServer;
  let stream: StreamServer;
  let collector: Collector;

  beforeAll(async () => {
    dev = await startDevServer();
    collector = await startCollector();
  });
  afterAll(async () => {
    await collector?.close();
    await dev?.close();
    writeResults();
  });

  async function openPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${dev.url}${PERSIST_PAGE_PATH}`);
    await persistPageReady(page);
    return page;
  }

  /**
   * Page k sends `c:<k * 1,000,000 + 1>` on: a page may go on sending after its last report could
   * leave (Chromium refuses a synchronous request while a page is being dismissed), so the next
   * page never reuses a number.
   */
  const fromOf = (page: number) => page * 1_000_000 + 1;

  /**
   * Ends the stream on the last page: everything pushed delivered, everything accepted received
   * (after crashes, what the last page accepted: a killed page's unconfirmed sends may be lost).
   */
  async function settle(page: Page, last?: number): Promise<void> {
    await page.evaluate(() => (window as unknown as { edge: { stop(): void } }).edge.stop());
    stream.stop();
    const accepted = () =>
      new Set(
        collector.reports
          .filter((report) => last === undefined || report.page === last)
          .flatMap((report) => report.sent),
      );
    const delivered = () => new Set(collector.reports.flatMap((report) => report.got.map(([n]) => n)));
    const missing = () => {
      const got = delivered();
      const atServer = new Set(stream.got);
      return {
        inbound: Array.from({ length: stream.pushed }, (_, i) => i + 1).filter((n) => !got.has(n)).length,
        outbound: [...accepted()].filter((n) => !atServer.has(n)).length,
      };
    };
    await expect
      .poll(missing, {
        timeout: 60_000,
        message: 'the last page got everything pushed, the server everything accepted',
      })
      .toEqual({ inbound: 0, outbound: 0 });
  }

  /** Counts, prints, asserts what holds on every edge, and returns the counts. */
  function check(edge: string, pages: number, crash: boolean): EdgeCount[] {
    const { counts, byPage, missingIn, missingOut } = countEdges(collector.reports, stream, pages);
    results.set(edge, counts);
    const total = (field: keyof EdgeCount) => counts.reduce((sum, count) => sum + count[field], 0);
    console.log(
      `[e2e:persist edges] ${edge}: ${RUNS} runs, ${stream.pushed} messages pushed, ${stream.got.length} received; ` +
        `lost in ${total('lostIn')}, duplicated in ${total('duplicatedIn')} (flagged ${total('flaggedIn')}), ` +
        `lost out ${total('lostOut')} (confirmed by flushed(): ${total('lostDurableOut')}), duplicated out ${total('duplicatedOut')}`,
    );
    // One session throughout: resumed by every page, never reported lost on either side.
    expect(stream.sessions.length, 'sessions started').toBe(1);
    expect(stream.lost).toEqual([]);
    expect(byPage.flatMap((page) => page.lost)).toEqual([]);
    // Nothing but a failed connection attempt (retried: the machine may be slow to answer).
    expect(
      byPage
        .flatMap((page) => page.errors)
        .filter((error) => !/^(SOCKET_ERROR|CONNECT_TIMEOUT):/.test(error)),
    ).toEqual([]);
    expect(byPage.map((page) => page.owned)).toEqual(byPage.map(() => NAME));
    // Inbound: nothing lost; a duplicate only flagged, and only the killed page's last deliveries.
    expect(missingIn).toEqual([]);
    expect(counts.map((count) => count.lostIn)).toEqual(counts.map(() => 0));
    expect(counts.map((count) => count.duplicatedIn - count.flaggedIn)).toEqual(counts.map(() => 0));
    if (!crash) expect(counts.map((count) => count.duplicatedIn)).toEqual(counts.map(() => 0));
    for (let k = 0; k + 1 < pages; k++) {
      const before = (byPage[k] as (typeof byPage)[number]).got.map(([n]) => n);
      const again = new Set((byPage[k + 1] as (typeof byPage)[number]).got.map(([n]) => n));
      const tail = before.slice(before.length - before.filter((n) => again.has(n)).length);
      expect(
        tail.every((n) => again.has(n)),
        `run ${k + 1}: duplicates are the killed page's last`,
      ).toBe(true);
    }
    // Each page's listeners got the stream in order.
    for (const page of byPage) {
      const fresh = page.got.filter(([, redelivered]) => redelivered === 0).map(([n]) => n);
      expect(fresh).toEqual([...fresh].sort((a, b) => a - b));
    }
    // Outbound: what send() accepted reached the server's application once; after a crash, all
    // that flushed() confirmed.
    expect(counts.map((count) => count.duplicatedOut)).toEqual(counts.map(() => 0));
    if (crash) expect(counts.map((count) => count.lostDurableOut)).toEqual(counts.map(() => 0));
    else expect(missingOut).toEqual([]);
    return counts;
  }

  describe('in one browser', () => {
    let context: BrowserContext;
    beforeAll(async () => {
      stream = await startStreamServer();
    });
    afterAll(async () => {
      await stream?.close();
    });

    it(`reloads mid-stream ${RUNS} times: nothing lost, nothing duplicated, both ways`, async () => {
      collector.reports = [];
      context = await suite.browser.newContext();
      await servePersistPage(context);
      const page = await openPage(context);
      for (let run = 0; run <= RUNS; run++) {
        if (run > 0) {
          await page.reload();
          await persistPageReady(page);
        }
        await startEdgeClient(page, {
          url: stream.url,
          collector: collector.url,
          page: run,
          from: fromOf(run),
          name: NAME,
        });
        if (run < RUNS) await page.waitForTimeout(streamFor(run));
      }
      await settle(page);
      check('reload', RUNS + 1, false);
      await context.close();
    }, 120_000);
  });

  describe('in one browser, tab after tab', () => {
    beforeAll(async () => {
      stream = await startStreamServer();
    });
    afterAll(async () => {
      await stream?.close();
    });

    it(`closes the tab mid-stream ${RUNS} times, a new tab with the same name after each: nothing lost, nothing duplicated`, async () => {
      collector.reports = [];
      const context = await suite.browser.newContext();
      await servePersistPage(context);
      let page = await openPage(context);
      for (let run = 0; run <= RUNS; run++) {
        if (run > 0) {
          await page.close();
          page = await openPage(context);
        }
        await startEdgeClient(page, {
          url: stream.url,
          collector: collector.url,
          page: run,
          from: fromOf(run),
          name: NAME,
        });
        if (run < RUNS) await page.waitForTimeout(streamFor(run));
      }
      await settle(page);
      check('closed tab', RUNS + 1, false);
      await context.close();
    }, 120_000);
  });

  describe('the browser killed', () => {
    let profile: string;
    const children: ChildProcess[] = [];
    beforeAll(async () => {
      stream = await startStreamServer();
      profile = mkdtempSync(join(tmpdir(), 'tether-edges-'));
    });
    afterAll(async () => {
      await Promise.all(children.splice(0).map(killGroup));
      await stream?.close();
      rmSync(profile, { recursive: true, force: true });
    });

    it(`SIGKILLs the browser mid-stream ${RUNS} times: nothing flushed() confirmed is lost, a duplicate only as redelivered`, async () => {
      collector.reports = [];
      let page: Page | undefined;
      let browser: Browser | undefined;
      for (let run = 0; run <= RUNS; run++) {
        const launched = await launchOn(profile);
        children.push(launched.child);
        browser = launched.browser;
        const exited = new Promise<void>((resolve) => launched.child.once('exit', () => resolve()));
        collector.onKill = () => killGroup(launched.child);
        const context = browser.contexts()[0] ?? (await browser.newContext());
        await servePersistPage(context);
        page = await openPage(context);
        const last = run === RUNS;
        await startEdgeClient(page, {
          url: stream.url,
          collector: collector.url,
          page: run,
          from: fromOf(run),
          name: NAME,
          ...(last ? {} : { killAfter: streamFor(run) }),
        });
        if (!last) await exited;
      }
      await settle(page as Page, RUNS);
      check('crash', RUNS + 1, true);
    }, 240_000);
  });
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The figures, per edge and run: test/artifacts/, and docs/results/ with UPDATE_RESULTS=1. */
function writeResults(): void {
  if (results.size === 0) return;
  const lines = [
    '# Exactly-once at the edge of the page: measured',
    '',
    'Written by `test/e2e/persist-edges.test.ts` (`UPDATE_RESULTS=1 npx vitest run test/e2e/persist-edges.test.ts`),',
    `Chromium, ${RUNS} page changes per edge, mid-stream: the server pushes about 300 messages a second, the page sends`,
    'about 200 a second. Per change: messages lost and duplicated in each direction (server to page: "in"; page to',
    'server: "out"). "flagged": duplicates the next page delivered with `redelivered: true`. "lost out, confirmed":',
    'lost messages whose `flushed()` had resolved (must be 0).',
    '',
    '| edge | runs | lost in | duplicated in (flagged) | max duplicated in, one run | lost out (confirmed) | max lost out, one run | duplicated out |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [edge, counts] of results) {
    const sum = (field: keyof EdgeCount) => counts.reduce((total, count) => total + count[field], 0);
    const max = (field: keyof EdgeCount) => Math.max(0, ...counts.map((count) => count[field]));
    lines.push(
      `| ${edge} | ${counts.length} | ${sum('lostIn')} | ${sum('duplicatedIn')} (${sum('flaggedIn')}) | ${max('duplicatedIn')} | ` +
        `${sum('lostOut')} (${sum('lostDurableOut')}) | ${max('lostOut')} | ${sum('duplicatedOut')} |`,
    );
  }
  lines.push('', 'Per run (lost in, duplicated in, lost out, duplicated out):', '');
  for (const [edge, counts] of results)
    lines.push(
      `- ${edge}: ${counts.map((c) => `${c.lostIn}/${c.duplicatedIn}/${c.lostOut}/${c.duplicatedOut}`).join(' ')}`,
    );
  const text = `${lines.join('\n')}\n`;
  mkdirSync(join(ROOT, 'test', 'artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'test', 'artifacts', 'persist-edges.md'), text);
  if (process.env.UPDATE_RESULTS === '1') {
    mkdirSync(join(ROOT, 'docs', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'docs', 'results', 'persist-edges.md'), text);
  }
}
