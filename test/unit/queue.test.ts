import { describe, expect, it } from 'vitest';
import type { QueueOptions } from '../../client/index.js';
import { TetherError, WebSocketClient } from '../../client/index.js';
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

function queued(queue: QueueOptions) {
  const mock = mockServer();
  const client = new WebSocketClient(TEST_URL, mockOptions({ queue }));
  const events = recordEvents(client);
  const flush = async () => {
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    await advance(MOCK_DELAY);
    return mock.received;
  };
  return { client, events, flush };
}

describe('WebSocketClient', () => {
  describe('queue overflow', () => {
    it("'drop-oldest' evicts the oldest message and emits drop with it", async () => {
      const { client, events, flush } = queued({ maxMessages: 2, overflow: 'drop-oldest' });
      expect([client.send('a'), client.send('b'), client.send('c')]).toEqual([false, false, false]);
      expect(events).toEqual(['drop:a:queue-full']);
      expect(client.queued).toBe(2);
      expect(await flush()).toEqual(['b', 'c']);
    });

    it("'drop-newest' refuses the new message and emits drop with it", async () => {
      const { client, events, flush } = queued({ maxMessages: 2, overflow: 'drop-newest' });
      client.send('a');
      client.send('b');
      expect(client.send('c')).toBe(false);
      expect(events).toEqual(['drop:c:queue-full']);
      expect(await flush()).toEqual(['a', 'b']);
    });

    it("'throw' throws TetherError QUEUE_FULL and leaves the queue unchanged", async () => {
      const { client, events, flush } = queued({ maxMessages: 2, overflow: 'throw' });
      client.send('a');
      client.send('b');
      let thrown: unknown;
      try {
        client.send('c');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TetherError);
      expect(thrown).toMatchObject({ name: 'TetherError', code: 'QUEUE_FULL', data: 'c' });
      expect((thrown as Error).message).toMatch(/^Queue full\b/);
      expect(client.queued).toBe(2);
      expect(client.bufferedAmount).toBe(2);
      expect(events).toEqual([]);
      expect(await flush()).toEqual(['a', 'b']);
    });

    it('counts maxBytes in UTF-8 bytes, not characters', async () => {
      // "éé" is 2 characters but 4 bytes; a third "é" makes 6 bytes > 5.
      const { client, events, flush } = queued({ maxBytes: 5, overflow: 'drop-oldest' });
      client.send('éé');
      expect(client.bufferedAmount).toBe(4);
      client.send('é');
      expect(events).toEqual(['drop:éé:queue-full']);
      expect(client.bufferedAmount).toBe(2);
      client.send('😀'.slice(0, 2));
      expect(events).toEqual(['drop:éé:queue-full', 'drop:é:queue-full']);
      expect(client.bufferedAmount).toBe(4);
      expect(await flush()).toEqual(['😀']);
    });

    it.each(['drop-oldest', 'drop-newest'] as const)(
      "with '%s' drops a message larger than maxBytes with reason 'too-large', keeping the queue",
      async (overflow) => {
        const { client, events, flush } = queued({ maxBytes: 5, overflow });
        client.send('ok');
        expect(client.send('ééé')).toBe(false);
        expect(events).toEqual(['drop:ééé:too-large']);
        expect(client.queued).toBe(1);
        expect(await flush()).toEqual(['ok']);
      },
    );

    it('drops with maxMessages 0 instead of queueing, and still writes when open', async () => {
      const { client, events, flush } = queued({ maxMessages: 0 });
      client.send('lost');
      expect(events).toEqual(['drop:lost:too-large']);
      expect(await flush()).toEqual([]);
      expect(client.send('live')).toBe(true);
    });

    it('reports the original value in drop, not the encoded one', () => {
      const client = new WebSocketClient<unknown, { n: number }>(
        TEST_URL,
        mockOptions({
          queue: { maxMessages: 1 },
          codec: { encode: (m: { n: number }) => JSON.stringify(m), decode: (d: unknown) => d },
        }),
      );
      const dropped: unknown[] = [];
      client.on('drop', ({ data }) => dropped.push(data));
      client.send({ n: 1 });
      client.send({ n: 2 });
      expect(dropped).toEqual([{ n: 1 }]);
    });
  });
});
