import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import { type FakeSocket, fakeWebSocket } from '../helpers/fake-socket.js';

const URL = 'ws://tether.test/live';
const HWM = 100;
/** Longer than any drain poll the client may use: time for it to look at the socket again. */
const POLL = 50;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

function advance(ms: number) {
  return vi.advanceTimersByTimeAsync(ms);
}

async function openClient(highWaterMark = HWM) {
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new WebSocketClient(URL, { WebSocket, highWaterMark, reconnect: false });
  client.open();
  const socket = sockets[0] as FakeSocket;
  socket.serverOpen();
  expect(client.state).toBe('open');
  return { client, socket };
}

describe('WebSocketClient', () => {
  describe('backpressure (highWaterMark)', () => {
    it('writes at once while bufferedAmount is at or below highWaterMark', async () => {
      const { client, socket } = await openClient();
      socket.bufferedAmount = HWM - 1;
      expect(client.send('a')).toBe(true);
      expect(socket.bufferedAmount).toBe(HWM);
      expect(client.send('b')).toBe(true);
      expect(socket.sent).toEqual(['a', 'b']);
    });

    it('queues new messages above highWaterMark (send returns false) and writes them as it drains', async () => {
      const { client, socket } = await openClient();
      socket.bufferedAmount = HWM + 1;
      expect(client.send('one')).toBe(false);
      expect(client.send('two')).toBe(false);
      expect(socket.sent).toEqual([]);
      expect(client.queued).toBe(2);
      expect(client.bufferedAmount).toBe(HWM + 1 + 6);

      await advance(POLL);
      expect(socket.sent).toEqual([]);

      socket.bufferedAmount = 0;
      await advance(POLL);
      expect(socket.sent).toEqual(['one', 'two']);
      expect(client.queued).toBe(0);
    });

    it('drains in order, a little at a time, never filling the socket past highWaterMark + one message', async () => {
      const { client, socket } = await openClient();
      socket.bufferedAmount = HWM + 1;
      const messages = Array.from({ length: 100 }, (_, i) => `msg-${String(i).padStart(3, '0')}`);
      for (const message of messages) expect(client.send(message)).toBe(false);

      const drained: number[] = [];
      while (client.queued > 0 && drained.length < 1000) {
        // The network takes half of what is buffered.
        socket.bufferedAmount = Math.floor(socket.bufferedAmount / 2);
        const before = socket.sent.length;
        await advance(POLL);
        drained.push(socket.sent.length - before);
      }
      expect(socket.sent).toEqual(messages);
      // Written in several steps, not all at once.
      expect(drained.filter((n) => n > 0).length).toBeGreaterThan(5);
      expect(socket.peakBuffered).toBeLessThanOrEqual(HWM + 1 + 'msg-000'.length);
    });

    it('keeps order: a send while older messages wait is queued behind them, even if the socket has room', async () => {
      const { client, socket } = await openClient();
      socket.bufferedAmount = HWM + 1;
      client.send('first');
      client.send('second');
      // The socket drains, but the poll has not looked yet.
      socket.bufferedAmount = 0;
      expect(client.send('third')).toBe(false);
      await advance(POLL);
      expect(socket.sent).toEqual(['first', 'second', 'third']);
      expect(client.send('fourth')).toBe(true);
      expect(socket.sent).toEqual(['first', 'second', 'third', 'fourth']);
    });

    it('holds a burst of 100,000 sends in the queue rather than in the socket', async () => {
      const { client, socket } = await openClient(1000);
      const count = 100_000;
      let written = 0;
      for (let i = 0; i < count; i++) if (client.send(`m:${i}`)) written += 1;
      // About 1,000 bytes' worth went to the socket; the other ~99,800 wait in the queue.
      expect(written).toBeLessThan(300);
      expect(client.queued).toBe(count - written);
      expect(socket.bufferedAmount).toBeLessThanOrEqual(1000 + 8);
      while (client.queued > 0) {
        socket.bufferedAmount = 0;
        await advance(POLL);
      }
      expect(socket.sent).toHaveLength(count);
      expect(socket.sent.every((data, i) => data === `m:${i}`)).toBe(true);
      expect(socket.peakBuffered).toBeLessThanOrEqual(1000 + 8);
    });

    it('with highWaterMark: Infinity, always writes at once', async () => {
      const { client, socket } = await openClient(Number.POSITIVE_INFINITY);
      socket.bufferedAmount = 1e12;
      expect(client.send('x')).toBe(true);
      expect(socket.sent).toEqual(['x']);
    });

    it('flushes the offline queue on open only as far as the socket has room', async () => {
      const { WebSocket, sockets } = fakeWebSocket();
      const client = new WebSocketClient(URL, { WebSocket, highWaterMark: 10, reconnect: false });
      const messages = Array.from({ length: 20 }, (_, i) => `q${String(i).padStart(2, '0')}`);
      for (const message of messages) client.send(message);
      client.open();
      const socket = sockets[0] as FakeSocket;
      socket.serverOpen();
      // q00..q03 fit (12 bytes > 10 after the fourth): the rest waits for the socket to drain.
      expect(socket.sent).toEqual(messages.slice(0, 4));
      while (client.queued > 0) {
        socket.bufferedAmount = 0;
        await advance(POLL);
      }
      expect(socket.sent).toEqual(messages);
    });
  });
});
