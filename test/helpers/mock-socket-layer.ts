/**
 * The browser-faithful layer over mock-socket 9.3.1 (see fake-network.ts for what it corrects and
 * its timing): `NetworkSocket`, the client's socket, whose transport is a mock-socket `WebSocket`;
 * `FakeServer`, a mock-socket `Server` (`mock: false`: the global `WebSocket` is never replaced)
 * with the connections it has; `ServerSocket`, the server's end of one connection.
 */
import { type Client, Server as MockSocketServer, WebSocket as MockSocketWebSocket } from 'mock-socket';
import { byteLength, bytesOf, FakeSocket } from './fake-socket.js';

/** mock-socket's one delay (its `delay()` helper): before open, before a client message arrives, before a close. */
export const MOCK_DELAY = 4;

/** The servers `mockServer()` started, by URL, until `stopServers()`. */
export const servers = new Map<string, FakeServer>();
const later = (fn: () => void) => setTimeout(fn, MOCK_DELAY);

type ServerSocketEvents = {
  message: (data: unknown) => void;
  close: (code: number, reason: string) => void;
};

/** mock-socket's server-side handle's `on('message')`, whose listener gets the data itself. */
type MockConnection = Client & { on(type: 'message', listener: (data: unknown) => void): void };

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
    /** mock-socket's server-side handle on this connection. */
    readonly transport: Client,
  ) {}

  /** True once the server closed or terminated the connection before it opened. */
  get refused(): boolean {
    return this.#refused;
  }

  on<K extends keyof ServerSocketEvents>(type: K, handler: ServerSocketEvents[K]): void {
    this.#handlers[type].push(handler);
  }

  /**
   * Sends to the client, which gets `message` at once. Dispatched on the client here: mock-socket's
   * server-side send turns typed arrays into strings.
   */
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
      this.client.expectClose(code ?? 1005, reason, true);
      this.transport.close({ code: code ?? 1005, reason, wasClean: true });
    });
  }

  /** Drops the connection without a closing handshake: `close` 1006, not clean, `MOCK_DELAY` ms later. */
  terminate(): void {
    this.#end(() => {
      this.client.expectClose(1006, '', false);
      this.transport.close({ code: 1006, reason: '', wasClean: false });
    });
  }

  /** Delivers what the client wrote (mock-socket calls this `MOCK_DELAY` ms after the send). */
  receive(data: unknown): void {
    this.client.delivered(data);
    if (this.ended) return;
    this.server.received.push(data);
    for (const handler of this.#handlers.message) handler(data);
  }

  /** The client's closing handshake reached the server. */
  closedByClient(code: number, reason: string): void {
    this.ended = true;
    this.emitClose(code, reason);
  }

  /** The network failed under this connection: `error`, then `close` 1006, at once. */
  fail(): void {
    this.ended = true;
    this.server.detach(this);
    this.client.serverFail();
    this.emitClose(1006, '');
  }

  emitClose(code: number, reason: string): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    for (const handler of this.#handlers.close) handler(code, reason);
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
}

type ServerEvents = { connection: (socket: ServerSocket) => void };

/** A server listening on one URL: a mock-socket `Server` and the connections it has. */
export class FakeServer {
  /** Every message received, across all connections, in arrival order. */
  readonly received: unknown[] = [];
  /** Every connection that opened, in order. */
  readonly sockets: ServerSocket[] = [];
  /** Whether the server answers a client's close frame; `false` leaves the client CLOSING. */
  answersClose = true;
  readonly #attached = new Set<ServerSocket>();
  readonly #connection: Array<ServerEvents['connection']> = [];
  readonly #mock: MockSocketServer;

  constructor(
    readonly url: string,
    /** Picks the subprotocol from those offered; by default the first one. */
    readonly selectProtocol: (offered: string[]) => string = (offered) => offered[0] ?? '',
  ) {
    this.#mock = new MockSocketServer(url, {
      mock: false,
      selectProtocol: (offered) => selectProtocol(offered),
    });
    this.#mock.on('connection', (connection) => {
      const socket = peers.get((connection as unknown as { target: MockSocketWebSocket }).target);
      if (socket && !socket.ended) this.connected(socket);
    });
  }

  on(type: 'connection', handler: ServerEvents['connection']): void {
    if (type !== 'connection') throw new TypeError(`FakeServer has no "${String(type)}" event`);
    this.#connection.push(handler);
  }

  /** Connections attached: connecting, open, or in their closing handshake. */
  clients(): ServerSocket[] {
    return [...this.#attached];
  }

  /**
   * The network fails under every connection: `error`, then `close` 1006, at once (mock-socket's
   * own simulate, which it runs first, fires `error` and no `close`).
   */
  simulate(event: 'error'): void {
    if (event !== 'error') throw new TypeError(`FakeServer cannot simulate "${String(event)}"`);
    this.#mock.simulate('error');
    for (const socket of this.clients()) socket.fail();
  }

  attach(client: NetworkSocket, transport: MockSocketWebSocket): ServerSocket {
    // mock-socket's server-side handle on the transport: a proxy with `on`, `send` and `close`.
    const connection = this.#mock.clients().find((candidate) => candidate.target === transport);
    if (!connection) throw new Error(`mock-socket did not attach a socket to ${this.url}`);
    const socket = new ServerSocket(client, this, connection);
    peers.set(transport, socket);
    (connection as MockConnection).on('message', (data) => socket.receive(data));
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

  stop(): void {
    this.#mock.stop();
  }
}

/** The server side of each transport socket. */
const peers = new WeakMap<MockSocketWebSocket, ServerSocket>();

/** A browser-faithful `WebSocket` whose transport is a mock-socket `WebSocket`. */
export class NetworkSocket extends FakeSocket {
  readonly #peer: ServerSocket | undefined;
  readonly #transport: MockSocketWebSocket;
  #opened = false;
  /** How the transport's next `close` is to be reported (set by the server side). */
  #expected: { code: number; reason: string; wasClean: boolean } | undefined;

  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    const server = servers.get(this.url);
    this.#transport = new MockSocketWebSocket(this.url, protocols);
    this.#peer = server?.attach(this, this.#transport);
    // mock-socket's own `error` events are not passed on: each failure is reported below, once, as
    // a browser reports it.
    this.#transport.addEventListener('open', () => this.#handshake());
    this.#transport.addEventListener('close', (event) => this.#transportClosed(event as CloseEvent));
  }

  /** The server side will end the connection this way (mock-socket reports it differently). */
  expectClose(code: number, reason: string, wasClean: boolean): void {
    this.#expected = { code, reason, wasClean };
  }

  /** What was sent reached the server: it leaves `bufferedAmount`. */
  delivered(data: unknown): void {
    this.bufferedAmount = Math.max(0, this.bufferedAmount - byteLength(data));
  }

  #handshake(): void {
    const peer = this.#peer;
    if (this.readyState !== FakeSocket.CONNECTING || !peer) return;
    if (peer.refused) {
      peer.server.detach(peer);
      this.serverFail();
      this.#transport.close();
      return;
    }
    this.#opened = true;
    this.serverOpen(this.#transport.protocol);
  }

  #transportClosed(event: CloseEvent): void {
    const peer = this.#peer;
    if (peer) peer.server.detach(peer);
    if (this.readyState === FakeSocket.CLOSED) return;
    // No server, a refused or aborted handshake: mock-socket says 1000 (or 1006); a browser, 1006.
    if (!this.#opened) {
      this.serverFail();
      return;
    }
    const { code, reason, wasClean } = this.#expected ?? {
      code: event.code,
      reason: event.reason,
      wasClean: true,
    };
    peer?.emitClose(code, reason);
    this.serverClose(code, reason, wasClean);
  }

  protected override transmit(data: unknown): void {
    // A copy, as a browser takes one: mock-socket hands the caller's own object to the server.
    const wire = data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? bytesOf(data) : data;
    this.#transport.send(wire as string);
  }

  protected override abortHandshake(): void {
    this.#transport.close();
  }

  protected override startClosingHandshake(code: number | undefined, reason: string | undefined): void {
    const peer = this.#peer;
    if (peer && !peer.server.answersClose) {
      // The close frame reaches the server, which never answers: the client stays CLOSING.
      later(() => peer.closedByClient(code ?? 1005, reason ?? ''));
      return;
    }
    this.#transport.close(code, reason);
  }
}
