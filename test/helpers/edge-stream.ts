/**
 * The pieces of the edge-of-the-page suite (test/e2e/persist-edges.test.ts): a tether.v1 server
 * that pushes its own numbered stream to every session (`s:<n>`, about 300 a second) and records
 * what each session's client sent (`c:<n>`); a collector that pages report to synchronously (what
 * their listeners got, what `send()` accepted, what `flushed()` confirmed: console lines die with a
 * page); the page's client; and the counting of lost and duplicated messages per page change.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { createTetherServer, handleProtocols, type TetherSession } from '../../adapter/index.js';
import { startWsServer } from './tether-wire.js';

/** The server pushes this many messages every 10 ms (300 a second); the page sends 2 (200 a second). */
const PUSH_PER_TICK = 3;

export interface StreamServer {
  url: string;
  /** `c:<n>` as the server's application got them, in order, over every session. */
  got: number[];
  /** Messages pushed so far: `s:1` … `s:pushed`. */
  readonly pushed: number;
  /** Sessions started (a resume is not one), and what the server reported lost. */
  sessions: string[];
  lost: string[];
  /** Stops pushing (the stream's end). */
  stop(): void;
  close(): Promise<void>;
}

export async function startStreamServer(): Promise<StreamServer> {
  const tether = createTetherServer({ resumeWindow: 600_000, maxBufferedMessages: 100_000 });
  const got: number[] = [];
  const sessions: string[] = [];
  const lost: string[] = [];
  let pushed = 0;
  let pushing = true;
  const timers: NodeJS.Timeout[] = [];
  tether.on('session', (session: TetherSession) => {
    sessions.push(session.id);
    session.on('message', (data) => got.push(Number(String(data).slice(2))));
    session.on('lost', ({ reason }) => lost.push(`${session.id}: ${reason}`));
    // Continuous, connected or not: the adapter keeps what its client has not acknowledged.
    const timer = setInterval(() => {
      if (!pushing || session.state === 'ended') return;
      for (let i = 0; i < PUSH_PER_TICK; i++) session.send(`s:${++pushed}`);
    }, 10);
    timers.push(timer);
  });
  const server = await startWsServer((socket, request) => tether.handle(socket, request), {
    handleProtocols,
  });
  return {
    url: server.url,
    got,
    get pushed() {
      return pushed;
    },
    sessions,
    lost,
    stop() {
      pushing = false;
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      tether.close();
      await server.close();
    },
  };
}

/** One synchronous report of a page: what happened since its last one. */
export interface PageReport {
  page: number;
  /** `[n, redelivered (0/1), seq]` of each `s:<n>` its listeners got, in order. */
  got: Array<[number, number, number]>;
  /** Each `c:<n>` whose `send()` returned (accepted: no throw, no drop). */
  sent: number[];
  /** The highest n such that `flushed()` resolved after `c:1 … c:n` were sent. */
  durable: number[];
  lost: string[];
  errors: string[];
  owned?: string;
}

export interface Collector {
  url: string;
  reports: PageReport[];
  /** Called when a page asks for its own kill (from a task of its own, blocked until it dies). */
  onKill: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

/** The endpoint pages report to, synchronously (XMLHttpRequest with `async` false). */
export async function startCollector(): Promise<Collector> {
  const collector: Collector = {
    url: '',
    reports: [],
    onKill: undefined,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    request.on('end', () => {
      if (request.url === '/kill') {
        const kill = collector.onKill;
        collector.onKill = undefined;
        // The page stays blocked in its request until it is dead.
        (kill?.() ?? Promise.resolve()).then(
          () => response.destroy(),
          () => response.destroy(),
        );
        return;
      }
      if (body) collector.reports.push(JSON.parse(body) as PageReport);
      response.writeHead(204, { 'Access-Control-Allow-Origin': '*' });
      response.end();
    });
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  collector.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return collector;
}

export interface EdgeClientOptions {
  url: string;
  collector: string;
  page: number;
  /** The first `c:<n>` this page sends. */
  from: number;
  name: string;
  /** Ask for the kill this long after the client opened (the crash runs). */
  killAfter?: number;
  /** Keep the app's store in the same transaction as the handled mark (persist's `inbox` option). */
  transactional?: boolean;
}

/**
 * Starts the page's client (the persist test page's entries, window.T/P/E): exactly-once, kept in
 * `browserStore(name)`, sending `c:<n>` two every 10 ms, reporting synchronously at the end of
 * every task that changed something (a microtask: before any other task, so before the page can
 * go). Resolves once the client is open.
 */
export function startEdgeClient(page: Page, options: EdgeClientOptions): Promise<void> {
  return page.evaluate(async (options) => {
    // biome-ignore lint/suspicious/noExplicitAny: the test page's globals (persist-page.ts).
    const { T, P, E } = window as any;
    const report: { page: number; owned?: string } & Record<
      'got' | 'sent' | 'durable' | 'lost' | 'errors',
      unknown[]
    > = { page: options.page, got: [], sent: [], durable: [], lost: [], errors: [] };
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const body = JSON.stringify(report);
      for (const key of ['got', 'sent', 'durable', 'lost', 'errors'] as const) report[key] = [];
      const request = new XMLHttpRequest();
      request.open('POST', `${options.collector}/report`, false);
      request.send(body);
    };
    const note = () => {
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    };
    const store = P.browserStore(options.name);
    const delivery = await P.persist(store, E.exactlyOnce({ resumeWindow: 600_000 }));
    report.owned = store.owned;
    const client = new T.WebSocketClient(options.url, {
      delivery,
      heartbeat: false,
      queue: { maxMessages: 100_000, maxBytes: 10_000_000 },
      reconnect: { minDelay: 50, maxDelay: 300, jitter: 0 },
    });
    client.on('message', (text: string, info?: { seq: number; redelivered: boolean }) => {
      report.got.push([Number(text.slice(2)), info?.redelivered ? 1 : 0, info?.seq ?? 0]);
      note();
    });
    client.on('session-lost', ({ reason, undelivered }: { reason: string; undelivered: unknown[] }) => {
      report.lost.push(`${reason}: ${undelivered.length}`);
      note();
    });
    client.on('error', (error: { code: string; message: string }) => {
      report.errors.push(`${error.code}: ${error.message}`);
      note();
    });
    client.on('drop', ({ data }: { data: string }) => {
      report.errors.push(`drop ${data}`);
      note();
    });
    const opened = client.open();
    note();
    await opened;
    let n = options.from;
    const timer = setInterval(() => {
      for (let i = 0; i < 2; i++, n++) {
        client.send(`c:${n}`);
        report.sent.push(n);
      }
      const upto = n - 1;
      delivery.flushed().then(
        () => {
          report.durable.push(upto);
          note();
        },
        () => {},
      );
      note();
    }, 10);
    Object.assign(window, { edge: { client, stop: () => clearInterval(timer) } });
    if (options.killAfter !== undefined)
      setTimeout(() => {
        flush();
        const request = new XMLHttpRequest();
        request.open('POST', `${options.collector}/kill`, false); // nothing else runs until the kill
        request.send('');
      }, options.killAfter);
  }, options);
}

/** What one page change cost, both ways. */
export interface EdgeCount {
  run: number;
  /** Server messages the page before and the page after together never delivered. */
  lostIn: number;
  /** Server messages both delivered; and how many of those the later page flagged `redelivered`. */
  duplicatedIn: number;
  flaggedIn: number;
  /** Messages whose `send()` returned in the page before that the server never got; of those, confirmed by `flushed()`. */
  lostOut: number;
  lostDurableOut: number;
  /** Messages of the page before that the server's application got twice. */
  duplicatedOut: number;
}

/**
 * Counts, per page change (page k ended by the edge, page k+1 after it), what was lost and
 * duplicated both ways, from the pages' reports and the server's log. Also returns what holds
 * over the whole run: every pushed message delivered, every accepted one received.
 */
export function countEdges(reports: PageReport[], server: { got: number[]; pushed: number }, pages: number) {
  const byPage = Array.from({ length: pages }, (_, page) => {
    const mine = reports.filter((report) => report.page === page);
    return {
      got: mine.flatMap((report) => report.got),
      sent: mine.flatMap((report) => report.sent),
      durable: Math.max(0, ...mine.flatMap((report) => report.durable)),
      lost: mine.flatMap((report) => report.lost),
      errors: mine.flatMap((report) => report.errors),
      owned: mine.find((report) => report.owned !== undefined)?.owned,
    };
  });
  const atServer = new Map<number, number>();
  for (const n of server.got) atServer.set(n, (atServer.get(n) ?? 0) + 1);
  const counts: EdgeCount[] = [];
  for (let k = 0; k + 1 < pages; k++) {
    const before = byPage[k] as (typeof byPage)[number];
    const after = byPage[k + 1] as (typeof byPage)[number];
    const gotBefore = new Set(before.got.map(([n]) => n));
    const last = Math.max(0, ...gotBefore);
    const firstAfter = after.got.length > 0 ? Math.min(...after.got.map(([n]) => n)) : last + 1;
    const everywhere = new Set(byPage.flatMap((page) => page.got.map(([n]) => n)));
    let lostIn = 0;
    for (let n = Math.min(last, firstAfter) + 1; n < Math.max(last, firstAfter); n++)
      if (!everywhere.has(n)) lostIn++;
    const again = after.got.filter(([n]) => gotBefore.has(n));
    const lostOut = before.sent.filter((n) => !atServer.has(n));
    counts.push({
      run: k + 1,
      lostIn,
      duplicatedIn: again.length,
      flaggedIn: again.filter(([, redelivered]) => redelivered === 1).length,
      lostOut: lostOut.length,
      lostDurableOut: lostOut.filter((n) => n <= before.durable).length,
      duplicatedOut: before.sent.filter((n) => (atServer.get(n) ?? 0) > 1).length,
    });
  }
  const delivered = new Set(byPage.flatMap((page) => page.got.map(([n]) => n)));
  const missingIn = Array.from({ length: server.pushed }, (_, i) => i + 1).filter((n) => !delivered.has(n));
  const accepted = byPage.flatMap((page) => page.sent);
  const missingOut = accepted.filter((n) => !atServer.has(n));
  return { counts, byPage, missingIn, missingOut };
}
