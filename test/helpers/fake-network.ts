/**
 * A fake network for unit tests that drive `WebSocketClient` under `vi.useFakeTimers()`: fake
 * servers on URLs, and `FakeSocket`s (fake-socket.ts) that connect to them. It replaces mock-socket,
 * whose sockets differed from a browser's where the client's logic cares (CONTRIBUTING.md, "Toolchain traps"); what
 * this one does like a browser is pinned by test/unit/fake-network.test.ts.
 *
 * Timing (every delay is one `setTimeout(fn, MOCK_DELAY)`, read from the global at call time, so
 * fake timers capture it and nothing happens until fake time advances; `advance(ms)`):
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
 * client gets the fake through its `WebSocket` option (`mockOptions()`), nothing global changes.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { ClientEventMap, WebSocketClient, WebSocketConstructor } from '../../client/index.js';
import { bytesOf, FakeSocket } from './fake-socket.js';

export { FakeSocket };

/** A URL `mockServer()` listens on by default. */
export const TEST_URL = 'ws://tether.test/live';
/** A URL no server ever listens on: attempts there fail after `MOCK_DELAY` ms. */
export const NO_SERVER_URL = 'ws://nobody.test/';
/** The network's one delay: before open, before a client message arrives, before a close. */
export const MOCK_DELAY = 4;

const servers = new Map<string, FakeServer>();
const later = (fn: () => void) => setTimeout(fn, MOCK_DELAY);

/** Advances fake time, running timers and the promise jobs they queue. */
export function advance(ms: number): Promise<unknown> {
  return vi.advanceTimersByTimeAsync(ms);
}

type ServerSocketEvents = {
  message: (data: unknown) => void;
  close: (code: number, reason: string) => void;
};

/** The server's end of one connection (its API follows `ws`'s server-side socket). */
export class ServerSocket {
  /** The client went away or was closed: nothing more is sent or received. */
  ended = false;
  #refused = false;
  #closeEmitted = false;
  readonly #handlers: { [K in keyof ServerSocketEvents]: Array<ServerSocketEvents[K]> } = {
    message: [],
    close: [],
  };

  constructor(
    readonly client: NetworkSocket,
    readonly server: FakeServer,
  ) {}

  /** True once the server closed or terminated the connection before it opened. */
  get refused(): boolean {
    return this.#refused;
  }

  on<K extends keyof ServerSocketEvents>(type: K, handler: ServerSocketEvents[K]): void {
    this.#handlers[type].push(handler);
  }

  /** Sends to the client, which gets `message` at once. */
  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.ended) return;
    this.client.serverMessage(data);
  }

  /**
   * Starts a closing handshake with `code` and `reason` (1005 without a code): the client is
   * CLOSING at once and gets a clean `close` `MOCK_DELAY` ms later. 1006 is never sent on the wire
   * (RFC 6455 §7.4.1), so it throws here: `terminate()` is the connection dropped.
   */
  close(code?: number, reason = ''): void {
    if (code === 1005 || code === 1006 || code === 1015) {
      throw new RangeError(`close code ${code} is never sent on the wire; use terminate() for a drop`);
    }
    this.#end(() => {
      this.client.readyState = FakeSocket.CLOSING;
      later(() => this.#closed(code ?? 1005, reason, true));
    });
  }

  /** Drops the connection without a closing handshake: `close` 1006, not clean, `MOCK_DELAY` ms later. */
  terminate(): void {
    this.#end(() => later(() => this.#closed(1006, '', false)));
  }

  /** Delivers what the client wrote. */
  receive(data: unknown): void {
    if (this.ended) return;
    this.server.received.push(data);
    for (const handler of this.#handlers.message) handler(data);
  }

  /** The client's closing handshake reached the server; it answers unless told not to. */
  closedByClient(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.#emitClose(code, reason);
    if (this.server.answersClose) this.#closed(code, reason, true);
  }

  /** The network failed under this connection. */
  fail(): void {
    this.ended = true;
    this.server.detach(this);
    this.client.serverFail();
    this.#emitClose(1006, '');
  }

  #end(then: () => void): void {
    if (this.ended) return;
    this.ended = true;
    if (this.client.readyState === FakeSocket.CONNECTING) {
      this.#refused = true; // the attempt fails when its handshake would have completed
      return;
    }
    if (this.client.readyState !== FakeSocket.OPEN) return;
    then();
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    this.server.detach(this);
    this.client.serverClose(code, reason, wasClean);
    this.#emitClose(code, reason);
  }

  #emitClose(code: number, reason: string): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    for (const handler of this.#handlers.close) handler(code, reason);
  }
}

type ServerEvents = { connection: (socket: ServerSocket) => void };

/** A server listening on one URL. */
export class FakeServer {
  /** Every message received, across all connections, in arrival order. */
  readonly received: unknown[] = [];
  /** Every connection that opened, in order. */
  readonly sockets: ServerSocket[] = [];
  /** Whether the server answers a client's close frame; `false` leaves the client CLOSING. */
  answersClose = true;
  readonly #attached = new Set<ServerSocket>();
  readonly #connection: Array<ServerEvents['connection']> = [];

  constructor(
    readonly url: string,
    /** Picks the subprotocol from those offered; by default the first one. */
    readonly selectProtocol: (offered: string[]) => string = (offered) => offered[0] ?? '',
  ) {}

  on(type: 'connection', handler: ServerEvents['connection']): void {
    if (type !== 'connection') throw new TypeError(`FakeServer has no "${String(type)}" event`);
    this.#connection.push(handler);
  }

  /** Connections attached: connecting, open, or in their closing handshake. */
  clients(): ServerSocket[] {
    return [...this.#attached];
  }

  /** The network fails under every connection: `error`, then `close` 1006, at once. */
  simulate(event: 'error'): void {
    if (event !== 'error') throw new TypeError(`FakeServer cannot simulate "${String(event)}"`);
    for (const socket of this.clients()) socket.fail();
  }

  attach(client: NetworkSocket): ServerSocket {
    const socket = new ServerSocket(client, this);
    this.#attached.add(socket);
    return socket;
  }

  detach(socket: ServerSocket): void {
    this.#attached.delete(socket);
  }

  connected(socket: ServerSocket): void {
    this.sockets.push(socket);
    for (const handler of this.#connection) handler(socket);
  }
}

/** A `FakeSocket` that connects through the fake network. */
export class NetworkSocket extends FakeSocket {
  readonly #peer: ServerSocket | undefined;

  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.#peer = servers.get(this.url)?.attach(this);
    later(() => this.#handshake());
  }

  #handshake(): void {
    if (this.readyState !== FakeSocket.CONNECTING) return;
    const peer = this.#peer;
    if (!peer || peer.refused) {
      if (peer) peer.server.detach(peer);
      this.serverFail();
      return;
    }
    this.serverOpen(peer.server.selectProtocol(this.offered));
    peer.server.connected(peer);
  }

  protected override transmit(data: unknown, size: number): void {
    const wire = data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? bytesOf(data) : data;
    later(() => {
      this.bufferedAmount = Math.max(0, this.bufferedAmount - size);
      this.#peer?.receive(wire);
    });
  }

  protected override abortHandshake(): void {
    later(() => {
      if (this.#peer) this.#peer.server.detach(this.#peer);
      this.serverFail();
    });
  }

  protected override startClosingHandshake(code: number | undefined, reason: string | undefined): void {
    later(() => this.#peer?.closedByClient(code ?? 1005, reason ?? ''));
  }
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
