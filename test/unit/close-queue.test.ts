/**
 * Best-effort `close()` and the queue (issue 24, point 5; docs/guarantees.md "close()"): nothing
 * queued vanishes at `close()`. While a connection is open the queue is written before the close
 * frame; in every other state what is queued is reported (`drop`, reason 'closed') and removed,
 * unless `open()` is called again in the same task.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import { type FakeSocket, fakeWebSocket } from '../helpers/fake-socket.js';

const URL = 'ws://tether.test/live';
const HWM = 100;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

function setup(reconnect: { minDelay: number } | false = false) {
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new WebSocketClient<string, string>(URL, {
    WebSocket,
    highWaterMark: HWM,
    reconnect: reconnect && { ...reconnect, jitter: 0 },
  });
  /** Every event that tells what became of a message or of the client, in order. */
  const log: string[] = [];
  client.on('drop', ({ data, reason }) => log.push(`drop ${data} ${reason}`));
  client.on('close', ({ willReconnect }) => log.push(`close${willReconnect ? ' will reconnect' : ''}`));
  const socket = (index: number) => sockets[index] as FakeSocket;
  return { client, sockets, socket, log };
}

describe('WebSocketClient', () => {
  describe('close() leaves nothing queued without a report', () => {
    it('open, socket backed up: every queued message is written before the close frame, past highWaterMark', async () => {
      const { client, socket, log } = setup();
      client.open();
      socket(0).serverOpen();
      socket(0).bufferedAmount = HWM + 1;
      expect(client.send('a')).toBe(false);
      expect(client.send('b')).toBe(false);
      expect(socket(0).sent).toEqual([]);

      const closed = client.close();
      // The fake socket discards what is sent once its closing handshake started: both were
      // written while it was still OPEN, so before the close frame.
      expect(socket(0).sent).toEqual(['a', 'b']);
      expect(socket(0).closeCalls).toEqual([{ code: 1000, reason: '' }]);
      await closed;
      expect(log).toEqual(['close']);
      expect(client.queued).toBe(0);
    });

    it('connecting: open(); send(x); await close() reports x (drop "closed"), writes nothing, keeps nothing', async () => {
      const { client, socket, log } = setup();
      client.open();
      expect(client.send('x')).toBe(false);
      await client.close();

      // Reported a microtask after close(), before the failed attempt's `close`.
      expect(log).toEqual(['drop x closed', 'close']);
      expect(client.queued).toBe(0);
      expect(socket(0).sent).toEqual([]);
      expect(client.state).toBe('closed');
    });

    it('reconnecting: close() cancels the retry and reports what waits, in order', async () => {
      const { client, sockets, socket, log } = setup({ minDelay: 1000 });
      client.open();
      socket(0).serverOpen();
      socket(0).serverClose(1006);
      expect(client.state).toBe('reconnecting');
      client.send('y1');
      client.send('y2');
      await client.close();

      expect(log).toEqual(['close will reconnect', 'close', 'drop y1 closed', 'drop y2 closed']);
      expect(client.queued).toBe(0);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(1);
    });

    it('idle: what was sent before any open() is reported', async () => {
      const { client, sockets, log } = setup();
      client.send('early');
      await client.close();

      expect(log).toEqual(['drop early closed']);
      expect(client.queued).toBe(0);
      expect(sockets).toHaveLength(0);
    });

    it('the socket is already closing (a close frame arrived): what it could not take is reported', async () => {
      const { client, socket, log } = setup();
      client.open();
      socket(0).serverOpen();
      socket(0).bufferedAmount = HWM + 1;
      client.send('late');
      // The server's close frame arrived: the socket is CLOSING, its `close` event still to come.
      socket(0).readyState = socket(0).CLOSING;
      const closed = client.close();
      expect(socket(0).sent).toEqual([]);
      socket(0).serverClose(1001, '', true);
      await closed;

      expect(log).toEqual(['close', 'drop late closed']);
    });

    it('close(); open() in one task (what reconnect() does) keeps the queue for the new connection', async () => {
      const { client, socket, log } = setup({ minDelay: 1000 });
      client.open();
      socket(0).serverOpen();
      socket(0).serverClose(1006);
      client.send('kept');
      client.close();
      client.open();
      await vi.advanceTimersByTimeAsync(0);
      socket(1).serverOpen();

      expect(socket(1).sent).toEqual(['kept']);
      expect(log).toEqual(['close will reconnect', 'close']);
    });

    it('a message sent after close() returned waits for the next open(); close() again reports it', async () => {
      const { client, socket, log } = setup();
      client.open();
      socket(0).serverOpen();
      await client.close();
      client.send('after');
      await vi.advanceTimersByTimeAsync(0);
      expect(client.queued).toBe(1);
      expect(log).toEqual(['close']);

      await client.close();
      expect(log).toEqual(['close', 'drop after closed']);
      expect(client.queued).toBe(0);
    });
  });
});
