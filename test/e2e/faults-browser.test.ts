/**
 * The half-open and reset faults in real Chromium, Firefox and WebKit: the page loads the UMD build, and its client
 * streams numbered messages through the fault proxy to a counting echo server. Same checks as
 * test/faults/client-faults.test.ts: order without duplicates, every queued message delivered,
 * every retry after the backoff delay of its attempt number, recovery within the bound the options
 * imply; the loss is printed, not hidden.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureUmdBuild } from '../helpers/browser';
import { describeEachEngine, type EnginePage } from '../helpers/engines';
import {
  CONNECT_TIMEOUT,
  type CountingEchoServer,
  checkDetection,
  checkTiming,
  FAULT_OPTIONS,
  figures,
  offSchedule,
  RECONNECT,
  type Reconnect,
  startCountingEchoServer,
  summary,
} from '../helpers/fault-harness.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { waitFor, waitUntil } from '../helpers/next-event';

/** Added to every bound (the Node suites add less): a browser and two servers share two cores. */
const SLACK = 1500;
const WAIT_MS = 8000;

/** Everything the page keeps about its run; timestamps are Date.now(), the clock Node shares. */
interface Snapshot {
  sends: boolean[];
  opens: number[];
  closes: Array<{ at: number; code: number; wasClean: boolean }>;
  errors: Array<{ at: number; code: string }>;
  reconnects: Reconnect[];
  state: string;
  queued: number;
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tether-ws faults</title>
<script src="/tether-ws.umd.js"></script>
<script>
  let run;
  window.startRun = async (url, options) => {
    const client = new TetherWS.WebSocketClient(url, options);
    run = { client, sends: [], opens: [], closes: [], errors: [], reconnects: [] };
    client.on('open', () => run.opens.push(Date.now()));
    client.on('reconnecting', (e) => run.reconnects.push(e));
    client.on('close', (e) => run.closes.push({ at: Date.now(), code: e.code, wasClean: e.wasClean }));
    client.on('error', (e) => run.errors.push({ at: Date.now(), code: e.code }));
    await client.open();
    run.timer = setInterval(() => run.sends.push(client.send('m:' + run.sends.length)), 10);
  };
  window.snapshot = () => ({
    sends: run.sends, opens: run.opens, closes: run.closes, errors: run.errors, reconnects: run.reconnects,
    state: run.client.state, queued: run.client.queued,
  });
  window.stopRun = () => clearInterval(run.timer);
  window.closeRun = () => run && (clearInterval(run.timer), run.client.close());
</script>`;

describeEachEngine('WebSocketClient under injected faults', (suite) => {
  let http: Server;
  let origin: string;
  let server: CountingEchoServer;
  let proxy: FaultProxy;
  let page: EnginePage | undefined;

  beforeAll(async () => {
    const umd = ensureUmdBuild();
    http = createServer((request, response) => {
      if (request.url === '/tether-ws.umd.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(umd));
      } else {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      }
    });
    http.listen(0, '127.0.0.1');
    await waitFor(http, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'http server' });
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    http?.closeAllConnections();
    await new Promise<void>((resolve) => (http?.listening ? http.close(() => resolve()) : resolve()));
  });

  beforeEach(async () => {
    server = await startCountingEchoServer();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  });

  afterEach(async () => {
    await page?.evaluate(() => (window as unknown as { closeRun(): unknown }).closeRun()).catch(() => {});
    page = undefined;
    await proxy.close();
    await server.close();
  });

  const snapshot = (): Promise<Snapshot> =>
    (page as EnginePage).evaluate(() => (window as unknown as { snapshot(): Snapshot }).snapshot());

  async function until(predicate: (s: Snapshot) => boolean, message: string): Promise<Snapshot> {
    return waitUntil(
      async () => {
        const s = await snapshot();
        return predicate(s) ? s : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 20, message },
    );
  }

  async function startRun(): Promise<void> {
    page = await suite.newPage();
    await page.goto(`${origin}/`);
    await page.evaluate(
      ([url, opts]) =>
        (window as unknown as { startRun(u: unknown, o: unknown): Promise<void> }).startRun(url, opts),
      [proxy.url('/'), FAULT_OPTIONS] as const,
    );
    await until((s) => s.sends.length >= 30, '30 messages sent from the page');
  }

  /** Streams on after recovery, stops, waits for the last message, reports and checks. */
  async function finish(fault: string, recovery: { ms: number; bound: number; what: string }) {
    const before = (await snapshot()).sends.length;
    await until((s) => s.sends.length >= before + 20, '20 more messages sent after recovery');
    await (page as EnginePage).evaluate(() => (window as unknown as { stopRun(): void }).stopRun());
    const { sends } = await snapshot();
    const last = sends.length - 1;
    await waitUntil(async () => (await snapshot()).queued === 0 && server.received().includes(last), {
      timeoutMs: WAIT_MS,
      message: `the server to receive the last message m:${last}`,
    });
    const final = await snapshot();
    const result = figures(final.sends, server.received());
    const timing = checkTiming('recovery', recovery, SLACK);
    console.log(summary(suite.engine, fault, result, timing.text));
    expect(result.orderViolations).toEqual([]);
    expect(result.queuedMissing).toEqual([]);
    expect(final.state).toBe('open');
    expect(offSchedule(final.reconnects)).toEqual([]);
    timing.check();
    return { result, final };
  }

  it('reset of every connection: 1006, reconnect after the first backoff delay, no queued message lost', async () => {
    await startRun();
    const injected = Date.now();
    proxy.resetAll();
    const s = await until((x) => x.opens.some((at) => at >= injected), 'the page to reopen after the reset');
    expect(s.closes.at(-1)).toMatchObject({ code: 1006, wasClean: false });
    const opened = s.opens.find((at) => at >= injected) as number;

    const { final } = await finish('reset', {
      ms: opened - injected,
      bound: RECONNECT.minDelay,
      what: 'minDelay',
    });
    expect(final.opens).toHaveLength(2);
    expect(final.reconnects.map(({ attempt }) => attempt)).toEqual([1]);
  });

  it('black hole both ways (half-open): the heartbeat notices within interval + timeout', async () => {
    await startRun();
    // Connections accepted while dark, and those whose upgrade request the hole swallowed.
    const accepted: number[] = [];
    const swallowed = new Set<number>();
    proxy.on('accept', ({ id }) => accepted.push(id));
    proxy.on('drop', ({ id, direction }) => direction === 'up' && swallowed.add(id));
    const injected = Date.now();
    proxy.blackhole(true);
    const s = await until(
      (x) => x.errors.some((e) => e.code === 'HEARTBEAT_TIMEOUT'),
      'HEARTBEAT_TIMEOUT in the page',
    );
    const detectedAt = s.errors.find((e) => e.code === 'HEARTBEAT_TIMEOUT')?.at as number;
    const detectMs = detectedAt - injected;
    console.log(`[faults:${suite.engine}] half-open: ${checkDetection(detectMs, SLACK)}`);
    expect(s.closes.at(-1)).toMatchObject({ code: 1006, wasClean: false });

    // Keep it dark until a retry's upgrade request has been swallowed too, so that the recovery
    // below includes an attempt that can only end by its connect timeout.
    await waitUntil(() => accepted.some((id) => swallowed.has(id)), {
      timeoutMs: WAIT_MS,
      message: 'a retry swallowed by the black hole',
    });
    const lifted = Date.now();
    proxy.blackhole(false);
    const back = await until((x) => x.opens.some((at) => at >= lifted), 'the page to reopen after the lift');
    const opened = back.opens.find((at) => at >= lifted) as number;

    // After the lift: an attempt swallowed by the hole may still have to time out, then one delay.
    const { result } = await finish('half-open', {
      ms: opened - lifted,
      bound: CONNECT_TIMEOUT + RECONNECT.maxDelay,
      what: 'connectTimeout+maxDelay after the lift',
    });
    expect(result.lostInDeadSocket.length).toBeGreaterThan(0);
  });
});
