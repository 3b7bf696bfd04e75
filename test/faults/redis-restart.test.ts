/**
 * Redis restarted in the middle of a stream. Two adapters (two ws servers in this process) share
 * a redis-server with `appendonly yes` and `appendfsync always` (every write on disk before Redis
 * answers); four exactly-once clients stream numbered messages that the servers echo. Redis is
 * stopped (SIGTERM) and started again on the same port and directory mid-stream: meanwhile every
 * write fails, the adapters close their connections (1011, or 1013 for a hello) and the clients
 * keep retrying; once Redis is back, every session resumes from the AOF. Nothing acknowledged may
 * be lost, nothing may arrive twice, and no client may report `session-lost`.
 */
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { createTetherServer, handleProtocols, type TetherServer } from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitUntil } from '../helpers/next-event.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { startWsServer } from '../helpers/tether-wire.js';

const RUN = redisAvailable('redis-restart');
const WAIT_MS = 10_000;
const CLIENTS = 4;
const STEP_MS = 10;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const range = (count: number) => Array.from({ length: count }, (_, n) => n);

describe.skipIf(!RUN)('Redis restarted during a stream (appendonly, fsync always)', () => {
  it('loses nothing acknowledged and duplicates nothing; every client resumes once Redis is back', async () => {
    const redis: RedisServer = await startRedis({ appendonly: true });
    cleanups.push(() => redis.stop());
    const nodes: Array<{ url: string; tether: TetherServer }> = [];
    for (let n = 0; n < 2; n++) {
      const client = createClient({ url: redis.url, disableOfflineQueue: true });
      client.on('error', () => {}); // refused reconnects while Redis is down
      await client.connect();
      const tether = createTetherServer({ store: createRedisStore({ client, commandTimeout: 500 }) });
      tether.on('session', (session) => session.on('message', (data) => session.send(data)));
      const server = await startWsServer((socket, request) => tether.handle(socket, request), {
        handleProtocols,
      });
      cleanups.push(async () => {
        tether.close();
        await server.close();
        client.destroy();
      });
      nodes.push({ url: `${server.url}reliable`, tether });
    }

    const streams = range(CLIENTS).map((id) => {
      const closes: number[] = [];
      class Tapped extends WS {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols);
          this.on('close', (code: number) => closes.push(code));
        }
      }
      const client = new WebSocketClient<string, string>((nodes[id % 2] as { url: string }).url, {
        delivery: exactlyOnce(),
        WebSocket: Tapped as unknown as WebSocketConstructor,
        reconnect: { minDelay: 20, maxDelay: 100 },
        watchNetwork: false,
      });
      const stream = { id, client, sent: 0, echoes: [] as number[], losses: [] as string[], closes };
      client.on('message', (payload) => stream.echoes.push(Number(payload.split(':')[1])));
      client.on('session-lost', ({ reason }) => stream.losses.push(reason));
      client.on('error', () => {});
      cleanups.push(() => client.close());
      return stream;
    });
    await Promise.all(streams.map(({ client }) => client.open()));
    const timers = streams.map((stream) =>
      setInterval(() => {
        stream.client.send(`c${stream.id}:${stream.sent}`);
        stream.sent += 1;
      }, STEP_MS),
    );
    cleanups.push(() => {
      for (const timer of timers) clearInterval(timer);
    });
    const sentBy = (more: number) => streams.map(({ sent }) => sent + more);
    const reach = async (targets: number[], what: string) =>
      waitUntil(() => streams.every(({ sent }, i) => sent >= (targets[i] as number)), {
        timeoutMs: WAIT_MS,
        message: what,
      });

    await reach(sentBy(30), '30 messages each before the restart');
    await redis.restart();
    await reach(sentBy(30), '30 messages each after the restart');
    await waitUntil(() => streams.every(({ client }) => client.state === 'open'), {
      timeoutMs: WAIT_MS,
      message: 'every client open again',
    });
    for (const timer of timers) clearInterval(timer);
    await waitUntil(() => streams.every(({ echoes, sent }) => echoes.length >= sent), {
      timeoutMs: WAIT_MS,
      message: 'every message echoed',
    });

    for (const stream of streams) {
      expect(stream.losses, `c${stream.id}: session-lost`).toEqual([]);
      expect(stream.echoes, `c${stream.id}: echoes`).toEqual(range(stream.sent));
    }
    // The outage was seen: connections were closed with a code the client retries.
    const codes = new Set(streams.flatMap(({ closes }) => closes));
    expect([...codes].filter((code) => code === 1011 || code === 1013).length).toBeGreaterThan(0);
    console.log(
      `[redis-restart] ${CLIENTS} clients, ${streams.reduce((sum, { sent }) => sum + sent, 0)} messages echoed once ` +
        `in order across a Redis restart; close codes seen: ${[...codes].sort().join(', ')}`,
    );
  }, 30_000);
});
