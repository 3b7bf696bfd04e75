/**
 * A session that expires in Redis while no server holds it: its server crashed (its Redis
 * connection destroyed, its sockets reset, no `tether.close()`), and its client never came back.
 * The two surviving servers look for such sessions every 5 s; exactly one of them must report it,
 * once, with the message its client never acknowledged (`expired` event, `stats.ended.expired`).
 * Slow by nature: the session lives in Redis for its window (100 ms here) plus the 10 s lease.
 */
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTetherServer, handleProtocols, type TetherServer } from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { waitUntil } from '../helpers/next-event.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { startWsServer, WirePeer } from '../helpers/tether-wire.js';

const RUN = redisAvailable('redis-unheld-expiry');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(redis: RedisServer) {
  const client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
  const tether = createTetherServer({ resumeWindow: 100, store: createRedisStore({ client }) });
  const server = await startWsServer((socket, request) => tether.handle(socket, request), {
    handleProtocols,
  });
  const expired: Array<{ sessionId: string; undelivered: ReadonlyArray<string | Buffer> }> = [];
  tether.on('expired', (info) => expired.push(info));
  let crashed = false;
  cleanups.push(async () => {
    tether.close();
    if (!crashed) {
      await server.close();
      client.destroy();
    }
  });
  return {
    url: server.url,
    tether: tether as TetherServer,
    expired,
    async crash() {
      crashed = true;
      client.destroy();
      await server.close();
    },
  };
}

describe.skipIf(!RUN)('a session that expired in Redis while no server held it', () => {
  it('is reported once, by one surviving server, with what its client never acknowledged', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const [a, b, c] = [await node(redis), await node(redis), await node(redis)];
    a.tether.once('session', (session) => session.send('never acknowledged'));
    const { peer } = await WirePeer.connect(a.url, 'orphan', 0);
    cleanups.push(() => peer.terminate());
    // On the wire only once stored in Redis; the peer never acknowledges it.
    await peer.until(() => peer.messages().length === 1, 'the message, stored');
    await a.crash();
    await waitUntil(() => b.expired.length + c.expired.length > 0, {
      timeoutMs: 25_000,
      intervalMs: 100,
      message: 'a surviving server to report the session',
    });
    const reports = [...b.expired, ...c.expired];
    expect(reports).toEqual([{ sessionId: 'orphan', undelivered: ['never acknowledged'] }]);
    expect(b.tether.stats.ended.expired + c.tether.stats.ended.expired).toBe(1);
    expect(a.expired).toEqual([]);
  }, 40_000);
});
