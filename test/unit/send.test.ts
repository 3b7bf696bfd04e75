import { describe, expect, it } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  recordEvents,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

describe('WebSocketClient', () => {
  describe('send()', () => {
    it('returns true when written to an open socket', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(client.send('now')).toBe(true);
      expect(client.queued).toBe(0);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['now']);
    });

    it('returns false and queues while idle, connecting and closed', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const events = recordEvents(client);
      expect(client.send('idle')).toBe(false);
      client.open();
      expect(client.send('connecting')).toBe(false);
      expect(client.queued).toBe(2);
      client.close(); // reports what it finds queued (close-queue.test.ts)
      await advance(MOCK_DELAY);
      expect(client.state).toBe('closed');
      expect(events.filter((e) => e.startsWith('drop'))).toEqual([
        'drop:idle:closed',
        'drop:connecting:closed',
      ]);
      expect(client.send('closed')).toBe(false);
      expect(client.queued).toBe(1);
    });

    it('flushes messages queued before open in order, before a send made inside an "open" listener', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      for (const m of ['a', 'b', 'c']) client.send(m);
      let fromListener: boolean | undefined;
      client.on('open', () => {
        fromListener = client.send('d');
      });
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(client.queued).toBe(0);
      expect(fromListener).toBe(true);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['a', 'b', 'c', 'd']);
    });

    it('queues while reconnecting and flushes in order before "open", none duplicated', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 100 } }));
      const results: boolean[] = [];
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      results.push(client.send('1'), client.send('2'));
      await advance(MOCK_DELAY);
      mock.drop(1001);
      // The close frame arrived: the socket is CLOSING although the client has not seen `close` yet.
      results.push(client.send('3'));
      await advance(MOCK_DELAY);
      expect(client.state).toBe('reconnecting');
      results.push(client.send('4'), client.send('5'));
      let receivedAtOpen: unknown[] = [];
      client.on('open', () => {
        receivedAtOpen = [...mock.received];
        results.push(client.send('6'));
      });
      await advance(100 + MOCK_DELAY);
      expect(client.state).toBe('open');
      await advance(MOCK_DELAY);
      expect(results).toEqual([true, true, false, false, false, true]);
      expect(receivedAtOpen).toEqual(['1', '2']);
      expect(mock.received).toEqual(['1', '2', '3', '4', '5', '6']);
      expect(mock.sockets).toHaveLength(2);
    });

    it('keeps messages sent after close() queued and sends them after the next open()', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      const closed = client.close();
      await Promise.resolve(); // past the task of close(), which reports what it found queued
      expect(client.state).toBe('closing');
      expect(client.send('while closing')).toBe(false);
      await advance(MOCK_DELAY);
      await closed;
      client.send('while closed');
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['while closing', 'while closed']);
    });

    it('throws TetherTypeError INVALID_ARGUMENT for a number or a plain object without a codec', () => {
      const client = new WebSocketClient(TEST_URL, mockOptions());
      expect(() => client.send(42 as never)).toThrow(
        expect.objectContaining({ name: 'TetherTypeError', code: 'INVALID_ARGUMENT', argument: 'data' }),
      );
      expect(() => client.send(42 as never)).toThrow(
        /^Invalid argument "data": got 42; expected a string, ArrayBuffer, ArrayBufferView or Blob\b.*\.$/,
      );
      expect(() => client.send({ a: 1 } as never)).toThrow(
        /^Invalid argument "data": got an object\b.*; expected a string\b.*\.$/,
      );
    });

    it('accepts binary data: ArrayBuffer and typed arrays are queued by byte length', () => {
      const client = new WebSocketClient(TEST_URL, mockOptions());
      expect(client.send(new ArrayBuffer(8))).toBe(false);
      expect(client.send(new Uint16Array(4))).toBe(false);
      expect(client.bufferedAmount).toBe(16);
    });
  });

  describe('bad calls leave the queue intact', () => {
    it('keeps queued messages through bad send() and close() calls, then flushes them on open', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const events = recordEvents(client);
      client.send('a');
      client.send('b');
      expect(() => client.send(42 as never)).toThrow(TypeError);
      expect(() => client.send(null as never)).toThrow(TypeError);
      expect(() => client.close(1001)).toThrow(RangeError);
      expect(() => client.close(1000, 'x'.repeat(124))).toThrow(RangeError);
      expect(client.queued).toBe(2);
      expect(client.state).toBe('idle');
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(() => client.close(5000)).toThrow(RangeError);
      expect(client.state).toBe('open');
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['a', 'b']);
      expect(events.filter((e) => e.startsWith('drop') || e.startsWith('error'))).toEqual([]);
    });
  });
});
