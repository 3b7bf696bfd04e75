/**
 * The unit tests' network: mock-socket 9.3.1 (the design's test double) under a thin layer that
 * makes what the client sees browser-faithful, for tests that drive `WebSocketClient` under
 * `vi.useFakeTimers()`. mock-socket's `Server` (with `mock: false`: the global `WebSocket` is never
 * replaced) holds the URL registry, and each client socket's transport is a mock-socket `WebSocket`:
 * its 4 ms handshake, its delayed client-to-server delivery, its closing handshakes. The socket the
 * client gets is a `NetworkSocket`, the browser-faithful surface of fake-socket.ts over that
 * transport. What the layer corrects, and how (each pinned by test/unit/fake-network.test.ts, and
 * mock-socket's own behaviour by test/unit/mock-socket.test.ts):
 * - no server: mock-socket closes with 1000, wasClean true; the client sees 1006, not clean;
 * - `bufferedAmount`: mock-socket has none; it counts what was sent until mock-socket delivers it;
 * - bytes: a client's typed array is copied when sent (mock-socket passes the caller's object by
 *   reference); server-to-client data is dispatched on the client here, because mock-socket's
 *   server-side `send()` turns every typed array into a string ("1,2,3") and cannot be corrected
 *   from outside;
 * - server-side `close(code, reason)`: mock-socket defaults a missing code to 1000 and reports any
 *   code but 1000/1005 as not clean; here 1005 and clean, as a closing handshake is;
 * - `terminate()` and `simulate('error')`: mock-socket's simulate fires `error` and no `close`;
 *   here `error` then `close` 1006, not clean, as a browser reports a network failure;
 * - a server that never answers a close frame (`answersClose = false`): mock-socket always
 *   completes a client's close; here the client's close frame only reaches the server.
 *
 * Timing (every delay is mock-socket's 4 ms `setTimeout`, or this layer's, read from the global at
 * call time, so fake timers capture it; `advance(ms)`):
 * - A new socket opens `MOCK_DELAY` ms after construction if a server listens on its URL: `open`
 *   on the client first, then `connection` on the server. Without a server it fails then:
 *   `error`, then `close` 1006 (wasClean false).
 * - A client `send()` reaches the server `MOCK_DELAY` ms later, and leaves `bufferedAmount` then.
 * - A closing handshake (client `close()`, or server-side `close(code, reason)`) ends in `close`
 *   `MOCK_DELAY` ms later, clean, with the code and reason given (1005 without a code). A
 *   server-side close marks the client CLOSING at once: its close frame has arrived.
 * - `terminate()` (server side) or `drop(1006)`: `close` 1006, not clean, `MOCK_DELAY` ms later.
 * - Server to client is synchronous: a server-side `send()` dispatches `message` at once (bytes
 *   arrive as bytes, per `binaryType`), and so does `server.simulate('error')` its `error` and
 *   `close` 1006.
 * Servers are registered per URL until `stopServers()` (in `useMockClock()`'s `afterEach`); the
 * client gets the layer through its `WebSocket` option (`mockOptions()`).
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { ClientEventMap, WebSocketClient, WebSocketConstructor } from '../../client/index.js';
import { FakeSocket } from './fake-socket.js';
import { FakeServer, MOCK_DELAY, NetworkSocket, ServerSocket, servers } from './mock-socket-layer.js';

export { FakeServer, FakeSocket, MOCK_DELAY, NetworkSocket, ServerSocket };

/** A URL `mockServer()` listens on by default. */
export const TEST_URL = 'ws://tether.test/live';
/** A URL no server ever listens on: attempts there fail after `MOCK_DELAY` ms. */
export const NO_SERVER_URL = 'ws://nobody.test/';

/** Advances fake time, running timers and the promise jobs they queue. */
export function advance(ms: number): Promise<unknown> {
  return vi.advanceTimersByTimeAsync(ms);
}

export interface MockServer {
  server: FakeServer;
  /** Every server-side socket ever connected, in order of connection. */
  sockets: ServerSocket[];
  /** Every message the server received, across all sockets, in arrival order. */
  received: unknown[];
  /** Server-side sockets still attached (connecting, open or closing). */
  live(): ServerSocket[];
  /**
   * Ends every attached connection from the server side: 1006 (the default) drops it without a
   * closing handshake, any other code closes it cleanly with that code and reason.
   */
  drop(code?: number, reason?: string): void;
  /** Sends `data` to every attached client (delivered synchronously). */
  emit(data: string | ArrayBuffer | ArrayBufferView): void;
  advance(ms: number): Promise<unknown>;
}

/** Starts a fake server on `url` that records connections and messages. Stopped by `stopServers()`. */
export function mockServer(url = TEST_URL, selectProtocol?: (offered: string[]) => string): MockServer {
  const href = new URL(url).href;
  if (servers.has(href)) throw new Error(`A fake server already listens on ${href}`);
  const server = new FakeServer(href, selectProtocol);
  servers.set(href, server);
  return {
    server,
    sockets: server.sockets,
    received: server.received,
    live: () => server.clients(),
    drop: (code = 1006, reason = '') => {
      for (const socket of server.clients()) {
        if (code === 1006) socket.terminate();
        else socket.close(code, reason);
      }
    },
    emit: (data) => {
      for (const socket of server.clients()) {
        if (socket.client.readyState !== FakeSocket.CONNECTING) socket.send(data);
      }
    },
    advance,
  };
}

/** Stops every server `mockServer()` started (call in `afterEach`). */
export function stopServers(): void {
  for (const server of servers.values()) server.stop();
  servers.clear();
}

/**
 * The setup every fake-network suite shares: fake timers before each test; after it, stop the
 * servers, drop pending timers, restore real timers and any spies.
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

/** A `WebSocket` constructor on the fake network that records every socket the client creates. */
export function countingWebSocket(): { WebSocket: WebSocketConstructor; created: NetworkSocket[] } {
  const created: NetworkSocket[] = [];
  class Counting extends NetworkSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      created.push(this);
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, created };
}

/** Options injecting the fake network's `WebSocket`, and a deterministic `random` (no jitter reduction). */
export function mockOptions<T extends object>(extra?: T) {
  return { WebSocket: NetworkSocket as unknown as WebSocketConstructor, random: () => 0, ...extra };
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
