/**
 * Helpers for unit tests that drive `WebSocketClient` against mock-socket 9.3.1 under
 * `vi.useFakeTimers()`.
 *
 * How mock-socket behaves (read from its source, dist/mock-socket.es.mjs, and pinned by
 * test/unit/mock-socket.test.ts; it differs from a browser, see ../../../shared/TOOLCHAIN.md):
 * - It schedules with its own `setTimeout(fn, 4)` (`delay()`), read from the global at call time,
 *   so fake timers capture it: a new socket opens (or fails) 4 ms after construction, a client
 *   `send()` reaches the server 4 ms later, and a close started by either side (client
 *   `socket.close()` or server-side `socket.close({ code })`) is delivered 4 ms later. Nothing of
 *   this happens until fake time advances: use `advance(ms)` (= `vi.advanceTimersByTimeAsync`).
 *   These timers count in `vi.getTimerCount()`, so a leak check must first let them run out.
 * - Server to client is synchronous: `socket.send()` on a server-side socket dispatches `message`
 *   on the client at once, and `server.close()` dispatches `close` on every client at once.
 * - A server-side `socket.close()` marks the client socket CLOSING at once (before its `close`
 *   event 4 ms later), like a browser that received a close frame.
 * - A server-side socket's close takes an options object: `socket.close({ code: 4002 })`;
 *   `socket.close(4002)` ignores the number and sends 1000. `wasClean` is forced to true for 1000
 *   and 1005 whatever is passed.
 * - `new Server(url)` registers the server process-wide (a second one on the same URL throws
 *   "A mock server is already listening on this url") and replaces the global `WebSocket` until
 *   `stop()`. `server.close()` also unregisters it, so a reconnect test needs a new server.
 *   `stopServers()` must run in `afterEach`. The client under test never uses the global: the
 *   mock `WebSocket` is injected through the `WebSocket` option (`mockOptions()`).
 * - Connecting to a URL with no server fires `error`, then `close` with 1000 and wasClean true
 *   (a browser gives 1006, wasClean false).
 * - `server.simulate('error')` fires `error` on each client and marks it CLOSED, but fires no
 *   `close` at all.
 * - `server.clients()` lists the sockets attached to the server, including ones still
 *   connecting; a socket leaves the list when its `close` is delivered.
 * - `bufferedAmount` is undefined, `binaryType` converts nothing: such things are tested against
 *   real sockets (test/integration/).
 */
import type { Client } from 'mock-socket';
import { WebSocket as MockWebSocket, Server } from 'mock-socket';
import { afterEach, beforeEach, vi } from 'vitest';
import type { ClientEventMap, WebSocketClient, WebSocketConstructor } from '../../client/index.js';

export { MockWebSocket };

/** A URL with a mock server (once `mockServer()` ran); mock-socket adds the trailing slash. */
export const TEST_URL = 'ws://tether.test/live';
/** A URL no mock server ever listens on: attempts there fail after 4 ms. */
export const NO_SERVER_URL = 'ws://nobody.test/';
/** mock-socket's own delay before open, message delivery and close. */
export const MOCK_DELAY = 4;

const servers = new Set<Server>();

/** Advances fake time, running timers and the promise jobs they queue. */
export function advance(ms: number): Promise<unknown> {
  return vi.advanceTimersByTimeAsync(ms);
}

export interface MockServer {
  server: Server;
  /** Every server-side socket ever connected, in order of connection. */
  sockets: Client[];
  /** Every message the server received, across all sockets, in arrival order. */
  received: unknown[];
  /** Server-side sockets still attached (connecting or open). */
  live(): Client[];
  /** Closes every attached socket from the server side (delivered to the client 4 ms later). */
  drop(code?: number, reason?: string): void;
  /** Sends `data` to every attached client (delivered synchronously). */
  emit(data: string): void;
  advance(ms: number): Promise<unknown>;
}

/** Starts a mock server on `url` that records connections and messages. Stopped by `stopServers()`. */
export function mockServer(url = TEST_URL): MockServer {
  const server = new Server(url);
  servers.add(server);
  const sockets: Client[] = [];
  const received: unknown[] = [];
  server.on('connection', (socket) => {
    sockets.push(socket);
    socket.on('message', (data) => {
      received.push(data);
    });
  });
  return {
    server,
    sockets,
    received,
    live: () => server.clients(),
    drop: (code = 1006, reason = '') => {
      for (const socket of server.clients()) socket.close({ code, reason, wasClean: false });
    },
    emit: (data) => {
      for (const socket of server.clients()) socket.send(data);
    },
    advance,
  };
}

/** Stops every server `mockServer()` started (call in `afterEach`). */
export function stopServers(): void {
  for (const server of servers) server.stop();
  servers.clear();
}

/**
 * The setup every mock-socket suite shares: fake timers before each test; after it, stop the
 * (process-global) mock servers, drop pending timers, restore real timers and any spies.
 */
export function useMockClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    stopServers();
    vi.clearAllTimers();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
}

/** A `WebSocket` constructor around mock-socket's that records every socket the client creates. */
export function countingWebSocket(): { WebSocket: WebSocketConstructor; created: MockWebSocket[] } {
  const created: MockWebSocket[] = [];
  class Counting extends MockWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      created.push(this);
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, created };
}

/** Options injecting mock-socket's `WebSocket`, and a deterministic `random` (no jitter reduction). */
export function mockOptions<T extends object>(extra?: T) {
  return { WebSocket: MockWebSocket as never as WebSocketConstructor, random: () => 0, ...extra };
}

/**
 * Subscribes to every client event and records it as a string, for asserting exact order:
 * `state:idle>connecting`, `open`, `message:<data>`, `close:<code>:<willReconnect>`,
 * `error:<code>`, `reconnecting:<attempt>:<delay>`, `drop:<data>:<reason>`.
 */
export function recordEvents(client: object): string[] {
  const c = client as unknown as WebSocketClient<unknown, unknown>;
  const log: string[] = [];
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  c.on('state', ({ from, to }: ClientEventMap['state']) => log.push(`state:${from}>${to}`));
  c.on('open', () => log.push('open'));
  c.on('message', (m) => log.push(`message:${text(m)}`));
  c.on('close', ({ code, willReconnect }) => log.push(`close:${code}:${willReconnect}`));
  c.on('error', (e) => log.push(`error:${e.code}`));
  c.on('reconnecting', ({ attempt, delay }) => log.push(`reconnecting:${attempt}:${delay}`));
  c.on('drop', ({ data, reason }) => log.push(`drop:${text(data)}:${reason}`));
  return log;
}

/** Delays announced by `reconnecting` events, in order. */
export function recordDelays(client: object): number[] {
  const delays: number[] = [];
  (client as WebSocketClient).on('reconnecting', ({ delay }) => delays.push(delay));
  return delays;
}
