/**
 * The compatibility suite of tether-ws/websocket against reconnecting-websocket 4.4 and
 * partysocket 1.3: one test per peer behaviour that docs/websocket.md adopts or lists under
 * "What differs", each named after the behaviour and the option names of both peers. It runs
 * twice, on `ws` sockets (the global `WebSocket` for the suite) against real `ws` servers on
 * 127.0.0.1: in Node (test/integration/websocket-compat.test.ts) and in jsdom, where the class is
 * jsdom's EventTarget with jsdom's event classes (test/unit/websocket-compat.test.ts). What each peer does is read from its code
 * (node_modules/reconnecting-websocket/dist, node_modules/partysocket/dist), cited in each test.
 */
import { createServer, type Server } from 'node:net';
import PartySocket from 'partysocket';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { TetherTypeError } from '../../client/index.js';
import { TetherWebSocket, type WebSocketErrorEvent } from '../../client/websocket/index.js';
import { waitFor } from './next-event.js';

const timeoutMs = 5000;

type Native = new (
  url: string,
  protocols?: string | string[],
) => {
  url: string;
  close(): void;
  onerror: unknown;
};

export interface CompatEnvironment {
  /** 'node' (ws) or 'jsdom'. */
  name: string;
  /** The `WebSocket` made the global for every test (`ws`). */
  Native: Native;
}

/** An echo server (binary stays binary) on a free port. */
async function echoServer(): Promise<{ url: string; server: WebSocketServer }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await waitFor(server, 'listening', { timeoutMs, label: 'echo server' });
  server.on('connection', (socket) =>
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
  );
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, server };
}

/** A TCP server that accepts and never answers: an attempt to it can only time out. */
async function silentServer(): Promise<{ url: string; server: Server }> {
  const server = createServer(() => {});
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening', { timeoutMs, label: 'silent server' });
  const { port } = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, server };
}

/** A URL on which nothing listens (the port was free a moment ago): every attempt is refused. */
async function refusedUrl(): Promise<string> {
  const { url, server } = await silentServer();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

export function compatSuite(env: CompatEnvironment): void {
  const made: TetherWebSocket[] = [];
  const closers: Array<() => void> = [];

  /** A socket the suite closes after the test; reconnecting fast unless the test says otherwise. */
  function socketOf(...args: ConstructorParameters<typeof TetherWebSocket>): TetherWebSocket {
    const socket = new TetherWebSocket(...args);
    made.push(socket);
    return socket;
  }

  beforeEach(() => {
    vi.stubGlobal('WebSocket', env.Native);
  });

  afterEach(async () => {
    for (const socket of made.splice(0)) socket.close();
    for (const close of closers.splice(0)) close();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  describe(`tether-ws/websocket beside reconnecting-websocket and partysocket (${env.name})`, () => {
    it('maxReconnectionDelay alone (both peers: maxReconnectionDelay; tether-ws: reconnect.maxDelay): accepted, it and caps every delay, the first included', async () => {
      // Peers: delay = min(maxReconnectionDelay, minReconnectionDelay × grow^(n−1)), with no check
      // of one against the other (_getNextDelay in both).
      const socket = socketOf(await refusedUrl(), [], {
        maxReconnectionDelay: 200,
        maxRetries: 3,
        reconnect: { jitter: 0 },
      });
      const delays: number[] = [];
      socket.client.on('reconnecting', ({ delay }) => delays.push(delay));
      await waitFor(socket.client, 'state', { timeoutMs, filter: (s: { to: string }) => s.to === 'closed' });
      expect(delays).toEqual([200, 200, 200]);
    });

    it('global WebSocket at each attempt (both peers’ option: WebSocket; tether-ws: WebSocket): without the option, the global is read at each attempt, not once', async () => {
      // Peers: `this._options.WebSocket || WebSocket` (partysocket) and getGlobalWebSocket()
      // (reconnecting-websocket) inside _connect, i.e. per attempt.
      const used: string[] = [];
      const tagged = (tag: string) =>
        class extends env.Native {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols);
            used.push(tag);
          }
        };
      vi.stubGlobal('WebSocket', tagged('first'));
      const socket = socketOf(await refusedUrl(), [], { minReconnectionDelay: 10, maxRetries: 1 });
      await waitFor(socket, 'close', { timeoutMs });
      vi.stubGlobal('WebSocket', tagged('second'));
      await waitFor(socket.client, 'state', { timeoutMs, filter: (s: { to: string }) => s.to === 'closed' });
      expect(used).toEqual(['first', 'second']);
    });

    it('this class as the global WebSocket (both peers’ option: WebSocket; tether-ws: WebSocket): made the global itself, it builds on the platform’s, not on itself (the peers would)', async () => {
      // A page replaces the global so that code written for the standard gets reconnecting. The
      // class then finds itself as the global at each attempt, and uses the WebSocket that was
      // global when it was loaded. (reconnecting-websocket and partysocket would construct
      // themselves inside themselves, one more socket per attempt.)
      const { url, server } = await echoServer();
      closers.push(() => server.close());
      vi.resetModules();
      const { TetherWebSocket: Loaded } = await import('../../client/websocket/index.js');
      vi.stubGlobal('WebSocket', class Global extends Loaded {});
      const socket = new (globalThis.WebSocket as unknown as typeof TetherWebSocket)(url);
      made.push(socket);
      await waitFor(socket, 'open', { timeoutMs });
      socket.send('through the platform’s socket');
      expect((await waitFor<MessageEvent>(socket, 'message', { timeoutMs })).data).toBe(
        'through the platform’s socket',
      );
      expect(server.clients.size).toBe(1);
    });

    it('maxRetries, last events (both peers: maxRetries; tether-ws: reconnect.maxRetries): the last attempt’s own error and close end it, with no extra error event', async () => {
      // Peers: _connect returns silently once retryCount >= maxRetries: 1 + maxRetries attempts,
      // one error per attempt.
      const socket = socketOf(await refusedUrl(), [], { minReconnectionDelay: 10, maxRetries: 2 });
      const events: string[] = [];
      socket.addEventListener('error', () => events.push('error'));
      socket.addEventListener('close', () => events.push('close'));
      const exhausted = waitFor<{ code: string }>(socket.client, 'error', {
        timeoutMs,
        filter: (error: { code: string }) => error.code === 'RETRIES_EXHAUSTED',
      });
      await exhausted;
      expect(events).toEqual(['error', 'close', 'error', 'close', 'error', 'close']);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });

    it('connect timeout message (both peers: connectionTimeout; tether-ws: connectTimeout): the error event’s message is "TIMEOUT"', async () => {
      // Peers: _handleTimeout dispatches an ErrorEvent of Error('TIMEOUT'), and code tests
      // `event.message === 'TIMEOUT'`. The TetherError rides along, with its code.
      const { url, server } = await silentServer();
      closers.push(() => server.close());
      const socket = socketOf(url, [], { connectionTimeout: 100, maxRetries: 0 });
      const event = await waitFor<WebSocketErrorEvent>(socket, 'error', { timeoutMs });
      expect(event.message).toBe('TIMEOUT');
      expect(event.error?.code).toBe('CONNECT_TIMEOUT');
      expect(event.error?.message).toBe(`No connection after 100 ms: ${url}/`);
    });

    it('binaryType nodebuffer, fragments (both peers: binaryType, passed to the socket underneath; tether-ws: binaryType): delivers Buffers where there is a Buffer', async () => {
      const { url, server } = await echoServer();
      closers.push(() => server.close());
      const socket = socketOf(url);
      await waitFor(socket, 'open', { timeoutMs });
      const received: unknown[] = [];
      socket.addEventListener('message', (event) => received.push(event.data));
      for (const type of ['nodebuffer', 'fragments', 'arraybuffer', 'blob'] as const) {
        socket.binaryType = type as BinaryType;
        expect(socket.binaryType).toBe(type);
        socket.send(new Uint8Array([1, 2, 3]));
        await waitFor(socket, 'message', { timeoutMs });
      }
      const [buffer, fragments, arrayBuffer, blob] = received as [Buffer, Buffer[], ArrayBuffer, Blob];
      expect(Buffer.isBuffer(buffer) && [...buffer]).toEqual([1, 2, 3]);
      expect(fragments.map((part) => Buffer.isBuffer(part) && [...part])).toEqual([[1, 2, 3]]);
      // Of ws's realm, not jsdom's: tested by tag, not instanceof.
      expect(Object.prototype.toString.call(arrayBuffer)).toBe('[object ArrayBuffer]');
      expect(blob).toBeInstanceOf(Blob);
    });

    it('url (both peers: url, "" until their first socket, then that socket’s; tether-ws: url): the URL from construction, normalized as this environment’s own WebSocket reports it', async () => {
      const { url, server } = await echoServer();
      closers.push(() => server.close());
      const native = new env.Native(url);
      native.onerror = () => {};
      native.close();
      const socket = socketOf(url);
      // A WebSocket has its url from construction (a deliberate difference from the peers' '').
      expect(socket.url).toBe(native.url);
      expect(socket.url).toBe(`${url}/`);
      await waitFor(socket, 'open', { timeoutMs });
      expect(socket.url).toBe(native.url);
      // A URL function (both peers' UrlProvider) has no URL until it is called: '' as the peers.
      const later = socketOf(() => url);
      expect(later.url).toBe('');
      await waitFor(later, 'open', { timeoutMs });
      expect(later.url).toBe(native.url);
    });

    it('empty #fragment, repeated subprotocol (both peers: url, protocols, accepted, then every attempt fails; tether-ws: url, protocols): refused at construction, as the standard constructor refuses them (SyntaxError)', async () => {
      const url = await refusedUrl();
      expect(() => socketOf(`${url}/#`)).toThrow(
        new TetherTypeError('argument', 'url', `${url}/#`, 'a URL without a #fragment'),
      );
      expect(() => socketOf(url, ['chat', 'chat'])).toThrow(
        new TetherTypeError('option', 'protocols', ['chat', 'chat'], 'distinct subprotocol tokens'),
      );
      // This environment's own socket refuses the repeated subprotocol too.
      expect(() => new env.Native(url, ['chat', 'chat'])).toThrow(SyntaxError);
    });

    it('debug, debugLogger (reconnecting-websocket: debug; partysocket: debug, debugLogger; tether-ws: none): accepted, and nothing is logged', async () => {
      const { url, server } = await echoServer();
      closers.push(() => server.close());
      const logger = vi.fn();
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const socket = socketOf(url, [], { debug: true, debugLogger: logger });
      await waitFor(socket, 'open', { timeoutMs });
      expect(logger).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    });

    it('protocols as a function (partysocket: protocols, its ProtocolsProvider; reconnecting-websocket: none; tether-ws: none): refused with a typed error', () => {
      expect(() => socketOf('ws://127.0.0.1:1', (() => ['chat']) as unknown as string[])).toThrow(
        TetherTypeError,
      );
    });

    it('PartySocket (partysocket: host, room, party, query, id; reconnecting-websocket: none; tether-ws: a URL function): host, room, party and query are a URL function away: the documented one connects where PartySocket does', async () => {
      const { url: base, server } = await echoServer();
      closers.push(() => server.close());
      const host = base.replace('ws://', '');
      const options = { host, room: 'lobby', party: 'chat', id: 'me', query: { token: 'abc' } };
      // PartySocket with a WebSocket that records the URL it is given and fails at once.
      const urls: string[] = [];
      const party = new PartySocket({
        ...options,
        maxRetries: 0,
        WebSocket: class extends env.Native {
          constructor(url: string, protocols?: string | string[]) {
            urls.push(url);
            super(url, protocols);
          }
        },
      });
      closers.push(() => party.close());
      await waitFor(party, 'open', { timeoutMs });
      // docs/websocket.md's recipe (ws: for local hosts, as PartySocket picks).
      const socket = socketOf(() => {
        const query = new URLSearchParams({ _pk: options.id, ...options.query });
        return `ws://${options.host}/parties/${options.party}/${options.room}?${query}`;
      });
      await waitFor(socket, 'open', { timeoutMs });
      expect(socket.url).toBe(urls[0]);
    });
  });
}
