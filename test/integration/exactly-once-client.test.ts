/**
 * The client side of `delivery: exactlyOnce()` (tether.v1, docs/protocol.md), tested only through
 * the public API and the wire: every frame the client writes is recorded by a `WebSocket` subclass
 * passed as the `WebSocket` option, and the servers are either the `tether-ws/server` adapter or a
 * raw ws server that a test scripts frame by frame (to send what a correct adapter never would:
 * duplicates, gaps, garbage, an unknown session).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type RawData, WebSocket as WsWebSocket } from 'ws';
import {
  createTetherServer,
  handleProtocols,
  type TetherServer,
  type TetherServerOptions,
  type TetherSession,
} from '../../adapter/index.js';
import type { ExactlyOnceOptions } from '../../client/exactly-once/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import {
  type ClientOptions,
  type MessageData,
  type SendData,
  TetherError,
  WebSocketClient,
  type WebSocketConstructor,
} from '../../client/index.js';
import { waitFor, waitForArgs, waitUntil } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const WAIT = 2000;
/** Retries come 10–20 ms apart (jitter 0 pins them): a reconnect costs no wall-clock time. */
const RECONNECT = { minDelay: 10, maxDelay: 20, factor: 2, jitter: 0 };
const SID = /^[A-Za-z0-9_-]{22}$/;

// ---------------------------------------------------------------------------------------------
// The client's wire, as the client wrote it

/** One socket the client created: the URL and subprotocols it was built with, and what it wrote. */
interface ClientWire {
  readonly url: URL;
  readonly protocols: string[];
  /** Frames written, in order: strings as is, binary as a copy of its bytes. */
  readonly sent: Array<string | Uint8Array>;
  /** Text frames received, in order (binary ones are not needed here). */
  readonly received: string[];
}

function bytesOf(data: unknown): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return new Uint8Array(data as ArrayBuffer).slice();
}

/** A `ws` constructor that records every socket the client creates and every frame it writes. */
function recordingWebSocket(): { WebSocket: WebSocketConstructor; sockets: ClientWire[] } {
  const sockets: ClientWire[] = [];
  class RecordingWebSocket extends WsWebSocket {
    readonly #wire: ClientWire;
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
      this.#wire = { url: new URL(url), protocols: [...list], sent: [], received: [] };
      sockets.push(this.#wire);
      this.on('message', (data: RawData, isBinary: boolean) => {
        if (!isBinary) this.#wire.received.push(data.toString());
      });
    }
    override send(data: unknown, ...rest: unknown[]): void {
      this.#wire.sent.push(typeof data === 'string' ? data : bytesOf(data));
      (WsWebSocket.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest);
    }
  }
  return { WebSocket: RecordingWebSocket as unknown as WebSocketConstructor, sockets };
}

// ---------------------------------------------------------------------------------------------
// A raw tether.v1 server, scripted by the test

type ClientFrame =
  | { type: 'hello'; v: unknown; sid: unknown; recv: unknown; keys: string[] }
  | { type: 'message'; seq: number; data: string | Uint8Array }
  | { type: 'ack'; seq: number }
  | { type: 'bye' }
  | { type: 'ping' }
  | { type: 'unknown'; raw: string };

function decodeClientFrame(raw: Buffer, isBinary: boolean): ClientFrame {
  if (isBinary) {
    if (raw.length >= 5 && raw[0] === 0x6d) {
      return { type: 'message', seq: raw.readUInt32BE(1), data: new Uint8Array(raw.subarray(5)) };
    }
    return { type: 'unknown', raw: raw.toString('hex') };
  }
  const text = raw.toString('utf8');
  if (text === 'x') return { type: 'bye' };
  if (text === '__ping__') return { type: 'ping' };
  const message = /^m([1-9]\d*):/.exec(text);
  if (message) return { type: 'message', seq: Number(message[1]), data: text.slice(message[0].length) };
  const ack = /^a(0|[1-9]\d*)$/.exec(text);
  if (ack) return { type: 'ack', seq: Number(ack[1]) };
  if (text.startsWith('h')) {
    const body = JSON.parse(text.slice(1));
    return { type: 'hello', v: body.v, sid: body.sid, recv: body.recv, keys: Object.keys(body) };
  }
  return { type: 'unknown', raw: text };
}

/** One connection to the raw server, with every frame it received, decoded. */
class RawConnection {
  readonly frames: ClientFrame[] = [];
  readonly #events = new EventEmitter();
  #read = 0;

  constructor(
    readonly socket: WsWebSocket,
    readonly request: IncomingMessage,
  ) {
    socket.on('error', () => {});
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      this.frames.push(decodeClientFrame(raw as Buffer, isBinary));
      this.#events.emit('frame');
    });
  }

  /** The `tether_sid` query parameter of the upgrade request. */
  get querySid(): string | null {
    return new URL(this.request.url ?? '/', 'http://localhost').searchParams.get('tether_sid');
  }

  /** The next frame not yet returned. */
  async next(): Promise<ClientFrame> {
    while (this.#read >= this.frames.length) {
      await waitFor(this.#events, 'frame', { timeoutMs: WAIT, label: 'raw connection' });
    }
    const frame = this.frames[this.#read] as ClientFrame;
    this.#read += 1;
    return frame;
  }

  /** Waits for the next frame and checks it is a hello. */
  async hello(): Promise<Extract<ClientFrame, { type: 'hello' }>> {
    const frame = await this.next();
    if (frame.type !== 'hello') throw new Error(`expected a hello, got ${JSON.stringify(frame)}`);
    return frame;
  }

  /** Waits until a received frame satisfies `predicate`. */
  async until(predicate: (frame: ClientFrame) => boolean, what: string): Promise<void> {
    while (!this.frames.some(predicate)) {
      await waitFor(this.#events, 'frame', { timeoutMs: WAIT, label: `raw connection (${what})` });
    }
  }

  messages(): Array<{ seq: number; data: string | Uint8Array }> {
    return this.frames.flatMap((frame) =>
      frame.type === 'message' ? [{ seq: frame.seq, data: frame.data }] : [],
    );
  }

  welcome(sid: string, recv: number, resumed: boolean): void {
    this.socket.send(`w${JSON.stringify({ v: 1, sid, recv, resumed, window: 60_000 })}`);
  }

  send(frame: string): void {
    this.socket.send(frame);
  }
}

/** A ws server on 127.0.0.1:0 that selects tether.v1 and hands each connection to the test. */
async function startRawServer() {
  const connections: RawConnection[] = [];
  const events = new EventEmitter();
  const server = await startWsServer(
    (socket, request) => {
      connections.push(new RawConnection(socket, request));
      events.emit('connection');
    },
    { handleProtocols },
  );
  cleanups.push(server.close);
  return {
    url: server.url,
    connections,
    /** The `index`-th connection (0-based), waiting for it if needed. */
    async connection(index: number): Promise<RawConnection> {
      while (connections.length <= index) {
        await waitFor(events, 'connection', { timeoutMs: WAIT, label: 'raw server' });
      }
      return connections[index] as RawConnection;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The adapter, on a port that can be reused after a "crash"

interface AdapterServer {
  readonly url: string;
  readonly port: number;
  readonly tether: TetherServer;
  readonly sessions: TetherSession[];
  /** Every message a session received, as `[sessionId, data]`. */
  readonly received: Array<[string, string | Buffer]>;
  /** The server dies: connections reset (no close frame, no ack, no bye), then it stops listening. */
  crash(): Promise<void>;
  /** Resets every connection (no close frame); the server keeps listening and keeps its sessions. */
  dropConnections(): void;
}

async function startAdapter(
  options: TetherServerOptions & { echo?: boolean; port?: number } = {},
): Promise<AdapterServer> {
  const { echo = false, port = 0, ...tetherOptions } = options;
  const tether = createTetherServer(tetherOptions);
  const sessions: TetherSession[] = [];
  const received: Array<[string, string | Buffer]> = [];
  tether.on('session', (session) => {
    sessions.push(session);
    session.on('message', (data) => {
      received.push([session.id, data]);
      if (echo) session.send(data);
    });
  });
  const server = await startWsServer((socket, request) => tether.handle(socket, request), {
    handleProtocols,
    port,
  });
  let down = false;
  const crash = async () => {
    if (down) return;
    down = true;
    await server.close(); // terminates every connection first
    tether.close(); // no connection left to ack, bye or close on
  };
  cleanups.push(crash);
  return {
    url: server.url,
    port: (server.wss.address() as AddressInfo).port,
    tether,
    sessions,
    received,
    crash,
    dropConnections: () => {
      for (const socket of server.wss.clients) socket.terminate();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients, and what they emitted

interface Recorded<In> {
  readonly client: WebSocketClient<In, SendData>;
  readonly sockets: ClientWire[];
  /** Event names in order (`message` excluded), to check what came before what. */
  readonly order: string[];
  readonly messages: In[];
  readonly errors: TetherError[];
  readonly closes: Array<{ code: number; reason: string; wasClean: boolean; willReconnect: boolean }>;
  readonly lost: Array<{ reason: string; undelivered: SendData[] }>;
}

function exactlyOnceClient<In = MessageData>(
  url: string,
  options: ClientOptions<In, SendData> = {},
  mode: ExactlyOnceOptions = {},
): Recorded<In> {
  const { WebSocket, sockets } = recordingWebSocket();
  const client = new WebSocketClient<In, SendData>(url, {
    delivery: exactlyOnce(mode),
    reconnect: RECONNECT,
    closeTimeout: 500,
    WebSocket,
    ...options,
  });
  clients.push(client);
  const recorded: Recorded<In> = {
    client,
    sockets,
    order: [],
    messages: [],
    errors: [],
    closes: [],
    lost: [],
  };
  client.on('message', (data) => recorded.messages.push(data));
  client.on('open', () => recorded.order.push('open'));
  client.on('error', (error) => {
    recorded.order.push(`error ${error.code}`);
    recorded.errors.push(error);
  });
  client.on('close', (close) => {
    recorded.order.push('close');
    recorded.closes.push(close);
  });
  client.on('session-lost', (lost) => {
    recorded.order.push(`session-lost ${lost.reason}`);
    recorded.lost.push(lost);
  });
  return recorded;
}

function opened<In>(client: WebSocketClient<In, SendData>): Promise<unknown> {
  return waitFor(client, 'open', { timeoutMs: WAIT, label: 'client' });
}

/**
 * Answers the client's first hello on `server` with a fresh welcome (`recv` 0, not resumed) and
 * waits for `open`. Returns that connection and the sid the client proposed.
 */
async function welcomeFirst<In>(
  server: { connection(index: number): Promise<RawConnection> },
  client: WebSocketClient<In, SendData>,
): Promise<{ first: RawConnection; sid: string }> {
  const first = await server.connection(0);
  const sid = String((await first.hello()).sid);
  const open = opened(client);
  first.welcome(sid, 0, false);
  await open;
  return { first, sid };
}

function lastSocket(recorded: { sockets: ClientWire[] }): ClientWire {
  const socket = recorded.sockets.at(-1);
  if (!socket) throw new Error('the client created no socket');
  return socket;
}

const clients: Array<{ close(): Promise<void> }> = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

// ---------------------------------------------------------------------------------------------

describe('WebSocketClient with delivery: exactlyOnce()', () => {
  describe('negotiation with a server that does not select tether.v1', () => {
    /** A plain echo server that selects `chat` and never `tether.v1`. */
    async function startChatServer() {
      const received: Array<{ data: string; isBinary: boolean }> = [];
      const server = await startWsServer(
        (socket) => {
          socket.on('error', () => {});
          socket.on('message', (data, isBinary) => {
            received.push({ data: data.toString(), isBinary });
            socket.send(data, { binary: isBinary });
          });
        },
        { handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false) },
      );
      cleanups.push(server.close);
      return { ...server, received };
    }

    it('fails with PROTOCOL_UNSUPPORTED by default, closes without retrying and writes nothing', async () => {
      const server = await startChatServer();
      let connections = 0;
      server.wss.on('connection', () => connections++);
      const { client, sockets, errors, closes } = exactlyOnceClient(server.url, {
        protocols: ['chat'],
        // A shouldReconnect that retries everything: the fallback alone must stop the client.
        reconnect: { minDelay: 10, maxDelay: 50, jitter: 0, shouldReconnect: () => true },
      });
      const opening = client.open();
      await waitFor(client, 'close', { timeoutMs: WAIT, label: 'client' });

      expect(errors.map((error) => error.code)).toEqual(['PROTOCOL_UNSUPPORTED']);
      expect(errors[0]?.message).toBe(
        `The server did not select the tether.v1 subprotocol (got "chat"): ${server.url}`,
      );
      expect(closes).toEqual([
        {
          code: 1002,
          reason: 'The server did not select the tether.v1 subprotocol (got "chat")',
          wasClean: false,
          willReconnect: false,
        },
      ]);
      expect(client.state).toBe('closed');
      await expect(opening).rejects.toBeInstanceOf(TetherError);
      // open() rejects with the verdict itself (issue 25: it used to be a bare CLOSED).
      await expect(opening).rejects.toBe(errors[0]);
      // No retry, even well past maxDelay (50 ms).
      await expect(
        waitFor(server.wss, 'connection', { timeoutMs: 300, label: 'chat server' }),
      ).rejects.toThrow('Timed out after 300 ms waiting for "connection" on chat server');
      expect(connections).toBe(1);
      expect(sockets).toHaveLength(1);
      // No protocol frame (no hello) on a connection that did not select tether.v1.
      expect(sockets[0]?.sent).toEqual([]);
      expect(server.received).toEqual([]);
    });

    it('fails by dropping the connection without writing a frame (docs §2: a browser cannot send 1002)', async () => {
      const server = await startChatServer();
      const connection = waitFor<WsWebSocket>(server.wss, 'connection', {
        timeoutMs: WAIT,
        label: 'chat server',
      });
      const { client } = exactlyOnceClient(server.url, { protocols: ['chat'] });
      client.open();
      const socket = await connection;
      const frames: unknown[] = [];
      socket.on('message', (data) => frames.push(data));
      const [code] = await waitForArgs(socket, 'close', { timeoutMs: WAIT, label: 'server socket' });

      expect(code).toBe(1006);
      expect(frames).toEqual([]);
    });

    it('with fallback "best-effort" opens and exchanges unframed messages', async () => {
      const server = await startChatServer();
      const { client, sockets, messages } = exactlyOnceClient(
        server.url,
        {
          protocols: ['chat'],
          heartbeat: false,
        },
        { fallback: 'best-effort' },
      );
      const open = waitFor<{ protocol: string }>(client, 'open', { timeoutMs: WAIT, label: 'client' });
      client.open();
      expect(await open).toMatchObject({ protocol: 'chat' });

      expect(client.send('hello')).toBe(true);
      await waitUntil(() => messages.length === 1, { timeoutMs: WAIT, message: 'the echo' });

      expect(messages).toEqual(['hello']);
      expect(server.received).toEqual([{ data: 'hello', isBinary: false }]);
      expect(lastSocket({ sockets }).sent).toEqual(['hello']);
    });
  });

  describe('handshake', () => {
    it('offers tether.v1 first, puts the sid in tether_sid and sends the hello of docs §3', async () => {
      const server = await startRawServer();
      const { client, sockets } = exactlyOnceClient(server.url, { protocols: ['chat', 'v2.chat'] });
      client.open();
      const connection = await server.connection(0);
      const hello = await connection.hello();

      expect(connection.request.headers['sec-websocket-protocol']?.split(/, */)).toEqual([
        'tether.v1',
        'chat',
        'v2.chat',
      ]);
      expect(lastSocket({ sockets }).protocols).toEqual(['tether.v1', 'chat', 'v2.chat']);
      expect(connection.querySid).toMatch(SID);
      expect(hello).toEqual({
        type: 'hello',
        v: 1,
        sid: connection.querySid,
        recv: 0,
        keys: ['v', 'sid', 'recv', 'key'],
      });
      // `open` waits for the welcome.
      expect(client.state).toBe('connecting');

      const open = waitFor<{ protocol: string }>(client, 'open', { timeoutMs: WAIT, label: 'client' });
      connection.welcome(String(hello.sid), 0, false);
      expect(await open).toMatchObject({ protocol: 'tether.v1' });
      expect(client.state).toBe('open');
    });

    it('keeps the query parameters of the URL and adds tether_sid', async () => {
      const server = await startRawServer();
      const { client } = exactlyOnceClient(`${server.url}room?name=a%20b`);
      client.open();
      const connection = await server.connection(0);
      await connection.hello();

      const url = new URL(connection.request.url ?? '', 'http://localhost');
      expect(url.pathname).toBe('/room');
      expect(url.searchParams.get('name')).toBe('a b');
      expect(url.searchParams.get('tether_sid')).toMatch(SID);
    });
  });

  describe('send()', () => {
    it('frames messages queued before open with seqs 1..n, in order, after the welcome', async () => {
      const server = await startRawServer();
      const { client } = exactlyOnceClient(server.url);
      expect([client.send('one'), client.send('two'), client.send('three')]).toEqual([false, false, false]);
      client.open();
      const connection = await server.connection(0);
      const hello = await connection.hello();
      connection.welcome(String(hello.sid), 0, false);
      await connection.until((frame) => frame.type === 'message' && frame.seq === 3, 'm3');

      expect(connection.frames.slice(1)).toEqual([
        { type: 'message', seq: 1, data: 'one' },
        { type: 'message', seq: 2, data: 'two' },
        { type: 'message', seq: 3, data: 'three' },
      ]);
    });

    it('returns true when it writes on an open connection, false while the handshake is not done', async () => {
      const server = await startRawServer();
      const { client, sockets } = exactlyOnceClient(server.url, { heartbeat: false });
      client.open();
      const connection = await server.connection(0);
      const hello = await connection.hello();
      // The socket is open, the welcome is not there yet: queued, not written.
      expect(client.send('early')).toBe(false);
      expect(lastSocket({ sockets }).sent).toHaveLength(1); // the hello alone
      const open = opened(client);
      connection.welcome(String(hello.sid), 0, false);
      await open;

      expect(client.send('now')).toBe(true);
      expect(lastSocket({ sockets }).sent.slice(1)).toEqual(['m1:early', 'm2:now']);
      await connection.until((frame) => frame.type === 'message' && frame.seq === 2, 'm2');
      expect(connection.messages()).toEqual([
        { seq: 1, data: 'early' },
        { seq: 2, data: 'now' },
      ]);
    });
  });

  describe('acknowledgements', () => {
    it('an ack releases the messages it covers: a lost session reports only those after it', async () => {
      const server = await startRawServer();
      const { client, sockets, lost } = exactlyOnceClient(server.url);
      client.open();
      const { first, sid } = await welcomeFirst(server, client);
      for (const text of ['c1', 'c2', 'c3', 'c4', 'c5']) client.send(text);
      await first.until((frame) => frame.type === 'message' && frame.seq === 5, 'm5');
      first.send('a3');
      await waitUntil(() => lastSocket({ sockets }).received.includes('a3'), {
        timeoutMs: WAIT,
        message: 'the client to receive a3',
      });
      first.socket.close(4000, 'gone'); // retried by the default shouldReconnect

      const second = await server.connection(1);
      expect(await second.hello()).toMatchObject({ sid, recv: 0 });
      const sessionLost = waitFor(client, 'session-lost', { timeoutMs: WAIT, label: 'client' });
      second.welcome(sid, 0, false);

      expect(await sessionLost).toEqual({ reason: 'not-resumed', undelivered: ['c4', 'c5'] });
      expect(lost).toHaveLength(1);
    });

    it('on resume, resends with their seqs only the messages after the welcome recv, then new ones', async () => {
      const server = await startRawServer();
      const { client, lost } = exactlyOnceClient(server.url);
      client.open();
      const { first, sid } = await welcomeFirst(server, client);
      for (const text of ['c1', 'c2', 'c3', 'c4']) client.send(text);
      await first.until((frame) => frame.type === 'message' && frame.seq === 4, 'm4');
      first.send('a2');
      first.socket.close(4000, 'gone');
      await waitFor(client, 'reconnecting', { timeoutMs: WAIT, label: 'client' });
      client.send('c5');

      const second = await server.connection(1);
      expect(await second.hello()).toMatchObject({ sid, recv: 0 });
      second.welcome(sid, 3, true);
      await second.until((frame) => frame.type === 'message' && frame.seq === 5, 'm5');

      expect(second.messages()).toEqual([
        { seq: 4, data: 'c4' },
        { seq: 5, data: 'c5' },
      ]);
      expect(lost).toEqual([]);
    });

    it('acknowledges what it received and reports it in the next hello', async () => {
      const server = await startRawServer();
      const { client, messages, lost } = exactlyOnceClient(server.url);
      client.open();
      const first = await server.connection(0);
      const sid = String((await first.hello()).sid);
      first.welcome(sid, 0, false);
      first.send('m1:a');
      first.send('m2:b');
      // Cumulative ack within the 20 ms batching delay.
      await first.until((frame) => frame.type === 'ack' && frame.seq === 2, 'a2');
      first.socket.terminate();

      const second = await server.connection(1);
      expect(await second.hello()).toMatchObject({ sid, recv: 2 });
      second.welcome(sid, 0, true);
      // What the hello's recv covered is not resent (a server that did would have lost the
      // session: exactly-once-checks.test.ts); the next message follows.
      second.send('m3:c');
      await second.until((frame) => frame.type === 'ack' && frame.seq === 3, 'a3');

      expect(messages).toEqual(['a', 'b', 'c']);
      expect(lost).toEqual([]);
    });

    it('acknowledges a full batch of 32 at once, without waiting for the 20 ms delay', async () => {
      const server = await startRawServer();
      const { client, sockets } = exactlyOnceClient(server.url);
      client.open();
      const { first } = await welcomeFirst(server, client);
      // The acks written by the time each delivery's microtasks ran: the batch ack is queued as a
      // microtask before the message is delivered, so it is written before this check runs.
      const acksAfter: string[][] = [];
      client.on('message', () =>
        queueMicrotask(() =>
          acksAfter.push(
            lastSocket({ sockets }).sent.filter((frame): frame is string => /^a\d+$/.test(String(frame))),
          ),
        ),
      );
      for (let seq = 1; seq <= 32; seq++) first.send(`m${seq}:${seq}`);
      await first.until((frame) => frame.type === 'ack' && frame.seq === 32, 'a32');

      expect(acksAfter).toHaveLength(32);
      expect(acksAfter[30]).toEqual([]); // 31 delivered: the 20 ms delay still runs
      expect(acksAfter[31]).toEqual(['a32']);
    });
  });

  describe('sessions that end', () => {
    it('a restarted server (resumed: false) makes it report the unacknowledged messages, say bye and start a new session under a new sid, where unwritten ones begin at seq 1', async () => {
      // The first server acknowledges every 2 messages and never on a timer: c3 stays unacknowledged.
      const before = await startAdapter({ ackBatch: 2, ackDelay: 60_000 });
      const { client, sockets, order, lost } = exactlyOnceClient(before.url);
      client.open();
      await opened(client);
      const sid = before.sessions[0]?.id;
      for (const text of ['c1', 'c2', 'c3']) client.send(text);
      await waitUntil(() => before.received.length === 3 && lastSocket({ sockets }).received.includes('a2'), {
        timeoutMs: WAIT,
        message: 'c1..c3 received and a2 back',
      });
      await before.crash();
      await waitFor(client, 'reconnecting', { timeoutMs: WAIT, label: 'client' });
      expect([client.send('c4'), client.send('c5')]).toEqual([false, false]);
      order.length = 0;

      const after = await startAdapter({ port: before.port });
      await waitUntil(() => after.received.length === 2, {
        timeoutMs: WAIT,
        message: 'c4, c5 at the new server',
      });

      expect(lost).toEqual([{ reason: 'not-resumed', undelivered: ['c3'] }]);
      // Reported before the client opens, and opened once, after it.
      const reported = order.indexOf('session-lost not-resumed');
      expect(reported).toBeGreaterThanOrEqual(0);
      expect(order.slice(reported).filter((event) => event === 'open')).toEqual(['open']);
      expect(order.slice(0, reported)).not.toContain('open');
      // The old id is never reused: the server saw it once (ended by bye), then a new one.
      const newSid = after.sessions[1]?.id;
      expect(after.sessions.map((session) => session.id)).toEqual([sid, newSid]);
      expect(newSid).toMatch(SID);
      expect(newSid).not.toBe(sid);
      expect(sockets[sockets.length - 2]?.sent.at(-1)).toBe('x');
      expect(after.received).toEqual([
        [newSid, 'c4'],
        [newSid, 'c5'],
      ]);
      expect(
        lastSocket({ sockets }).sent.filter((frame) => typeof frame === 'string' && frame.startsWith('m')),
      ).toEqual(['m1:c4', 'm2:c5']);
    });

    it('a disconnect longer than resumeWindow reports "expired" and the next connection uses a new sid', async () => {
      const before = await startAdapter({ ackBatch: 100, ackDelay: 60_000 });
      const { client, lost } = exactlyOnceClient(before.url, {}, { resumeWindow: 200 });
      client.open();
      await opened(client);
      const sid = before.sessions[0]?.id;
      client.send('c1');
      await waitUntil(() => before.received.length === 1, { timeoutMs: WAIT, message: 'c1 at the server' });
      await before.crash();
      const expired = await waitFor(client, 'session-lost', { timeoutMs: WAIT, label: 'client' });
      expect(expired).toEqual({ reason: 'expired', undelivered: ['c1'] });

      const after = await startAdapter({ port: before.port });
      client.send('c2');
      await waitUntil(() => after.received.length === 1, {
        timeoutMs: WAIT,
        message: 'c2 at the new server',
      });

      const newSid = after.sessions[0]?.id;
      expect(newSid).toMatch(SID);
      expect(newSid).not.toBe(sid);
      expect(after.received).toEqual([[newSid, 'c2']]);
      expect(lost).toHaveLength(1);
    });

    it('a server bye reports the unacknowledged messages as "closed" and the next session has a new sid', async () => {
      const server = await startAdapter({ ackBatch: 100, ackDelay: 60_000 });
      // The application ends the session on its first message: c2 arrives after the end.
      server.tether.on('session', (session) => session.on('message', () => session.close()));
      const { client, lost } = exactlyOnceClient(server.url);
      client.open();
      await opened(client);
      const sid = server.sessions[0]?.id;
      const sessionLost = waitFor(client, 'session-lost', { timeoutMs: WAIT, label: 'client' });
      client.send('c1');
      client.send('c2');

      expect(await sessionLost).toEqual({ reason: 'closed', undelivered: ['c2'] });
      await waitUntil(() => server.sessions.length === 2, { timeoutMs: WAIT, message: 'a second session' });
      expect(server.sessions[1]?.id).toMatch(SID);
      expect(server.sessions[1]?.id).not.toBe(sid);
      expect(lost).toHaveLength(1);
    });
  });

  describe('close()', () => {
    it('sends bye: the server ends the session at once with reason "closed"', async () => {
      const server = await startAdapter();
      const { client, sockets } = exactlyOnceClient(server.url);
      client.open();
      await opened(client);
      const session = server.sessions[0] as TetherSession;
      const ended = waitFor(session, 'lost', { timeoutMs: WAIT, label: 'server session' });
      await client.close();

      expect(await ended).toEqual({ reason: 'closed', undelivered: [] });
      expect(lastSocket({ sockets }).sent.at(-1)).toBe('x');
    });

    it('reports nothing the server received, though it had not acknowledged it yet: bye gets it acknowledged', async () => {
      // The server would not acknowledge on its own for a minute (docs/protocol.md, "Ending a session").
      const server = await startAdapter({ ackBatch: 100, ackDelay: 60_000 });
      const { client, lost } = exactlyOnceClient(server.url);
      client.open();
      await opened(client);
      client.send('c1');
      client.send('c2');
      await waitUntil(() => server.received.length === 2, {
        timeoutMs: WAIT,
        message: 'c1, c2 at the server',
      });
      await client.close();

      expect(lost).toEqual([]);
    });

    it('reports nothing when everything was acknowledged', async () => {
      const server = await startAdapter();
      const { client, sockets, lost } = exactlyOnceClient(server.url);
      client.open();
      await opened(client);
      client.send('c1');
      await waitUntil(() => lastSocket({ sockets }).received.includes('a1'), {
        timeoutMs: WAIT,
        message: 'a1',
      });
      await client.close();

      expect(lastSocket({ sockets }).sent.at(-1)).toBe('x');
      expect(lost).toEqual([]);
    });

    it('the next open() starts a new session with a new sid', async () => {
      const server = await startAdapter();
      const { client, sockets } = exactlyOnceClient(server.url);
      client.open();
      await opened(client);
      client.send('c1');
      await waitUntil(() => server.received.length === 1, { timeoutMs: WAIT, message: 'c1 at the server' });
      await client.close();
      client.open();
      await opened(client);
      client.send('c2');
      await waitUntil(() => server.received.length === 2, { timeoutMs: WAIT, message: 'c2 at the server' });

      const [first, second] = server.sessions.map((session) => session.id);
      expect(second).toMatch(SID);
      expect(second).not.toBe(first);
      expect(server.received).toEqual([
        [first, 'c1'],
        [second, 'c2'],
      ]);
      expect(sockets.map((socket) => socket.url.searchParams.get('tether_sid'))).toEqual([first, second]);
    });

    it('the next open() starts a new session even when the closed one had sent and received nothing', async () => {
      const server = await startAdapter({ echo: true });
      const { client, sockets, messages } = exactlyOnceClient(server.url, {
        reconnect: { minDelay: 1000, maxDelay: 1000, jitter: 0 }, // close() comes during the wait
      });
      client.open();
      await opened(client);
      const first = server.sessions[0] as TetherSession;
      // The connection drops; while the client is away, its session gets a message for it.
      const detached = waitFor(first, 'detach', { timeoutMs: WAIT, label: 'server session' });
      const reconnecting = waitFor(client, 'reconnecting', { timeoutMs: WAIT, label: 'client' });
      server.dropConnections();
      await Promise.all([detached, reconnecting]);
      first.send('for the closed session');
      expect(client.state).toBe('reconnecting');
      await client.close(); // while reconnecting: no connection to send bye on
      client.open();
      await opened(client);
      client.send('c1');
      await waitUntil(() => messages.includes('c1'), { timeoutMs: WAIT, message: 'the echo of c1' });

      expect(messages).toEqual(['c1']);
      const [before, after] = sockets.map((socket) => socket.url.searchParams.get('tether_sid'));
      expect(after).not.toBe(before);
    });
  });

  describe('protocol errors from the server', () => {
    it.each([
      ['a garbage text frame', 'zzz', 'unexpected text frame "zzz"'],
      ['a gap (m5 when 2 is expected)', 'm5:x', 'unexpected message frame'],
    ])(
      '%s: PROTOCOL_ERROR, close 1006, then it resumes the same session and loses nothing',
      async (_name, frame, reason) => {
        const server = await startRawServer();
        const { client, messages, errors, closes, lost } = exactlyOnceClient(server.url);
        client.open();
        const first = await server.connection(0);
        const sid = String((await first.hello()).sid);
        first.welcome(sid, 0, false);
        first.send('m1:s1');
        await waitUntil(() => messages.length === 1, { timeoutMs: WAIT, message: 's1 at the client' });
        client.send('c1');
        await first.until((received) => received.type === 'message' && received.seq === 1, 'm1');
        const closed = waitFor(client, 'close', { timeoutMs: WAIT, label: 'client' });
        first.send(frame);
        await closed;

        expect(errors.map((error) => error.code)).toEqual(['PROTOCOL_ERROR']);
        expect(closes).toEqual([
          { code: 1006, reason: `Protocol error: ${reason}`, wasClean: false, willReconnect: true },
        ]);
        client.send('c2');

        const second = await server.connection(1);
        expect(second.querySid).toBe(sid);
        expect(await second.hello()).toMatchObject({ sid, recv: 1 });
        second.welcome(sid, 1, true);
        second.send('m2:s2');
        await second.until((received) => received.type === 'message' && received.seq === 2, 'm2');
        await waitUntil(() => messages.length === 2, { timeoutMs: WAIT, message: 's2 at the client' });

        expect(messages).toEqual(['s1', 's2']);
        expect(second.messages()).toEqual([{ seq: 2, data: 'c2' }]);
        expect(lost).toEqual([]);
      },
    );
  });

  describe('binary messages through the adapter echo', () => {
    it('with binaryType "arraybuffer": ArrayBuffer and Uint8Array come back as ArrayBuffer, text as text', async () => {
      const server = await startAdapter({ echo: true });
      const { client, messages } = exactlyOnceClient<MessageData>(server.url, { binaryType: 'arraybuffer' });
      client.open();
      await opened(client);
      const backing = new Uint8Array([9, 9, 4, 5, 6, 9]);
      client.send(new Uint8Array([1, 2, 3]).buffer);
      client.send(backing.subarray(2, 5)); // a view with an offset: only its own bytes
      client.send(new Uint8Array(0));
      client.send('text');
      await waitUntil(() => messages.length === 4, { timeoutMs: WAIT, message: '4 echoes' });

      expect(messages.slice(0, 3).map((data) => data instanceof ArrayBuffer)).toEqual([true, true, true]);
      expect(messages.slice(0, 3).map((data) => [...new Uint8Array(data as ArrayBuffer)])).toEqual([
        [1, 2, 3],
        [4, 5, 6],
        [],
      ]);
      expect(messages[3]).toBe('text');
      expect(server.received.map(([, data]) => (typeof data === 'string' ? data : [...data]))).toEqual([
        [1, 2, 3],
        [4, 5, 6],
        [],
        'text',
      ]);
    });

    it('with the default binaryType "blob": binary comes back as a Blob with the same bytes', async () => {
      const server = await startAdapter({ echo: true });
      const { client, messages } = exactlyOnceClient<MessageData>(server.url);
      client.open();
      await opened(client);
      client.send(new Uint8Array([7, 8, 9, 255]));
      client.send('text');
      await waitUntil(() => messages.length === 2, { timeoutMs: WAIT, message: '2 echoes' });

      const [binary, text] = messages;
      expect(binary).toBeInstanceOf(Blob);
      expect([...new Uint8Array(await (binary as Blob).arrayBuffer())]).toEqual([7, 8, 9, 255]);
      expect(text).toBe('text');
    });
  });

  describe('heartbeat', () => {
    /** Opens a client on the raw server under fake setTimeout/Date; real sockets still run. */
    async function openWithFakeTimers(options: ClientOptions<MessageData, SendData>) {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const server = await startRawServer();
      const recorded = exactlyOnceClient(server.url, options);
      recorded.client.open();
      const { first: connection } = await welcomeFirst(server, recorded.client);
      return { ...recorded, connection };
    }

    it('is on by default: a __ping__ after 25 s with nothing received', async () => {
      const { sockets, connection } = await openWithFakeTimers({});
      const pings = () => lastSocket({ sockets }).sent.filter((frame) => frame === '__ping__').length;

      await vi.advanceTimersByTimeAsync(24_999);
      expect(pings()).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(pings()).toBe(1);
      await connection.until((frame) => frame.type === 'ping', '__ping__');
    });

    it('heartbeat: false turns it off', async () => {
      const { sockets } = await openWithFakeTimers({ heartbeat: false });
      await vi.advanceTimersByTimeAsync(60_000);

      expect(lastSocket({ sockets }).sent.filter((frame) => frame === '__ping__')).toEqual([]);
    });
  });
});
