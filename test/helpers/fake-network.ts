/**
 * A fake network for unit tests that drive `WebSocketClient` under `vi.useFakeTimers()`, on the one
 * socket double of the unit tests (`FakeSocket`, test/helpers/fake-socket.ts). It replaces
 * mock-socket, whose differences from a browser (a refused connection closing with 1000 and
 * wasClean true, an `error` with no `close`, server-side close codes ignored, a process-wide server
 * registry patching the global `WebSocket`) cost more than they gave.
 *
 * What it does, all on fake time (the global `setTimeout`, read at call time):
 * - A new socket connects `MOCK_DELAY` ms after construction: `open` if a server listens on its URL
 *   (origin and path; the query is ignored), else `error` then `close` 1006, wasClean false, as a
 *   browser reports a refused connection.
 * - A client `send()` reaches the server `MOCK_DELAY` ms later; a server `send()` is delivered to
 *   the client at once.
 * - A close started by either side marks the client socket CLOSING at once and delivers `close`
 *   `MOCK_DELAY` ms later: the client's own `close(code, reason)` with its code (1005 without one)
 *   and wasClean true; a server's `close({ code, reason, wasClean })` as given; `drop()` 1006,
 *   wasClean false. `close()` while still connecting fails the attempt: `error`, then `close` 1006.
 * - `stopServers()` (in `afterEach`, via `useMockClock()`) forgets every server.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { ClientEventMap, WebSocketClient, WebSocketConstructor } from '../../client/index.js';
import { FakeSocket } from './fake-socket.js';

/** A URL with a server (once `mockServer()` ran). */
export const TEST_URL = 'ws://tether.test/live';
/** A URL no server ever listens on: attempts there fail after `MOCK_DELAY`. */
export const NO_SERVER_URL = 'ws://nobody.test/';
/** The fake network's delay before open, client-to-server delivery and close. */
export const MOCK_DELAY = 4;

const servers = new Map<string, FakeServer>();
const address = (url: string) => {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
};

/** Advances fake time, running timers and the promise jobs they queue. */
export function advance(ms: number): Promise<unknown> {
  return vi.advanceTimersByTimeAsync(ms);
}

/** The server's end of one connection. */
export class ServerSocket {
  readonly #handlers: Array<(data: unknown) => void> = [];
  #attached = true;

  readonly #server: FakeServer;

  constructor(
    readonly client: MockWebSocket,
    server: FakeServer,
  ) {
    this.#server = server;
  }

  get attached(): boolean {
    return this.#attached;
  }

  on(_event: 'message', handler: (data: unknown) => void): void {
    this.#handlers.push(handler);
  }

  /** Delivered to the client at once. */
  send(data: unknown): void {
    if (this.#attached) this.client.serverMessage(data);
  }

  /** Closes from the server side: the client is CLOSING at once and gets `close` `MOCK_DELAY` later. */
  close({
    code = 1000,
    reason = '',
    wasClean = true,
  }: {
    code?: number;
    reason?: string;
    wasClean?: boolean;
  } = {}) {
    if (!this.#attached) return;
    this.client.closing(() => this.client.serverClose(code, reason, wasClean));
  }

  /** @internal The client's data, `MOCK_DELAY` after its `send()`. */
  deliver(data: unknown): void {
    if (!this.#attached) return;
    this.#server.received.push(data);
    for (const handler of this.#handlers) handler(data);
  }

  /** @internal */
  detach(): void {
    this.#attached = false;
  }
}

export class FakeServer {
  /** Every server-side socket ever connected, in order of connection. */
  readonly sockets: ServerSocket[] = [];
  /** Every message the server received, across all sockets, in arrival order. */
  readonly received: unknown[] = [];
  readonly #onConnection: Array<(socket: ServerSocket) => void> = [];

  on(_event: 'connection', handler: (socket: ServerSocket) => void): void {
    this.#onConnection.push(handler);
  }

  /** Server-side sockets still attached. */
  clients(): ServerSocket[] {
    return this.sockets.filter((socket) => socket.attached);
  }

  /** @internal */
  accept(client: MockWebSocket): ServerSocket {
    const socket = new ServerSocket(client, this);
    this.sockets.push(socket);
    for (const handler of this.#onConnection) handler(socket);
    return socket;
  }
}

/** A socket on the fake network: a `FakeSocket` that connects, sends and closes with `MOCK_DELAY`. */
export class MockWebSocket extends FakeSocket {
  #peer: ServerSocket | undefined;

  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    setTimeout(() => this.#connect(), MOCK_DELAY);
  }

  /** The network takes data at once: `bufferedAmount` stays what the test set (0), unlike by hand. */
  override send(data: unknown): void {
    const open = this.readyState === FakeSocket.OPEN;
    const buffered = this.bufferedAmount;
    super.send(data);
    this.bufferedAmount = buffered;
    const peer = this.#peer;
    if (open && peer) setTimeout(() => peer.deliver(data), MOCK_DELAY);
  }

  override close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    if (this.readyState >= FakeSocket.CLOSING) return;
    if (this.readyState === FakeSocket.CONNECTING) {
      this.closing(() => {
        this.serverError();
        this.serverClose(1006, '', false);
      });
      return;
    }
    this.closing(() => this.serverClose(code ?? 1005, reason ?? '', true));
  }

  /** @internal CLOSING now, `then` after `MOCK_DELAY`, the server's end detached. */
  closing(then: () => void): void {
    this.readyState = FakeSocket.CLOSING;
    setTimeout(() => {
      this.#peer?.detach();
      then();
    }, MOCK_DELAY);
  }

  #connect(): void {
    if (this.readyState !== FakeSocket.CONNECTING) return;
    const server = servers.get(address(this.url));
    if (!server) {
      this.serverError();
      this.serverClose(1006, '', false);
      return;
    }
    // The server selects the first subprotocol offered, as `ws` does by default.
    this.protocol = [this.protocols ?? []].flat()[0] ?? '';
    this.#peer = server.accept(this);
    this.serverOpen();
  }
}

export interface MockServer {
  server: FakeServer;
  /** Every server-side socket ever connected, in order of connection. */
  sockets: ServerSocket[];
  /** Every message the server received, across all sockets, in arrival order. */
  received: unknown[];
  /** Server-side sockets still attached. */
  live(): ServerSocket[];
  /** Drops every attached connection without a closing handshake (1006; another code is a close frame). */
  drop(code?: number, reason?: string): void;
  /** Sends `data` to every attached client (delivered at once). */
  emit(data: string): void;
  advance(ms: number): Promise<unknown>;
}

/** Starts a server on `url` that records connections and messages. Forgotten by `stopServers()`. */
export function mockServer(url = TEST_URL): MockServer {
  if (servers.has(address(url))) throw new Error(`A server already listens on ${url}`);
  const server = new FakeServer();
  servers.set(address(url), server);
  return {
    server,
    sockets: server.sockets,
    received: server.received,
    live: () => server.clients(),
    drop: (code = 1006, reason = '') => {
      for (const socket of server.clients()) socket.close({ code, reason, wasClean: code !== 1006 });
    },
    emit: (data) => {
      for (const socket of server.clients()) socket.send(data);
    },
    advance,
  };
}

/** Forgets every server `mockServer()` started (call in `afterEach`). */
export function stopServers(): void {
  servers.clear();
}

/**
 * The setup every suite on the fake network shares: fake timers before each test; after it, forget
 * the servers, drop pending timers, restore real timers and any spies.
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
export function countingWebSocket(): { WebSocket: WebSocketConstructor; created: MockWebSocket[] } {
  const created: MockWebSocket[] = [];
  class Counting extends MockWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      created.push(this);
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, created };
}

/** Options injecting the fake network's `WebSocket`, and a deterministic `random` (no jitter reduction). */
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
