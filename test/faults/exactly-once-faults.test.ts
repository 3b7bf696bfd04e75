/**
 * The fault suite of client-faults.test.ts again, with `delivery: exactlyOnce()` (tether.v1,
 * docs/protocol.md). Each fault hits two lanes at once, each through its own fault proxy:
 * - `echo`: a client streams `c:<n>` to the dev server's `/reliable` endpoint, which echoes every
 *   message through its session; the echoes the client gets are the server application's view.
 * - `stream`: a client streams `c:<n>` to a tether.v1 server of our own (exactly-once-harness.ts)
 *   while that server's session streams `s:<n>` back on a timer, also while the client is away:
 *   client → server and server → client are each checked on their own.
 * For every fault and every stream: nothing lost, nothing twice, strictly in order; one session
 * per lane and no session-lost report on either side; every retry after the backoff delay of its
 * attempt number, and the connection back within the bound the options imply. One summary line per
 * fault; the resend counts show the fault did bite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { type ClientOptions, WebSocketClient } from '../../client/index.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import {
  type Delivery,
  delivery,
  numberOf,
  recordingWebSocket,
  resends,
  type SessionLog,
  type StreamServer,
  sessionLogger,
  startStreamServer,
} from '../helpers/exactly-once-harness.js';
import {
  CONNECT_TIMEOUT,
  checkDetection,
  checkTiming,
  FAULT_OPTIONS,
  offSchedule,
  RECONNECT,
  type Reconnect,
  STEP_MS,
  WAIT_MS,
} from '../helpers/fault-harness.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy';
import { waitFor, waitUntil } from '../helpers/next-event';

/** Far longer than any fault here: every session must resume. */
const RESUME_WINDOW = 10_000;

/** One client, its proxy, and what it sent, wrote and received. */
interface Lane {
  readonly name: 'echo' | 'stream';
  readonly proxy: FaultProxy;
  client: WebSocketClient;
  /** `c:<n>` sent: n = 0 .. sent - 1. */
  sent: number;
  /** Seqs of every message frame the client wrote, resends included. */
  readonly written: number[];
  /** Numbers the client's `message` listeners got: echoes `c:<n>` or the server's `s:<n>`. */
  readonly received: number[];
  readonly opens: number[];
  readonly closes: Array<{ code: number; wasClean: boolean }>;
  readonly reconnects: Reconnect[];
  readonly errors: string[];
  readonly sessionLost: Array<{ reason: string; undelivered: number }>;
}

let dev: TestDevServer;
let devLog: SessionLog;
let streamServer: StreamServer;
let lanes: Lane[] = [];
let streaming: ReturnType<typeof setInterval> | undefined;

beforeEach(async () => {
  devLog = { sessions: 0, resumes: [], lost: [] };
  dev = await startDevServer({ quiet: false, logger: sessionLogger(devLog) });
  streamServer = await startStreamServer({ resumeWindow: RESUME_WINDOW, stepMs: STEP_MS });
});

afterEach(async () => {
  clearInterval(streaming);
  streamServer.stopStreaming();
  await Promise.all(lanes.map((lane) => lane.client.close()));
  await Promise.all(lanes.map((lane) => lane.proxy.close()));
  lanes = [];
  await streamServer.close();
  await dev.close();
});

/** Opens a client through a proxy of its own to `port` and `path`, and adds it to `lanes`. */
async function openLane(name: Lane['name'], port: number, path: string): Promise<void> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port } });
  const written: number[] = [];
  const options: ClientOptions = {
    WebSocket: recordingWebSocket(written),
    delivery: exactlyOnce({ resumeWindow: RESUME_WINDOW }),
    ...FAULT_OPTIONS,
  };
  const client = new WebSocketClient(proxy.url(path), options);
  const lane: Lane = {
    name,
    proxy,
    client,
    sent: 0,
    written,
    received: [],
    opens: [],
    closes: [],
    reconnects: [],
    errors: [],
    sessionLost: [],
  };
  const prefix = name === 'echo' ? 'c' : 's';
  client.on('message', (data) => {
    const n = numberOf(prefix, data);
    if (n !== undefined) lane.received.push(n);
  });
  client.on('open', () => lane.opens.push(performance.now()));
  client.on('close', ({ code, wasClean }) => lane.closes.push({ code, wasClean }));
  client.on('reconnecting', (event) => lane.reconnects.push(event));
  client.on('error', (error) => lane.errors.push(error.code));
  client.on('session-lost', ({ reason, undelivered }) =>
    lane.sessionLost.push({ reason, undelivered: undelivered.length }),
  );
  // Before open(): afterEach closes the client and its proxy even when the test fails before then.
  lanes.push(lane);
  await client.open();
}

/** Opens both lanes and streams `c:<n>` on each every STEP_MS (the stream server streams `s:<n>`). */
async function startRun(): Promise<void> {
  await openLane('echo', dev.port, '/reliable');
  await openLane('stream', streamServer.port, '/');
  streaming = setInterval(() => {
    for (const lane of lanes) lane.client.send(`c:${lane.sent++}`);
  }, STEP_MS);
  await sendMore(30);
}

/** Resolves once every lane has sent `count` more messages. */
async function sendMore(count: number): Promise<void> {
  const target = (lanes[0] as Lane).sent + count;
  await waitUntil(() => lanes.every((lane) => lane.sent >= target), {
    timeoutMs: WAIT_MS,
    message: `${count} more messages to be sent`,
  });
}

const each = <T>(fn: (lane: Lane) => Promise<T>): Promise<T[]> => Promise.all(lanes.map(fn));
const proxies = (): FaultProxy[] => lanes.map((lane) => lane.proxy);

/** Per lane, the time from `since` (performance.now()) to its first `open` at or after it. */
function recoveredSince(since: number): Promise<number[]> {
  return each(async (lane) => {
    const found = () => lane.opens.find((at) => at >= since);
    await waitUntil(found, { timeoutMs: WAIT_MS, message: `${lane.name}: an "open" after the fault` });
    return (found() as number) - since;
  });
}

/**
 * Streams a little longer on the recovered connections, stops every stream, waits (bounded) for
 * the backlog to arrive, then prints and checks the figures of every stream of both lanes.
 */
async function finish(fault: string, recovery: { ms: number[] | undefined; bound: number; what: string }) {
  await sendMore(20);
  clearInterval(streaming);
  streamServer.stopStreaming();
  const [echo, stream] = lanes as [Lane, Lane];
  const complete = () =>
    echo.received.length >= echo.sent &&
    streamServer.received.length >= stream.sent &&
    stream.received.length >= streamServer.sent();
  // Bounded and not fatal: a loss must show up in the figures below, not as a bare timeout.
  await waitUntil(complete, { timeoutMs: WAIT_MS, message: 'every stream to drain' }).catch(() => undefined);

  const streams: Record<string, Delivery> = {
    'echo c→s→c': delivery(echo.sent, echo.received),
    'stream c→s': delivery(stream.sent, streamServer.received),
    'stream s→c': delivery(streamServer.sent(), stream.received),
  };
  const figures = Object.entries(streams)
    .map(([name, d]) => `${name} sent=${d.sent} delivered=${d.delivered}`)
    .join(' · ');
  const all = Object.values(streams);
  const lost = all.reduce((sum, d) => sum + d.lost.length, 0);
  const dup = all.reduce((sum, d) => sum + d.duplicates.length, 0);
  const disorder = all.reduce((sum, d) => sum + d.outOfOrder.length, 0);
  const resent =
    `resent c→s echo=${resends(echo.written)} stream=${resends(stream.written)}, ` +
    `s→c echo=${sum(devLog.resumes)} stream=${sum(streamServer.log.resumes)}`;
  const { bound, what } = recovery;
  const labels = recovery.ms ? ['recovery echo', 'recovery stream'] : ['recovery'];
  const timings = labels.map((label, i) => checkTiming(label, { ms: recovery.ms?.[i], bound, what }));
  console.log(
    `[faults:exactly-once] ${fault}: ${figures} · lost=${lost} dup=${dup} out-of-order=${disorder} · ` +
      `${resent} · ${timings.map((timing) => timing.text).join(' · ')}`,
  );

  for (const [name, d] of Object.entries(streams)) {
    expect({ name, lost: d.lost, duplicates: d.duplicates, outOfOrder: d.outOfOrder }).toEqual({
      name,
      lost: [],
      duplicates: [],
      outOfOrder: [],
    });
    expect(d.sent, `${name}: the stream was running`).toBeGreaterThan(40);
  }
  for (const lane of lanes) {
    expect({ lane: lane.name, sessionLost: lane.sessionLost }).toEqual({ lane: lane.name, sessionLost: [] });
    expect(lane.client.state).toBe('open');
    expect({ lane: lane.name, offSchedule: offSchedule(lane.reconnects) }).toEqual({
      lane: lane.name,
      offSchedule: [],
    });
  }
  // One session per lane, resumed across the fault, never ended.
  expect(devLog).toMatchObject({ sessions: 1, lost: [] });
  expect(streamServer.log).toMatchObject({ sessions: 1, lost: [] });
  for (const timing of timings) timing.check();
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

describe('WebSocketClient exactly-once under injected faults (Node, ws, tether.v1)', () => {
  it('reset of every connection: resumes after the first backoff delay; nothing lost or repeated either way', async () => {
    await startRun();
    const lost = each((lane) => waitFor(lane.client, 'close', { timeoutMs: WAIT_MS, label: lane.name }));
    const injected = performance.now();
    for (const proxy of proxies()) proxy.resetAll();
    for (const close of await lost) expect(close).toMatchObject({ code: 1006, willReconnect: true });
    const recovery = await recoveredSince(injected);

    // A reset is seen at once; the first retry waits at most minDelay (jitter only shortens it).
    await finish('reset', { ms: recovery, bound: RECONNECT.minDelay, what: 'minDelay' });
    for (const lane of lanes) {
      expect(lane.opens).toHaveLength(2);
      expect(lane.reconnects.map(({ attempt }) => attempt)).toEqual([1]);
    }
  });

  it('black hole both ways (half-open): the heartbeat notices, and what fell in the hole is resent once', async () => {
    await startRun();
    const detected = each((lane) =>
      waitFor(lane.client, 'error', {
        timeoutMs: WAIT_MS,
        filter: (error: { code: string }) => error.code === 'HEARTBEAT_TIMEOUT',
        label: lane.name,
      }),
    );
    const injected = performance.now();
    for (const proxy of proxies()) proxy.blackhole(true);
    await detected;
    const detectMs = performance.now() - injected;
    console.log(`[faults:exactly-once] half-open: ${checkDetection(detectMs)}`);

    // Dark until a retry's upgrade request has been swallowed too, as in the plain suite.
    await each(async (lane) => {
      const retry = await waitFor<{ id: number }>(lane.proxy, 'accept', {
        timeoutMs: WAIT_MS,
        label: 'proxy',
      });
      await waitFor(lane.proxy, 'drop', {
        timeoutMs: WAIT_MS,
        filter: (drop: { id: number; direction: string }) => drop.id === retry.id && drop.direction === 'up',
        label: `${lane.name} proxy`,
      });
    });
    const lifted = performance.now();
    for (const proxy of proxies()) proxy.blackhole(false);
    const recovery = await recoveredSince(lifted);

    await finish('half-open', {
      ms: recovery,
      bound: CONNECT_TIMEOUT + RECONNECT.maxDelay,
      what: 'connectTimeout+maxDelay after the lift',
    });
    // Messages were written into the hole in both directions (the plain suite loses them): they
    // were resent, and the checks above prove each arrived once.
    for (const lane of lanes)
      expect(resends(lane.written), `${lane.name}: client resends`).toBeGreaterThan(0);
    expect(sum(streamServer.log.resumes), 'stream server resends').toBeGreaterThan(0);
  });

  it('latency below the heartbeat timeout: the connection stays open and every stream is intact', async () => {
    await startRun();
    const closesBefore = lanes.map((lane) => lane.closes.length);
    // 100 ms each way: a 200 ms round trip, under the 300 ms heartbeat timeout.
    for (const proxy of proxies()) proxy.setLatency(100);
    await sendMore(100);
    for (const proxy of proxies()) proxy.setLatency(0);

    await finish('latency-100ms', { ms: undefined, bound: 0, what: 'no reconnect expected' });
    expect(lanes.map((lane) => lane.closes.length)).toEqual(closesBefore);
  });

  for (const direction of ['up', 'down'] as const) {
    it(`cut mid-frame (${direction}): resumes after the first backoff delay; nothing lost or repeated`, async () => {
      await startRun();
      const lost = each((lane) => waitFor(lane.client, 'close', { timeoutMs: WAIT_MS, label: lane.name }));
      const cut = each((lane) =>
        waitFor(lane.proxy, 'cut', { timeoutMs: WAIT_MS, label: `${lane.name} proxy` }),
      );
      const injected = performance.now();
      for (const proxy of proxies()) proxy.cutMidFrame(direction);
      await cut;
      for (const close of await lost) expect(close).toMatchObject({ code: 1006, wasClean: false });
      const recovery = await recoveredSince(injected);

      await finish(`cut-mid-frame-${direction}`, {
        ms: recovery,
        bound: RECONNECT.minDelay,
        what: 'minDelay',
      });
      for (const lane of lanes) expect(lane.reconnects.map(({ attempt }) => attempt)).toEqual([1]);
    });
  }

  it('refused connections for a while: resumes within maxDelay of the end, with the backlog of both sides', async () => {
    await startRun();
    const refused = new Map<FaultProxy, number>();
    for (const proxy of proxies()) {
      refused.set(proxy, 0);
      proxy.on('refuse', () => refused.set(proxy, (refused.get(proxy) ?? 0) + 1));
      proxy.refuse(true);
      proxy.resetAll();
    }
    await waitUntil(() => [...refused.values()].every((count) => count >= 3), {
      timeoutMs: WAIT_MS,
      message: '3 refused attempts per lane',
    });
    const lifted = performance.now();
    for (const proxy of proxies()) proxy.refuse(false);
    const recovery = await recoveredSince(lifted);

    await finish('refuse', {
      ms: recovery,
      bound: RECONNECT.maxDelay,
      what: `maxDelay after the lift (${[...refused.values()].join('/')} refused)`,
    });
  });

  it('TCP accepted but the upgrade never answered (stall): connectTimeout abandons the attempt, then it resumes', async () => {
    await startRun();
    const stalled = each((lane) =>
      waitFor(lane.proxy, 'accept', { timeoutMs: WAIT_MS, label: `${lane.name} proxy` }),
    );
    const timedOut = each((lane) =>
      waitFor(lane.client, 'error', {
        timeoutMs: WAIT_MS,
        filter: (error: { code: string }) => error.code === 'CONNECT_TIMEOUT',
        label: lane.name,
      }),
    );
    for (const proxy of proxies()) {
      proxy.stall(true);
      proxy.resetAll();
    }
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
    console.log(`[faults:exactly-once] stall: ${abandoned.text}`);

    const lifted = performance.now();
    for (const proxy of proxies()) proxy.stall(false);
    const recovery = await recoveredSince(lifted);

    await finish('stall', {
      ms: recovery,
      bound: CONNECT_TIMEOUT + RECONNECT.maxDelay,
      what: 'connectTimeout+maxDelay after the lift',
    });
  });
});
