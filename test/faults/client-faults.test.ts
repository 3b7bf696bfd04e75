/**
 * The client against injected network faults, in Node with the `ws` constructor. For each fault a
 * WebSocketClient streams numbered messages through the fault proxy to a counting echo server;
 * the fault is injected mid-stream and removed; then the run is checked:
 * - the server received the numbers in increasing order, with no duplicate;
 * - every message sent while the client could not write (send() returned false) arrived;
 * - every retry waited the backoff delay of its attempt number (from the `reconnecting` events), and
 *   the connection came back within the bound the options imply (plus slack for a loaded machine).
 * Messages that send() wrote into a socket that then died are counted and printed, one line per
 * fault: they are the documented loss, not asserted to be zero.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { type ClientOptions, WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
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
  type SendLog,
  STEP_MS,
  type StreamFigures,
  startCountingEchoServer,
  summary,
  type Timing,
  WAIT_MS,
} from '../helpers/fault-harness.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { waitFor, waitUntil } from '../helpers/next-event';

const OPTIONS: ClientOptions = { WebSocket: WS as unknown as WebSocketConstructor, ...FAULT_OPTIONS };

interface Run {
  client: WebSocketClient;
  sends: SendLog;
  opens: number[];
  closes: Array<{ at: number; code: number; wasClean: boolean }>;
  errors: Array<{ at: number; code: string }>;
  reconnects: Reconnect[];
  /** Resolves when at least `count` more messages have been sent. */
  sendMore(count: number): Promise<void>;
  /** The first `open` after `since` (ms, performance.now()). */
  openAfter(since: number): Promise<number>;
  stop(): void;
}

let server: CountingEchoServer;
let proxy: FaultProxy;
let run: Run | undefined;

beforeEach(async () => {
  server = await startCountingEchoServer();
  proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
});

afterEach(async () => {
  run?.stop();
  await run?.client.close();
  run = undefined;
  await proxy.close();
  await server.close();
});

/** Opens a client through the proxy and starts streaming `m:0`, `m:1`, ... every STEP_MS. */
async function startRun(): Promise<Run> {
  const client = new WebSocketClient(proxy.url('/'), OPTIONS);
  const sends: SendLog = [];
  const opens: number[] = [];
  let timer: ReturnType<typeof setInterval> | undefined;
  const current: Run = {
    client,
    sends,
    opens,
    closes: [],
    errors: [],
    reconnects: [],
    async sendMore(count) {
      const target = sends.length + count;
      await waitUntil(() => sends.length >= target, {
        timeoutMs: WAIT_MS,
        message: `${count} more messages to be sent`,
      });
    },
    async openAfter(since) {
      const found = () => opens.find((at) => at >= since);
      if (found() === undefined) await waitFor(client, 'open', { timeoutMs: WAIT_MS, label: 'client' });
      return found() as number;
    },
    stop: () => clearInterval(timer),
  };
  // Before open(): afterEach closes the client even when the test fails before it is open.
  run = current;
  client.on('open', () => opens.push(performance.now()));
  client.on('reconnecting', (event) => current.reconnects.push(event));
  client.on('close', ({ code, wasClean }) => current.closes.push({ at: performance.now(), code, wasClean }));
  client.on('error', (error) => current.errors.push({ at: performance.now(), code: error.code }));
  await client.open();
  timer = setInterval(() => sends.push(client.send(`m:${sends.length}`)), STEP_MS);
  await current.sendMore(30);
  return current;
}

/**
 * Streams a little longer on the recovered connection, stops, waits until the last message has
 * reached the server, then computes, prints and checks the figures common to every fault.
 */
async function finish(current: Run, fault: string, recovery: Timing): Promise<StreamFigures> {
  await current.sendMore(20);
  current.stop();
  const last = current.sends.length - 1;
  await waitUntil(() => current.client.queued === 0 && server.received().includes(last), {
    timeoutMs: WAIT_MS,
    message: `the server to receive the last message m:${last}`,
  });
  const result = figures(current.sends, server.received());
  const timing = checkTiming('recovery', recovery);
  console.log(summary('node', fault, result, timing.text));
  expect(result.orderViolations).toEqual([]);
  expect(result.queuedMissing).toEqual([]);
  expect(current.client.state).toBe('open');
  expect(offSchedule(current.reconnects)).toEqual([]);
  timing.check();
  return result;
}

describe('WebSocketClient under injected faults (Node, ws)', () => {
  it('reset of every connection: reconnects after the first backoff delay and loses no queued message', async () => {
    const current = await startRun();
    const lost = waitFor(current.client, 'close', { timeoutMs: WAIT_MS, label: 'client' });
    const injected = performance.now();
    proxy.resetAll();
    expect(await lost).toMatchObject({ code: 1006, wasClean: false, willReconnect: true });
    const opened = await current.openAfter(injected);

    // A reset is seen at once; the first retry waits at most minDelay (jitter only shortens it).
    await finish(current, 'reset', { ms: opened - injected, bound: RECONNECT.minDelay, what: 'minDelay' });
    expect(current.opens).toHaveLength(2);
    expect(current.reconnects.map(({ attempt }) => attempt)).toEqual([1]);
  });

  it('black hole both ways (half-open): the heartbeat notices within interval + timeout', async () => {
    const current = await startRun();
    const detected = waitFor(current.client, 'error', {
      timeoutMs: WAIT_MS,
      filter: (error: { code: string }) => error.code === 'HEARTBEAT_TIMEOUT',
      label: 'client',
    });
    const injected = performance.now();
    proxy.blackhole(true);
    await detected;
    const detectMs = performance.now() - injected;
    expect(current.closes.at(-1)).toMatchObject({ code: 1006, wasClean: false });
    console.log(`[faults:node] half-open: ${checkDetection(detectMs)}`);

    // Keep it dark until a retry's upgrade request has been swallowed too, so that the recovery
    // below includes an attempt that can only end by its connect timeout.
    const retry = await waitFor<{ id: number }>(proxy, 'accept', { timeoutMs: WAIT_MS, label: 'proxy' });
    await waitFor(proxy, 'drop', {
      timeoutMs: WAIT_MS,
      filter: (drop: { id: number; direction: string }) => drop.id === retry.id && drop.direction === 'up',
      label: 'proxy',
    });
    const lifted = performance.now();
    proxy.blackhole(false);
    const opened = await current.openAfter(lifted);

    // Worst case after the lift: an attempt swallowed by the hole times out, then one backoff delay.
    const bound = CONNECT_TIMEOUT + RECONNECT.maxDelay;
    const result = await finish(current, 'half-open', {
      ms: opened - lifted,
      bound,
      what: 'connectTimeout+maxDelay after the lift',
    });
    // Everything written into the hole is gone: that is the loss this fault costs.
    expect(result.lostInDeadSocket.length).toBeGreaterThan(0);
  });

  it('latency below the heartbeat timeout: the connection stays open and nothing is lost', async () => {
    const current = await startRun();
    const closesBefore = current.closes.length;
    // 100 ms each way: a 200 ms round trip, under the 300 ms heartbeat timeout.
    proxy.setLatency(100);
    await current.sendMore(100);
    proxy.setLatency(0);

    const result = await finish(current, 'latency-100ms', {
      ms: undefined,
      bound: 0,
      what: 'no reconnect expected',
    });
    expect(current.closes.length).toBe(closesBefore);
    expect(result.lostInDeadSocket).toEqual([]);
  });

  for (const direction of ['up', 'down'] as const) {
    it(`cut mid-frame (${direction}): reconnects after the first backoff delay`, async () => {
      const current = await startRun();
      const lost = waitFor(current.client, 'close', { timeoutMs: WAIT_MS, label: 'client' });
      const cut = waitFor(proxy, 'cut', { timeoutMs: WAIT_MS, label: 'proxy' });
      const injected = performance.now();
      proxy.cutMidFrame(direction);
      await cut;
      expect(await lost).toMatchObject({ code: 1006, wasClean: false });
      const opened = await current.openAfter(injected);

      await finish(current, `cut-mid-frame-${direction}`, {
        ms: opened - injected,
        bound: RECONNECT.minDelay,
        what: 'minDelay',
      });
      expect(current.reconnects.map(({ attempt }) => attempt)).toEqual([1]);
    });
  }

  it('refused connections for a while: retries with backoff and opens within maxDelay of the end', async () => {
    const current = await startRun();
    let refused = 0;
    proxy.on('refuse', () => {
      refused += 1;
    });
    proxy.refuse(true);
    proxy.resetAll();
    await waitUntil(() => refused >= 3, { timeoutMs: WAIT_MS, message: '3 refused attempts' });
    const lifted = performance.now();
    proxy.refuse(false);
    const opened = await current.openAfter(lifted);

    // The pending backoff delay is at most maxDelay; nothing else stands in the way.
    await finish(current, 'refuse', {
      ms: opened - lifted,
      bound: RECONNECT.maxDelay,
      what: `maxDelay after the lift (${refused} refused)`,
    });
  });

  it('TCP accepted but the upgrade never answered (stall): connectTimeout abandons the attempt', async () => {
    const current = await startRun();
    proxy.stall(true);
    const stalled = waitFor(proxy, 'accept', { timeoutMs: WAIT_MS, label: 'proxy' });
    const timedOut = waitFor(current.client, 'error', {
      timeoutMs: WAIT_MS,
      filter: (error: { code: string }) => error.code === 'CONNECT_TIMEOUT',
      label: 'client',
    });
    proxy.resetAll();
    await stalled;
    const acceptedAt = performance.now();
    await timedOut;
    const abandonMs = performance.now() - acceptedAt;
    expect(abandonMs).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 50);
    const abandoned = checkTiming('abandoned', {
      ms: abandonMs,
      bound: CONNECT_TIMEOUT,
      what: 'connectTimeout',
    });
    abandoned.check();
    console.log(`[faults:node] stall: ${abandoned.text}`);

    const lifted = performance.now();
    proxy.stall(false);
    const opened = await current.openAfter(lifted);

    // An attempt stalled just before the lift stays stalled: connectTimeout, then one backoff delay.
    await finish(current, 'stall', {
      ms: opened - lifted,
      bound: CONNECT_TIMEOUT + RECONNECT.maxDelay,
      what: 'connectTimeout+maxDelay after the lift',
    });
  });
});
