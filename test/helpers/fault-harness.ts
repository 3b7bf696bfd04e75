/**
 * Shared pieces of the client fault suites: a counting echo server and the numbered-message
 * bookkeeping that turns a run into the figures the suite asserts and reports.
 *
 * Messages are the text `m:<n>`, n = 0, 1, 2, ... in send order. The server records, per
 * connection and in arrival order, every number it receives; it echoes each message (the echoes
 * are the client's proof of life) and answers the client's default heartbeat ping.
 */
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { type RawData, WebSocketServer } from 'ws';
import type { ClientOptions } from '../../client/index.js';
import { PING, PONG } from '../../protocol/heartbeat.js';
import { waitFor } from './next-event.js';

/** The client's default heartbeat messages (protocol/heartbeat.ts). */
export { PING, PONG };

/**
 * Timing shared by the fault suites (client-faults, exactly-once-faults, and e2e/faults-browser in
 * Chromium): their bounds derive from it.
 */
export const HEARTBEAT = { interval: 300, timeout: 300 };
export const RECONNECT = { minDelay: 50, maxDelay: 500, factor: 2, jitter: 0.5, resetAfter: 5000 };
export const CONNECT_TIMEOUT = 500;
/** The client options built from the timing above; the Node suites add their `WebSocket` (and delivery). */
export const FAULT_OPTIONS = {
  heartbeat: HEARTBEAT,
  reconnect: RECONNECT,
  connectTimeout: CONNECT_TIMEOUT,
  closeTimeout: 500,
} satisfies ClientOptions;
/** Added to every bound: timers run late on a loaded two-core machine; the bounds stay meaningful. */
export const SLACK = 1000;
/** One numbered message every STEP_MS (each way) while a test streams. */
export const STEP_MS = 10;
/** Bound on every wait for an event. */
export const WAIT_MS = 5000;

/** A client's `reconnecting` event: retry number `attempt` starts after `delay` ms. */
export interface Reconnect {
  attempt: number;
  delay: number;
  offline: boolean;
}

/**
 * The `reconnecting` events of a run that break the schedule {@link RECONNECT} implies
 * (client/backoff.ts): retries numbered 1, 2, 3, ..., none waiting for the network, and retry n
 * waiting base * (1 - jitter) to base ms, base = min(maxDelay, minDelay * factor ** (n - 1)), each
 * with the attempt and delay range it should have had. Empty when every retry kept to the schedule:
 * the exact check that the wall-clock recovery bounds, padded with SLACK, cannot make.
 */
export function offSchedule(reconnects: readonly Reconnect[]): Array<Reconnect & { expected: string }> {
  return reconnects.flatMap((event, i) => {
    const base = Math.min(RECONNECT.maxDelay, RECONNECT.minDelay * RECONNECT.factor ** i);
    const min = Math.ceil(base * (1 - RECONNECT.jitter));
    const kept = event.attempt === i + 1 && !event.offline && event.delay >= min && event.delay <= base;
    return kept ? [] : [{ ...event, expected: `attempt ${i + 1} after ${min}..${base} ms` }];
  });
}

export interface CountingEchoServer {
  readonly port: number;
  /** Numbers received, one array per connection, in order of connection and of arrival. */
  readonly perConnection: number[][];
  /** Every number received, all connections, in arrival order. */
  received(): number[];
  /** Pings answered. */
  readonly pings: { count: number };
  close(): Promise<void>;
}

/** A ws echo server on 127.0.0.1, port 0, that counts numbered messages per connection. */
export async function startCountingEchoServer(timeoutMs = 3000): Promise<CountingEchoServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await waitFor(wss, 'listening', { timeoutMs, failOn: ['error'], label: 'echo server' });
  const perConnection: number[][] = [];
  const pings = { count: 0 };
  wss.on('connection', (socket) => {
    const mine: number[] = [];
    perConnection.push(mine);
    // Resets and cut frames are the point of these tests: they must not crash the server.
    socket.on('error', () => {});
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const text = data.toString();
      if (!isBinary && text === PING) {
        pings.count += 1;
        socket.send(PONG);
        return;
      }
      const match = /^m:(\d+)$/.exec(text);
      if (match) mine.push(Number(match[1]));
      socket.send(data, { binary: isBinary });
    });
  });
  return {
    port: (wss.address() as AddressInfo).port,
    perConnection,
    received: () => perConnection.flat(),
    pings,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** What `send()` returned for each message: true = written to a socket, false = queued. */
export type SendLog = boolean[];

export interface StreamFigures {
  sent: number;
  delivered: number;
  /** Sent while not writable (send() returned false): must all arrive. */
  queued: number;
  /** Queued messages that never arrived: must be empty. */
  queuedMissing: number[];
  /** Written to a socket (send() returned true) that died before the server read them. */
  lostInDeadSocket: number[];
  /** Positions where the server's sequence did not increase (duplicates or reordering). */
  orderViolations: Array<{ index: number; previous: number; value: number }>;
}

/** Compares what was sent with what the server received. */
export function figures(sends: SendLog, received: readonly number[]): StreamFigures {
  const seen = new Set(received);
  const orderViolations: StreamFigures['orderViolations'] = [];
  for (let i = 1; i < received.length; i++) {
    const previous = received[i - 1] as number;
    const value = received[i] as number;
    if (value <= previous) orderViolations.push({ index: i, previous, value });
  }
  const queuedMissing: number[] = [];
  const lostInDeadSocket: number[] = [];
  sends.forEach((written, n) => {
    if (seen.has(n)) return;
    (written ? lostInDeadSocket : queuedMissing).push(n);
  });
  return {
    sent: sends.length,
    delivered: seen.size,
    queued: sends.filter((written) => !written).length,
    queuedMissing,
    lostInDeadSocket,
    orderViolations,
  };
}

/** A time a fault test measured, the bound the options imply, and which options imply it. */
export interface Timing {
  /** Undefined when there is nothing to time (no reconnect expected). */
  ms: number | undefined;
  bound: number;
  what: string;
}

/** checkTiming's result: the words that report a time, and the check of the limit they name. */
export interface TimingCheck {
  text: string;
  /** Asserts the time is within the limit `text` names (nothing when there was nothing to time). */
  check(): void;
}

/**
 * The report and the assertion of a measured time, built from one limit (its bound plus `slack`),
 * so that a passing run never prints a bound it did not check: it used to print
 * "recovery=91ms (bound 50ms, minDelay)" while allowing 1,050 ms.
 */
export function checkTiming(label: string, { ms, bound, what }: Timing, slack: number = SLACK): TimingCheck {
  if (ms === undefined) return { text: `${label}=n/a (${what})`, check: () => undefined };
  const limit = bound + slack;
  return {
    text: `${label}=${Math.round(ms)}ms (asserted ≤ ${limit}ms = ${what} ${bound}ms + slack ${slack}ms)`,
    check: () => expect(ms, `${label} (${what} ${bound} ms + slack ${slack} ms)`).toBeLessThanOrEqual(limit),
  };
}

/** The half-open detection time: asserted within `heartbeat.interval + heartbeat.timeout` + slack; the words say so. */
export function checkDetection(ms: number, slack: number = SLACK): string {
  const detection = checkTiming(
    'detected',
    { ms, bound: HEARTBEAT.interval + HEARTBEAT.timeout, what: 'interval+timeout' },
    slack,
  );
  detection.check();
  return detection.text;
}

/** The one-line report per fault: the loss is shown, never hidden; `timing` is checkTiming's words. */
export function summary(where: string, fault: string, f: StreamFigures, timing: string): string {
  return (
    `[faults:${where}] ${fault}: sent=${f.sent} delivered=${f.delivered} queued=${f.queued} ` +
    `lost-in-dead-socket=${f.lostInDeadSocket.length} ${timing}`
  );
}
