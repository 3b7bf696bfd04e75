import { describe, expect, it } from 'vitest';
import {
  advance,
  MOCK_DELAY,
  mockServer,
  NetworkSocket,
  NO_SERVER_URL,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

// The unit tests' socket double (test/helpers/fake-network.ts, fake-socket.ts): where it behaves
// as a browser's WebSocket does, and its timing under fake timers, which the other tests rely on.
useMockClock();

/** Records every event of `socket` as `open`, `message:<data>`, `error`, `close:<code>:<reason>:<wasClean>`. */
function record(socket: NetworkSocket): string[] {
  const seen: string[] = [];
  socket.addEventListener('open', () => seen.push('open'));
  socket.addEventListener('message', (e) => seen.push(`message:${String((e as MessageEvent).data)}`));
  socket.addEventListener('error', () => seen.push('error'));
  socket.addEventListener('close', (e) => {
    const { code, reason, wasClean } = e as CloseEvent;
    seen.push(`close:${code}:${reason}:${wasClean}`);
  });
  return seen;
}

async function openSocket(protocols?: string | string[]) {
  const mock = mockServer();
  const socket = new NetworkSocket(TEST_URL, protocols);
  const seen = record(socket);
  await advance(MOCK_DELAY);
  expect(socket.readyState).toBe(1);
  const peer = mock.sockets[0];
  if (!peer) throw new Error('the server saw no connection');
  return { mock, socket, seen, peer };
}

describe('the fake network', () => {
  describe('timing', () => {
    it(`opens a socket ${MOCK_DELAY} ms after construction: open on the client, then connection on the server`, async () => {
      const mock = mockServer();
      const order: string[] = [];
      mock.server.on('connection', () => order.push('connection'));
      const socket = new NetworkSocket(TEST_URL, ['chat', 'other']);
      socket.addEventListener('open', () => order.push('open'));
      await advance(MOCK_DELAY - 1);
      expect(socket.readyState).toBe(0);
      expect(mock.live()).toHaveLength(1);
      expect(mock.sockets).toHaveLength(0);
      await advance(1);
      expect(socket.readyState).toBe(1);
      expect(order).toEqual(['open', 'connection']);
      expect(socket.protocol).toBe('chat');
    });

    it(`delivers a client send to the server ${MOCK_DELAY} ms later, counted in bufferedAmount until then`, async () => {
      const { mock, socket } = await openSocket();
      socket.send('héllo');
      expect(socket.bufferedAmount).toBe(6);
      expect(mock.received).toEqual([]);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['héllo']);
      expect(socket.bufferedAmount).toBe(0);
    });

    it('delivers a server send at once', async () => {
      const { mock, seen } = await openSocket();
      mock.emit('now');
      expect(seen).toEqual(['open', 'message:now']);
    });
  });

  describe('failures, as a browser reports them', () => {
    it('with no server: error, then close 1006 not clean', async () => {
      const socket = new NetworkSocket(NO_SERVER_URL);
      const seen = record(socket);
      await advance(MOCK_DELAY);
      expect(seen).toEqual(['error', 'close:1006::false']);
      expect(socket.readyState).toBe(3);
    });

    it("on server.simulate('error'): error, then close 1006 not clean", async () => {
      const { mock, seen } = await openSocket();
      mock.server.simulate('error');
      expect(seen).toEqual(['open', 'error', 'close:1006::false']);
      expect(mock.live()).toEqual([]);
    });

    it('on close() while connecting: error, then close 1006, and the server sees no connection', async () => {
      const mock = mockServer();
      const socket = new NetworkSocket(TEST_URL);
      const seen = record(socket);
      socket.close();
      expect(socket.readyState).toBe(2);
      await advance(MOCK_DELAY);
      expect(seen).toEqual(['error', 'close:1006::false']);
      expect(mock.sockets).toEqual([]);
      expect(mock.live()).toEqual([]);
    });

    it('on a drop (terminate, or drop(1006)): close 1006 not clean; the socket stays OPEN until then', async () => {
      const { mock, socket, seen } = await openSocket();
      mock.drop(1006);
      expect(socket.readyState).toBe(1);
      await advance(MOCK_DELAY);
      expect(seen).toEqual(['open', 'close:1006::false']);
      expect(mock.live()).toEqual([]);
    });
  });

  describe('closing handshakes', () => {
    it('honours a server-side close(code, reason): CLOSING at once, a clean close with both later', async () => {
      const { mock, socket, seen, peer } = await openSocket();
      const serverSaw: unknown[] = [];
      peer.on('close', (code, reason) => serverSaw.push([code, reason]));
      peer.close(4002, 'kicked');
      expect(socket.readyState).toBe(2);
      await advance(MOCK_DELAY);
      expect(seen).toEqual(['open', 'close:4002:kicked:true']);
      expect(serverSaw).toEqual([[4002, 'kicked']]);
      expect(mock.live()).toEqual([]);
      expect(() => peer.close(1006)).toThrow(/^close code 1006 is never sent on the wire/);
    });

    it('ends a client close() with its code, or 1005 without one, both clean, and tells the server', async () => {
      const first = await openSocket();
      const serverSaw: unknown[] = [];
      first.peer.on('close', (code, reason) => serverSaw.push([code, reason]));
      first.socket.close(4001, 'bye');
      await advance(MOCK_DELAY);
      expect(first.seen).toEqual(['open', 'close:4001:bye:true']);
      expect(serverSaw).toEqual([[4001, 'bye']]);

      const socket = new NetworkSocket(TEST_URL);
      const seen = record(socket);
      await advance(MOCK_DELAY);
      socket.close();
      await advance(MOCK_DELAY);
      expect(seen).toEqual(['open', 'close:1005::true']);
    });

    it('leaves the client CLOSING when the server never answers the close frame', async () => {
      const { mock, socket, seen } = await openSocket();
      mock.server.answersClose = false;
      socket.close(1000);
      await advance(60_000);
      expect(socket.readyState).toBe(2);
      expect(seen).toEqual(['open']);
    });
  });

  describe('the WebSocket interface', () => {
    it('refuses send() while CONNECTING and close() codes a browser refuses', () => {
      mockServer();
      const socket = new NetworkSocket(TEST_URL);
      expect(() => socket.send('early')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
      expect(() => socket.close(1001)).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
      expect(() => socket.close(1000, 'x'.repeat(124))).toThrow(
        expect.objectContaining({ name: 'SyntaxError' }),
      );
      expect(() => new NetworkSocket('http://tether.test/')).toThrow(
        expect.objectContaining({ name: 'SyntaxError' }),
      );
    });

    it('has a bufferedAmount the test can set, and discards (but counts) sends once closing', async () => {
      const { mock, socket } = await openSocket();
      socket.bufferedAmount = 100;
      socket.send('ab');
      expect(socket.bufferedAmount).toBe(102);
      socket.close();
      socket.send('lost');
      expect(socket.bufferedAmount).toBe(106);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['ab']);
      expect(socket.sent).toEqual(['ab']);
    });

    it('carries bytes as bytes: a Uint8Array arrives at the server as bytes, not as "1,2,3"', async () => {
      const { mock, socket } = await openSocket();
      socket.send(new Uint8Array([1, 2, 3]));
      socket.send(new Uint16Array([0x0201]).buffer);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array([1, 2])]);
    });

    it('keeps binaryType and delivers server bytes as a Blob by default, as an ArrayBuffer when asked', async () => {
      const { mock, socket } = await openSocket();
      const data: unknown[] = [];
      socket.addEventListener('message', (e) => data.push((e as MessageEvent).data));
      expect(socket.binaryType).toBe('blob');
      mock.emit(new Uint8Array([1, 2, 3]));
      socket.binaryType = 'arraybuffer';
      mock.emit(new Uint8Array([4, 5]));
      expect(socket.binaryType).toBe('arraybuffer');
      const [blob, buffer] = data as [Blob, ArrayBuffer];
      expect(blob).toBeInstanceOf(Blob);
      expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
      expect(buffer).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(buffer)).toEqual(new Uint8Array([4, 5]));
    });

    it('refuses a second server on the same URL until the first is stopped', () => {
      mockServer();
      expect(() => mockServer(`${TEST_URL}`)).toThrow(
        /^A fake server already listens on ws:\/\/tether\.test\/live$/,
      );
    });
  });
});
