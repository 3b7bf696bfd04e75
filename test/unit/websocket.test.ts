/**
 * The drop-in `WebSocket` (tether-ws/websocket) in jsdom, over hand-driven sockets (FakeSocket):
 * the WHATWG interface, and the choices docs/websocket.md documents where reconnecting differs.
 * The same interface against a real server and the real EventTarget: test/e2e/websocket-browser.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TetherError, TetherRangeError, TetherTypeError } from '../../client/index.js';
import type { TetherWebSocketOptions } from '../../client/websocket/index.js';
import ReconnectingWebSocket, { TetherWebSocket, WebSocket } from '../../client/websocket/index.js';
import { type FakeSocket, fakeWebSocket } from '../helpers/fake-socket.js';

const URL_ = 'ws://tether.test/live';

let sockets: FakeSocket[];
let made: TetherWebSocket[];

/** A socket over fake sockets, with pinned jitter (none) and a 100 ms first retry. */
function open(options: TetherWebSocketOptions = {}, protocols?: string | string[]): TetherWebSocket {
  const fake = fakeWebSocket();
  sockets = fake.sockets;
  const socket = new TetherWebSocket(URL_, protocols, {
    WebSocket: fake.WebSocket,
    reconnect: { minDelay: 100, jitter: 0 },
    ...options,
  });
  made.push(socket);
  return socket;
}

/** Records every event dispatched on `socket` as `type` or `type:detail`. */
function record(socket: TetherWebSocket): string[] {
  const log: string[] = [];
  socket.addEventListener('open', () => log.push('open'));
  socket.addEventListener('message', (event) => log.push(`message:${event.data}`));
  socket.addEventListener('close', (event) => log.push(`close:${event.code}:${event.wasClean}`));
  socket.addEventListener('error', () => log.push('error'));
  socket.addEventListener('drop', (event) => log.push(`drop:${event.data}:${event.reason}`));
  return log;
}

const tick = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  made = [];
});

afterEach(() => {
  for (const socket of made) socket.close();
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('TetherWebSocket', () => {
  describe('the interface', () => {
    it('is exported as the default, as WebSocket and as TetherWebSocket', () => {
      expect(ReconnectingWebSocket).toBe(TetherWebSocket);
      expect(WebSocket).toBe(TetherWebSocket);
    });

    it('has CONNECTING, OPEN, CLOSING and CLOSED on the class and the instance, read-only', () => {
      const socket = open();
      expect([
        TetherWebSocket.CONNECTING,
        TetherWebSocket.OPEN,
        TetherWebSocket.CLOSING,
        TetherWebSocket.CLOSED,
      ]).toEqual([0, 1, 2, 3]);
      expect([socket.CONNECTING, socket.OPEN, socket.CLOSING, socket.CLOSED]).toEqual([0, 1, 2, 3]);
      expect(() => {
        (socket as { OPEN: number }).OPEN = 5;
      }).toThrow(TypeError);
      expect(Object.hasOwn(socket, 'OPEN')).toBe(false);
    });

    it('is an EventTarget, and its url is the resolved URL', () => {
      const socket = open();
      expect(socket).toBeInstanceOf(EventTarget);
      expect(socket.url).toBe(URL_);
    });

    it('is CONNECTING right after construction and makes its socket on the next microtask', async () => {
      const socket = open({}, ['chat.v1']);
      expect(socket.readyState).toBe(TetherWebSocket.CONNECTING);
      expect(sockets).toHaveLength(0);
      await tick();
      expect(sockets).toHaveLength(1);
      expect(sockets[0]?.protocols).toEqual(['chat.v1']);
      expect(socket.readyState).toBe(TetherWebSocket.CONNECTING);
    });

    it('dispatches open, then MessageEvent with data, then CloseEvent with code, reason and wasClean', async () => {
      const socket = open();
      const events: Event[] = [];
      for (const type of ['open', 'message', 'close']) socket.addEventListener(type, (e) => events.push(e));
      await tick();
      sockets[0]?.serverOpen();
      expect(socket.readyState).toBe(TetherWebSocket.OPEN);
      sockets[0]?.serverMessage('hi');
      sockets[0]?.serverClose(4001, 'kicked', true);
      expect(events.map((e) => e.type)).toEqual(['open', 'message', 'close']);
      const [opened, message, closed] = events as [Event, MessageEvent, CloseEvent];
      expect(opened.target).toBe(socket);
      expect(message).toBeInstanceOf(MessageEvent);
      expect(message.data).toBe('hi');
      expect(closed).toBeInstanceOf(CloseEvent);
      expect([closed.code, closed.reason, closed.wasClean]).toEqual([4001, 'kicked', true]);
    });

    it('calls onopen / onmessage / onclose / onerror with the event and `this` set to the socket', async () => {
      const socket = open({ reconnect: false });
      const calls: string[] = [];
      socket.onopen = function (event) {
        calls.push(`open:${this === socket}:${event.type}`);
      };
      socket.onmessage = (event) => calls.push(`message:${event.data}`);
      socket.onerror = (event) => calls.push(`error:${event.type}`);
      socket.onclose = (event) => calls.push(`close:${event.code}`);
      expect(typeof socket.onopen).toBe('function');
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverMessage('x');
      sockets[0]?.serverClose(1011, 'oops', true);
      expect(calls).toEqual(['open:true:open', 'message:x', 'close:1011']);
    });

    it('replaces a handler when set again, and removes it when set to null', async () => {
      const socket = open();
      const calls: string[] = [];
      socket.onmessage = () => calls.push('first');
      socket.onmessage = () => calls.push('second');
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverMessage('a');
      socket.onmessage = null;
      sockets[0]?.serverMessage('b');
      expect(calls).toEqual(['second']);
      expect(socket.onmessage).toBeNull();
    });

    it('calls handleEvent on listener objects, and removeEventListener removes them', async () => {
      const socket = open();
      const seen: unknown[] = [];
      const listener = {
        handleEvent(event: MessageEvent) {
          seen.push([this === listener, event.data]);
        },
      };
      socket.addEventListener('message', listener);
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverMessage('one');
      socket.removeEventListener('message', listener);
      sockets[0]?.serverMessage('two');
      expect(seen).toEqual([[true, 'one']]);
    });

    it('dispatchEvent() reaches listeners and handlers like any EventTarget', () => {
      const socket = open();
      const seen: string[] = [];
      socket.onmessage = (event) => seen.push(`handler:${event.data}`);
      socket.addEventListener('message', (event) => seen.push(`listener:${event.data}`));
      socket.dispatchEvent(new MessageEvent('message', { data: 'local' }));
      expect(seen).toEqual(['handler:local', 'listener:local']);
    });

    it('reads protocol and extensions from the current connection, and keeps them after it closes', async () => {
      const socket = open({ reconnect: false }, ['chat.v1']);
      expect([socket.protocol, socket.extensions]).toEqual(['', '']);
      await tick();
      const fake = sockets[0] as FakeSocket;
      fake.protocol = 'chat.v1';
      fake.extensions = 'permessage-deflate';
      fake.serverOpen();
      expect([socket.protocol, socket.extensions]).toEqual(['chat.v1', 'permessage-deflate']);
      fake.serverClose(1000, '', true);
      expect([socket.protocol, socket.extensions]).toEqual(['chat.v1', 'permessage-deflate']);
    });

    it('counts queued bytes and the socket buffer in bufferedAmount', async () => {
      const socket = open();
      socket.send('12345');
      expect(socket.bufferedAmount).toBe(5);
      await tick();
      (sockets[0] as FakeSocket).bufferedAmount = 7;
      expect(socket.bufferedAmount).toBe(12);
    });
  });

  describe('binaryType', () => {
    it('is "blob" by default and applies a change at run time to the next message', async () => {
      const socket = open();
      const data: unknown[] = [];
      socket.onmessage = (event) => data.push(event.data);
      await tick();
      const fake = sockets[0] as FakeSocket;
      // The socket underneath always delivers ArrayBuffers; the class converts.
      expect(fake.binaryType).toBe('arraybuffer');
      fake.serverOpen();
      expect(socket.binaryType).toBe('blob');
      fake.serverMessage(new Uint8Array([1, 2, 3]).buffer);
      socket.binaryType = 'arraybuffer';
      fake.serverMessage(new Uint8Array([4]).buffer);
      socket.binaryType = 'blob';
      fake.serverMessage('text stays text');
      const [first, second, third] = data as [Blob, ArrayBuffer, string];
      expect(first).toBeInstanceOf(Blob);
      expect(new Uint8Array(await first.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
      expect(second).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(second)).toEqual(new Uint8Array([4]));
      expect(third).toBe('text stays text');
    });

    it('starts from the binaryType option, and applies to the connections after a reconnect', async () => {
      const socket = open({ binaryType: 'arraybuffer' });
      const data: unknown[] = [];
      socket.onmessage = (event) => data.push(event.data);
      expect(socket.binaryType).toBe('arraybuffer');
      await tick();
      sockets[0]?.serverOpen();
      socket.binaryType = 'blob';
      sockets[0]?.serverClose();
      await vi.advanceTimersByTimeAsync(100);
      sockets[1]?.serverOpen();
      sockets[1]?.serverMessage(new Uint8Array([9]).buffer);
      expect(data[0]).toBeInstanceOf(Blob);
    });

    it('rejects any other value with a typed error and keeps the current one', () => {
      const socket = open();
      expect(() => {
        socket.binaryType = 'text' as BinaryType;
      }).toThrow(
        new TetherRangeError(
          'argument',
          'binaryType',
          'text',
          'one of blob, arraybuffer, nodebuffer, fragments',
        ),
      );
      expect(() => {
        socket.binaryType = 'text' as BinaryType;
      }).toThrow(
        'Invalid argument "binaryType": got "text"; expected one of blob, arraybuffer, nodebuffer, fragments.',
      );
      expect(() => {
        socket.binaryType = 1 as unknown as BinaryType;
      }).toThrow(TetherTypeError);
      expect(socket.binaryType).toBe('blob');
    });

    it('without a Buffer (a browser) rejects "nodebuffer" and "fragments", naming the two it takes', () => {
      const socket = open();
      vi.stubGlobal('Buffer', undefined);
      for (const type of ['nodebuffer', 'fragments'])
        expect(() => {
          socket.binaryType = type as BinaryType;
        }).toThrow(new TetherRangeError('argument', 'binaryType', type, 'one of blob, arraybuffer'));
      expect(socket.binaryType).toBe('blob');
    });
  });

  describe('send()', () => {
    it('queues while CONNECTING and writes the queue, in order, before open is dispatched', async () => {
      const socket = open();
      expect(socket.send('a')).toBe(false);
      expect(socket.send('b')).toBe(false);
      let sentAtOpen: unknown[] = [];
      socket.onopen = () => {
        sentAtOpen = [...(sockets[0]?.sent ?? [])];
        socket.send('c');
      };
      await tick();
      sockets[0]?.serverOpen();
      expect(sentAtOpen).toEqual(['a', 'b']);
      expect(sockets[0]?.sent).toEqual(['a', 'b', 'c']);
    });

    it('writes at once when OPEN and returns true', async () => {
      const socket = open();
      await tick();
      sockets[0]?.serverOpen();
      expect(socket.send('now')).toBe(true);
      expect(sockets[0]?.sent).toEqual(['now']);
    });

    it('throws a typed error for data a WebSocket cannot send, and queues nothing', () => {
      const socket = open();
      expect(() => socket.send({ not: 'sendable' } as unknown as string)).toThrow(TetherTypeError);
      expect(socket.bufferedAmount).toBe(0);
    });
  });

  describe('across a reconnect', () => {
    it('dispatches close for the lost connection, is CLOSED during the wait, CONNECTING on the retry, then open', async () => {
      const socket = open();
      const log = record(socket);
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverClose(1006, '', false);
      expect(log).toEqual(['open', 'close:1006:false']);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
      expect(socket.retryCount).toBe(1);
      await vi.advanceTimersByTimeAsync(99);
      expect(sockets).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(sockets).toHaveLength(2);
      expect(socket.readyState).toBe(TetherWebSocket.CONNECTING);
      socket.send('after');
      sockets[1]?.serverOpen();
      expect(log).toEqual(['open', 'close:1006:false', 'open']);
      expect(socket.readyState).toBe(TetherWebSocket.OPEN);
      expect(sockets[1]?.sent).toEqual(['after']);
    });

    it('dispatches error, then close, for an attempt that fails, and keeps retrying', async () => {
      const socket = open({ connectionTimeout: 50 });
      const log = record(socket);
      const errors: unknown[] = [];
      socket.onerror = (event) => errors.push((event as Event & { error: unknown }).error);
      await tick();
      await vi.advanceTimersByTimeAsync(49);
      expect(log).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(log).toEqual(['error', 'close:1006:false']);
      expect(errors[0]).toBeInstanceOf(TetherError);
      expect((errors[0] as TetherError).code).toBe('CONNECT_TIMEOUT');
      await vi.advanceTimersByTimeAsync(100);
      expect(sockets).toHaveLength(2);
    });

    it('stops after the server closes with a code retrying cannot help (1008), as the client does', async () => {
      const socket = open();
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverClose(1008, 'policy', true);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(1);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });
  });

  describe('close()', () => {
    it('is CLOSING until the closing handshake ends, then dispatches close once and never reconnects', async () => {
      const socket = open();
      const log = record(socket);
      await tick();
      sockets[0]?.serverOpen();
      socket.close(4000, 'done');
      expect(socket.readyState).toBe(TetherWebSocket.CLOSING);
      expect(sockets[0]?.closeCalls).toEqual([{ code: 4000, reason: 'done' }]);
      await tick();
      expect(log).toEqual(['open', 'close:4000:true']);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(sockets[0]?.listenerCounts()).toEqual({ error: 1 }); // the no-op error absorber only
    });

    it('during the retry wait cancels the retry without a second close event', async () => {
      const socket = open();
      const log = record(socket);
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverClose();
      socket.close();
      expect(log).toEqual(['open', 'close:1006:false']);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('before the first attempt starts: CLOSED at once, no socket is ever made', async () => {
      const socket = open();
      socket.close();
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(0);
    });

    it('rejects codes a WebSocket rejects (other than 1000 and 3000-4999) with a typed error', () => {
      const socket = open();
      expect(() => socket.close(1001)).toThrow(TetherRangeError);
      expect(() => socket.close(1000, 'x'.repeat(124))).toThrow(TetherRangeError);
      expect(socket.readyState).toBe(TetherWebSocket.CONNECTING);
    });
  });

  describe('reconnect()', () => {
    it('closes the connection and opens a new one with a fresh retry count', async () => {
      const socket = open();
      const log = record(socket);
      await tick();
      sockets[0]?.serverOpen();
      socket.reconnect(4000, 'again');
      await tick();
      expect(sockets[0]?.closeCalls).toEqual([{ code: 4000, reason: 'again' }]);
      expect(sockets).toHaveLength(2);
      sockets[1]?.serverOpen();
      expect(log).toEqual(['open', 'close:4000:true', 'open']);
      expect(socket.retryCount).toBe(0);
    });

    it('during a retry wait keeps what is queued for the new connection (close() alone reports it)', async () => {
      const socket = open();
      const log = record(socket);
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverClose(1006);
      socket.send('waiting');
      socket.reconnect();
      await tick();
      sockets[1]?.serverOpen();
      expect(sockets[1]?.sent).toEqual(['waiting']);
      expect(log).toEqual(['open', 'close:1006:false', 'open']);

      sockets[1]?.serverClose(1006);
      socket.send('reported');
      socket.close();
      await tick();
      expect(log.at(-1)).toBe('drop:reported:closed');
    });

    it('after close() starts again, delivering what was sent in between', async () => {
      const socket = open();
      await tick();
      sockets[0]?.serverOpen();
      socket.close();
      await tick();
      socket.send('kept');
      socket.reconnect();
      sockets[1]?.serverOpen();
      expect(sockets[1]?.sent).toEqual(['kept']);
    });
  });

  describe('options', () => {
    it('startClosed: CLOSED, no socket until reconnect()', async () => {
      const socket = open({ startClosed: true });
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(sockets).toHaveLength(0);
      socket.reconnect();
      expect(socket.readyState).toBe(TetherWebSocket.CONNECTING);
      expect(sockets).toHaveLength(1);
    });

    it('maps the peers’ reconnect names: minReconnectionDelay, reconnectionDelayGrowFactor, maxReconnectionDelay, maxRetries', async () => {
      const socket = open({
        reconnect: { jitter: 0 },
        minReconnectionDelay: 200,
        reconnectionDelayGrowFactor: 3,
        maxReconnectionDelay: 1000,
        maxRetries: 3,
        connectionTimeout: 10,
      });
      const delays: number[] = [];
      socket.client.on('reconnecting', ({ delay }) => delays.push(delay));
      await tick();
      await vi.advanceTimersByTimeAsync(10 + 200 + 10 + 600 + 10 + 1000 + 10);
      expect(delays).toEqual([200, 600, 1000]);
      expect(sockets).toHaveLength(4);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });

    it('shouldReconnectOnClose (partysocket) decides whether a lost connection is retried', async () => {
      const asked: number[] = [];
      const socket = open({
        shouldReconnectOnClose: (close) => {
          asked.push(close.code);
          return false;
        },
      });
      await tick();
      sockets[0]?.serverOpen();
      sockets[0]?.serverClose(1001, 'going away', true);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(asked).toEqual([1001]);
      expect(sockets).toHaveLength(1);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });

    it('maxEnqueuedMessages keeps the oldest, like the peers, and dispatches drop for the refused one', async () => {
      const socket = open({ maxEnqueuedMessages: 2 });
      const log = record(socket);
      socket.send('1');
      socket.send('2');
      socket.send('3');
      expect(log).toEqual(['drop:3:queue-full']);
      await tick();
      sockets[0]?.serverOpen();
      expect(sockets[0]?.sent).toEqual(['1', '2']);
    });

    it('minUptime is the time a connection must stay up before the retry count resets', async () => {
      const socket = open({ minUptime: 1000 });
      await tick();
      sockets[0]?.serverClose();
      await vi.advanceTimersByTimeAsync(100);
      sockets[1]?.serverOpen();
      expect(socket.retryCount).toBe(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(socket.retryCount).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(socket.retryCount).toBe(0);
    });

    it('passes the client’s own options through: a heartbeat pings, hides the pong, and drops a silent connection', async () => {
      const socket = open({ heartbeat: { interval: 1000, timeout: 500 } });
      const log = record(socket);
      await tick();
      const fake = sockets[0] as FakeSocket;
      fake.serverOpen();
      await vi.advanceTimersByTimeAsync(1000);
      expect(fake.sent).toEqual(['__ping__']);
      fake.serverMessage('__pong__');
      await vi.advanceTimersByTimeAsync(1000);
      expect(fake.sent).toEqual(['__ping__', '__ping__']);
      await vi.advanceTimersByTimeAsync(500);
      expect(log).toEqual(['open', 'error', 'close:1006:false']);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });

    it('rejects a peer name together with the tether-ws option it stands for', () => {
      const fake = fakeWebSocket();
      expect(
        () =>
          new TetherWebSocket(URL_, [], {
            WebSocket: fake.WebSocket,
            minReconnectionDelay: 10,
            reconnect: { minDelay: 20 },
          }),
      ).toThrow(
        'Invalid option "minReconnectionDelay": got 10; expected not both it and "reconnect.minDelay" (the same option).',
      );
      expect(
        () => new TetherWebSocket(URL_, [], { WebSocket: fake.WebSocket, startClosed: true, autoOpen: true }),
      ).toThrow(TetherTypeError);
    });

    it('reports a bad value under the tether-ws name it was translated to', () => {
      const fake = fakeWebSocket();
      expect(
        () => new TetherWebSocket(URL_, [], { WebSocket: fake.WebSocket, connectionTimeout: -1 }),
      ).toThrow(/^Invalid option "connectTimeout": got -1; expected a number from 1 to 2147483647\.$/);
      expect(() => new TetherWebSocket(URL_, [], 'fast' as TetherWebSocketOptions)).toThrow(
        'Invalid argument "options": got "fast"; expected an object.',
      );
    });

    it('leaves the peers’ reconnect names alone when reconnect is false', async () => {
      const socket = open({ reconnect: false, minReconnectionDelay: 5 });
      await tick();
      sockets[0]?.serverClose();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(sockets).toHaveLength(1);
      expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
    });

    it('throws at construction when there is no WebSocket to build on', () => {
      vi.stubGlobal('WebSocket', undefined);
      expect(() => new TetherWebSocket(URL_)).toThrow(
        'Invalid option "WebSocket": got undefined; expected a WebSocket constructor (none is global here).',
      );
    });

    it('rejects a bad URL or protocol at construction, as a WebSocket does', () => {
      const fake = fakeWebSocket();
      expect(() => new TetherWebSocket('ftp://x', [], { WebSocket: fake.WebSocket })).toThrow(
        /^Invalid argument "url": got "ftp:\/\/x"; expected a URL with scheme ws:/,
      );
      expect(() => new TetherWebSocket(URL_, ['bad protocol'], { WebSocket: fake.WebSocket })).toThrow(
        TetherTypeError,
      );
    });
  });
});
