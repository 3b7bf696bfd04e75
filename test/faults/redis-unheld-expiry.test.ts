/**
 * A session that expires in Redis while no server holds it: its server crashed (its Redis
 * connection destroyed, its sockets reset, no `tether.close()`; test/helpers/redis-cluster.ts),
 * and its client never came back. The two surviving servers look for such sessions every 5 s;
 * exactly one of them must report it, once, with the message its client never acknowledged
 * (`expired` event, `stats.ended.expired`). Slow by nature: the session lives in Redis for its
 * window (100 ms here) plus the 10 s lease.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../helpers/next-event.js';
import { type ClusterNode, startRedisCluster } from '../helpers/redis-cluster.js';
import { redisAvailable, startRedis } from '../helpers/redis-server.js';
import { WirePeer } from '../helpers/tether-wire.js';

const RUN = redisAvailable('redis-unheld-expiry');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!RUN)('a session that expired in Redis while no server held it', () => {
  it('is reported once, by one surviving server, with what its client never acknowledged', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const cluster = await startRedisCluster(redis, 3, undefined, { resumeWindow: 100 });
    cleanups.push(() => cluster.stop());
    const [a, b, c] = [0, 1, 2].map((n) => cluster.nodes[n] as ClusterNode) as [
      ClusterNode,
      ClusterNode,
      ClusterNode,
    ];
    const reports: Array<{ by: string; sessionId: string; undelivered: ReadonlyArray<string | Buffer> }> = [];
    for (const [by, node] of Object.entries({ a, b, c })) {
      node.tether.on('expired', (info) => reports.push({ by, ...info }));
    }
    a.tether.once('session', (session) => session.send('never acknowledged'));
    const { peer } = await WirePeer.connect(a.url, 'orphan', 0);
    cleanups.push(() => peer.terminate());
    // On the wire only once stored in Redis; the peer never acknowledges it.
    await peer.until(() => peer.messages().length === 1, 'the message, stored');
    await cluster.crash(a, { replace: false });
    await waitUntil(() => reports.length > 0, {
      timeoutMs: 25_000,
      intervalMs: 100,
      message: 'a surviving server to report the session',
    });
    expect(reports).toEqual([
      { by: expect.stringMatching(/^[bc]$/), sessionId: 'orphan', undelivered: ['never acknowledged'] },
    ]);
    expect(b.tether.stats.ended.expired + c.tether.stats.ended.expired).toBe(1);
  }, 40_000);
});
