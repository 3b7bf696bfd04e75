import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { TokenBucket } from '../../server/rate-limit.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { waitUntil } from '../helpers/next-event.js';

describe('TokenBucket', () => {
  it('allows a burst, then one message per 1/rate seconds', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.take(99)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([true, true, false]);
  });
});

describe('server limits', () => {
  let dev: TestDevServer | undefined;
  const clients: WebSocketClient<string, string>[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await dev?.close();
    dev = undefined;
  });

  it('do not hurt well-behaved clients: heartbeat on, under the rate, at the connection limit', async () => {
    // Every limit tight, so a test of a second crosses each of them many times over.
    dev = await startDevServer({
      heartbeatIntervalMs: 50,
      messageRate: 100,
      messageBurst: 20,
      handshakeTimeoutMs: 200,
      maxConnections: 3,
    });
    const PER_CLIENT = 40;
    const runs = Array.from({ length: 3 }, () => {
      const client = new WebSocketClient<string, string>(dev?.wsUrl ?? '', {
        WebSocket: WS as unknown as WebSocketConstructor,
        heartbeat: { interval: 100, timeout: 1000 },
        reconnect: false,
      });
      clients.push(client);
      const echoed: string[] = [];
      const closes: number[] = [];
      client.on('message', (text) => echoed.push(text));
      client.on('close', ({ code }) => closes.push(code));
      return { client, echoed, closes };
    });
    await Promise.all(runs.map(({ client }) => client.open()));
    const started = performance.now();
    // Paced sends (this loop is the workload, not a wait for an event): 50 messages/s per client, half the allowed rate, for 800 ms: 16 server heartbeats and 4
    // handshake timeouts pass while the connections stay open.
    for (let i = 0; i < PER_CLIENT; i++) {
      for (const { client } of runs) client.send(`m${i}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitUntil(() => runs.every(({ echoed }) => echoed.length === PER_CLIENT), {
      timeoutMs: 5000,
      message: `every client to get its ${PER_CLIENT} echoes`,
    });
    expect(performance.now() - started).toBeGreaterThan(4 * 200);
    for (const { echoed, closes, client } of runs) {
      expect(echoed).toEqual(Array.from({ length: PER_CLIENT }, (_, i) => `m${i}`));
      expect(closes).toEqual([]);
      expect(client.state).toBe('open');
    }
    const { refusals, connections } = await dev.server.metrics.snapshot();
    expect(Object.values(refusals).every((count) => count === 0)).toBe(true);
    expect(connections).toEqual({ current: 3, total: 3 });
  });
});
