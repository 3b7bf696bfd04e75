/**
 * The session store contract (server/tether/store.ts), run against both stores: the in-memory
 * default and the Redis store on a real redis-server started for this file. Then what only Redis
 * has: time to live on the keys, hash tags, one script call per batch, and failure as
 * `STORE_UNAVAILABLE`.
 */
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../adapter/memory-store.js';
import { ADJUST, ENLIST, WITHDRAW } from '../../adapter/redis/count-scripts.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { REAP_GRACE_MS } from '../../adapter/redis/scripts.js';
import type { SessionBatch, SessionStore } from '../../adapter/store.js';
import { waitUntil } from '../helpers/next-event.js';
import { type RedisClusterServers, startRedisClusterServers } from '../helpers/redis-cluster-server.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';

const RUN_REDIS = redisAvailable('session-store');
const TTL = 60_000;

type Client = ReturnType<typeof createClient>;
type ClusterClient = ReturnType<typeof createCluster>;
let redis: RedisServer | undefined;
let client: Client | undefined;
/** A real Redis Cluster (3 masters) and a createCluster() client on it. */
let clusterServers: RedisClusterServers | undefined;
let clusterClient: ClusterClient | undefined;
let prefixes = 0;

beforeAll(async () => {
  if (!RUN_REDIS) return;
  redis = await startRedis();
  client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', () => {}); // reconnection errors; each command reports its own failure
  await client.connect();
  clusterServers = await startRedisClusterServers(3);
  clusterClient = createCluster({ rootNodes: [...clusterServers.rootNodes] });
  clusterClient.on('error', () => {});
  await clusterClient.connect();
}, 30_000);

afterAll(async () => {
  client?.destroy();
  clusterClient?.destroy();
  await redis?.stop();
  await clusterServers?.stop();
});

const batch = (fields: Partial<SessionBatch>): SessionBatch => ({
  recv: 0,
  acked: 0,
  written: 0,
  append: [],
  ttl: TTL,
  ...fields,
});

type Limits = { maxSessions?: number; maxTotalBufferedBytes?: number };

const stores: Array<[string, (limits?: Limits) => SessionStore, boolean]> = [
  ['memory', (limits) => createMemoryStore(limits), true],
  // A fresh prefix per test: one Redis, no test sees another's keys.
  [
    'redis',
    (limits) => createRedisStore({ client: client as Client, keyPrefix: `t${++prefixes}:`, ...limits }),
    RUN_REDIS,
  ],
  // The same contract on Redis Cluster: every script must take keys of one slot, or Redis refuses
  // it (CROSSSLOT), and node-redis routes each by its first key.
  [
    'redis cluster',
    (limits) =>
      createRedisStore({ client: clusterClient as ClusterClient, keyPrefix: `c${++prefixes}:`, ...limits }),
    RUN_REDIS,
  ],
];

describe.each(stores)('%s session store', (_name, makeStore, run) => {
  it.runIf(run)(
    'creates an unknown session, then resumes it for the next owner with counters at 0',
    async () => {
      const store = makeStore();
      expect(await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
        status: 'created',
      });
      expect(await store.claim({ sid: 's', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
        status: 'resumed',
        recv: 0,
        sent: 0,
        acked: 0,
        written: 0,
        pending: [],
      });
    },
  );

  it.runIf(run)(
    'moves recv and the appended messages together, and hands them to the next owner in order',
    async () => {
      const store = makeStore();
      await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      const binary = Buffer.from([0, 255, 109, 1]);
      expect(
        await store.commit('s', 'a', batch({ recv: 3, written: 2, append: ['one', binary, 'trois ✓'] })),
      ).toBe('stored');
      const resumed = await store.claim({ sid: 's', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' });
      expect(resumed).toEqual({
        status: 'resumed',
        recv: 3,
        sent: 3,
        acked: 0,
        written: 3,
        pending: ['one', binary, 'trois ✓'],
      });
    },
  );

  it.runIf(run)(
    'applies the hello recv as an acknowledgement and refuses one outside acked..written, changing nothing',
    async () => {
      const store = makeStore();
      await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      await store.commit('s', 'a', batch({ written: 2, append: ['m1', 'm2', 'm3'] }));
      expect(await store.claim({ sid: 's', owner: 'x', peerRecv: 3, ttl: TTL, keyHash: '' })).toEqual({
        status: 'refused',
      });
      // Still a's: its writes go on.
      expect(await store.commit('s', 'a', batch({ acked: 1, written: 2 }))).toBe('stored');
      expect(await store.claim({ sid: 's', owner: 'y', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
        status: 'refused',
      });
      expect(await store.claim({ sid: 's', owner: 'b', peerRecv: 2, ttl: TTL, keyHash: '' })).toMatchObject({
        status: 'resumed',
        acked: 2,
        sent: 3,
        pending: ['m3'],
      });
    },
  );

  it.runIf(run)('resumes a keyed session only with its key, and a keyless one with any', async () => {
    const store = makeStore();
    await store.claim({ sid: 'k', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: 'aa11' });
    expect(await store.claim({ sid: 'k', owner: 'x', peerRecv: 0, ttl: TTL, keyHash: 'bb22' })).toEqual({
      status: 'wrong-key',
    });
    expect(await store.claim({ sid: 'k', owner: 'y', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'wrong-key',
    });
    expect(await store.commit('k', 'a', batch({ recv: 1 }))).toBe('stored'); // still a's
    expect(await store.claim({ sid: 'k', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: 'aa11' })).toMatchObject(
      {
        status: 'resumed',
        recv: 1,
      },
    );
    await store.claim({ sid: 'open', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
    expect(
      await store.claim({ sid: 'open', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: 'cc33' }),
    ).toMatchObject({
      status: 'resumed',
    });
  });

  it.runIf(run)(
    'fences the previous owner: its commits, keep-alives and removal are refused and change nothing',
    async () => {
      const store = makeStore();
      await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      await store.commit('s', 'a', batch({ recv: 1, written: 1, append: ['from a'] }));
      await store.claim({ sid: 's', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' });
      expect(await store.commit('s', 'a', batch({ recv: 2, written: 2, append: ['late a'] }))).toBe('fenced');
      expect(await store.keepAlive('s', 'a', TTL)).toBe(false);
      expect(await store.remove('s', 'a')).toBe(false);
      expect(await store.keepAlive('s', 'b', TTL)).toBe(true);
      expect(await store.claim({ sid: 's', owner: 'c', peerRecv: 0, ttl: TTL, keyHash: '' })).toMatchObject({
        recv: 1,
        sent: 1,
        pending: ['from a'],
      });
    },
  );

  it.runIf(run)('removes a session for its owner only; the id then starts afresh', async () => {
    const store = makeStore();
    await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
    await store.commit('s', 'a', batch({ recv: 5, written: 1, append: ['x'] }));
    expect(await store.remove('s', 'a')).toBe(true);
    expect(await store.commit('s', 'a', batch({ recv: 6 }))).toBe('fenced');
    expect(await store.claim({ sid: 's', owner: 'b', peerRecv: 7, ttl: TTL, keyHash: '' })).toEqual({
      status: 'created',
    });
    expect(await store.claim({ sid: 's', owner: 'c', peerRecv: 0, ttl: TTL, keyHash: '' })).toMatchObject({
      recv: 0,
      sent: 0,
    });
  });

  it.runIf(run)(
    'drops acknowledged messages, never beyond what was stored, across batches of thousands',
    async () => {
      const store = makeStore();
      await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      const many = Array.from({ length: 5000 }, (_, n) => `n${n + 1}`);
      expect(await store.commit('s', 'a', batch({ written: 5000, append: many }))).toBe('stored');
      await store.commit('s', 'a', batch({ acked: 4990, written: 5000 }));
      const resumed = await store.claim({ sid: 's', owner: 'b', peerRecv: 4995, ttl: TTL, keyHash: '' });
      expect(resumed).toMatchObject({ status: 'resumed', acked: 4995, sent: 5000 });
      expect(resumed.status === 'resumed' && resumed.pending).toEqual([
        'n4996',
        'n4997',
        'n4998',
        'n4999',
        'n5000',
      ]);
      await store.commit('s', 'b', batch({ acked: 9999, written: 5000 }));
      expect(
        await store.claim({ sid: 's', owner: 'c', peerRecv: 5000, ttl: TTL, keyHash: '' }),
      ).toMatchObject({
        acked: 5000,
        pending: [],
      });
    },
  );

  it.runIf(run)(
    'counts the payload bytes of unacknowledged messages across sessions, and refuses whole a batch that would go over maxTotalBufferedBytes',
    async () => {
      const store = makeStore({ maxTotalBufferedBytes: 12 });
      await store.claim({ sid: 'a', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      await store.claim({ sid: 'b', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' });
      // 5 + 3 bytes, and 3 for '✓' (UTF-8): 11.
      expect(
        await store.commit('a', 'a', batch({ written: 3, append: ['12345', Buffer.from([1, 2, 3]), '✓'] })),
      ).toBe('stored');
      expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 11 });
      // b's 2 bytes would make 13: refused whole, recv included.
      expect(await store.commit('b', 'b', batch({ recv: 4, written: 1, append: ['xy'] }))).toBe('full');
      expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 11 });
      // A batch that adds no bytes is never refused.
      expect(await store.commit('b', 'b', batch({ recv: 4 }))).toBe('stored');
      // An ack frees bytes for everyone; one in the same batch as an append counts against it.
      expect(await store.commit('a', 'a', batch({ acked: 1, written: 3 }))).toBe('stored');
      expect(await store.commit('b', 'b', batch({ recv: 5, written: 1, append: ['xy'] }))).toBe('stored');
      expect(await store.commit('b', 'b', batch({ acked: 1, written: 2, append: ['pqrs'] }))).toBe('stored');
      expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 6 + 4 });
      expect(await store.claim({ sid: 'b', owner: 'b2', peerRecv: 1, ttl: TTL, keyHash: '' })).toMatchObject({
        status: 'resumed',
        recv: 5,
        pending: ['pqrs'],
      });
      // A resume's recv is an ack too, and removing a session takes its bytes out.
      await store.claim({ sid: 'a', owner: 'a2', peerRecv: 2, ttl: TTL, keyHash: '' });
      expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 3 + 4 });
      await store.remove('b', 'b2');
      expect(await store.stats()).toEqual({ sessions: 1, bufferedBytes: 3 });
    },
  );

  it.runIf(run)(
    'takes an expired session (its owner died) out of the counts, by reap() for a shared store',
    async () => {
      const store = makeStore();
      await store.claim({ sid: 'dies', owner: 'a', peerRecv: 0, ttl: 50, keyHash: '' });
      expect(await store.commit('dies', 'a', batch({ written: 1, append: ['abc'], ttl: 50 }))).toBe('stored');
      await store.claim({ sid: 'lives', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' });
      expect(await store.commit('lives', 'b', batch({ written: 1, append: ['de'] }))).toBe('stored');
      expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 5 });
      // A shared store counts a session until a server reaps it (every adapter calls reap() every
      // 5 s): the counts only ever run high, never low (docs/protocol.md §9).
      await waitUntil(
        async () => {
          await store.reap?.(100);
          return (await store.stats()).sessions === 1;
        },
        { timeoutMs: 2000, message: 'the session whose time to live passed to be gone' },
      );
      expect(await store.stats()).toEqual({ sessions: 1, bufferedBytes: 2 });
    },
  );

  it.runIf(run)(
    'counts nothing for a refused claim (wrong key, impossible recv): the session it named ends, and its session and bytes with it',
    async () => {
      const store = makeStore({ maxSessions: 1, maxTotalBufferedBytes: 5 });
      await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: 'aa11' });
      expect(await store.commit('s', 'a', batch({ written: 1, append: ['abc'] }))).toBe('stored');
      expect(await store.claim({ sid: 's', owner: 'x', peerRecv: 0, ttl: TTL, keyHash: 'bb22' })).toEqual({
        status: 'wrong-key',
      });
      expect(await store.claim({ sid: 's', owner: 'y', peerRecv: 2, ttl: TTL, keyHash: 'aa11' })).toEqual({
        status: 'refused',
      });
      expect(await store.stats()).toEqual({ sessions: 1, bufferedBytes: 3 });
      expect(await store.remove('s', 'a')).toBe(true);
      await waitUntil(async () => (await store.stats()).sessions === 0, {
        timeoutMs: 2000,
        message: 'the removed session to be counted gone',
      });
      expect(await store.stats()).toEqual({ sessions: 0, bufferedBytes: 0 });
      expect(await store.claim({ sid: 't', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
        status: 'created',
      });
      expect(await store.commit('t', 'b', batch({ written: 1, append: ['abcd'] }))).toBe('stored');
    },
  );

  it.runIf(run)('refuses a new session beyond maxSessions and counts the sessions it holds', async () => {
    const store = makeStore({ maxSessions: 2 });
    expect(await store.claim({ sid: 'one', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'created',
    });
    expect(await store.claim({ sid: 'two', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'created',
    });
    expect(await store.claim({ sid: 'three', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'full',
    });
    // Resuming a held session is not a new one.
    expect(await store.claim({ sid: 'two', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' })).toMatchObject({
      status: 'resumed',
    });
    expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 0 });
    await store.remove('one', 'a');
    expect(await store.claim({ sid: 'three', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'created',
    });
    // The refused claim left nothing behind: 'three' is new, not resumed.
    expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 0 });
  });
});

describe('memory session store', () => {
  it('forgets a session its owner stopped writing to once its time to live passed', () => {
    let now = 1000;
    const store = createMemoryStore({ now: () => now });
    store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: 100, keyHash: '' });
    now += 99;
    expect(store.keepAlive('s', 'a', 100)).toBe(true);
    now += 100;
    expect(store.commit('s', 'a', batch({ recv: 1 }))).toBe('fenced');
    expect(store.stats()).toEqual({ sessions: 0, bufferedBytes: 0 });
    expect(store.claim({ sid: 's', owner: 'b', peerRecv: 0, ttl: 100, keyHash: '' })).toEqual({
      status: 'created',
    });
  });
});

describe.runIf(RUN_REDIS)('redis session store', () => {
  const redisClient = () => client as Client;

  it('keeps both keys of a session under its {sid} hash tag, with the time to live of the last write', async () => {
    const store = createRedisStore({ client: redisClient(), keyPrefix: 'ttl:' });
    await store.claim({ sid: 'tagged', owner: 'a', peerRecv: 0, ttl: 30_000, keyHash: '' });
    await store.commit('tagged', 'a', batch({ written: 1, append: ['x'], ttl: 20_000 }));
    const keys = (await redisClient().keys('ttl:*')).sort();
    // The store-wide counts under their own tag: no script takes keys of two slots.
    expect(keys).toEqual([
      'ttl:{#counts}:bytes',
      'ttl:{#counts}:index',
      'ttl:{#counts}:owner',
      'ttl:{#counts}:reserved',
      'ttl:{#counts}:settled',
      'ttl:{#counts}:ver',
      'ttl:{tagged}:o',
      'ttl:{tagged}:s',
    ]);
    for (const key of ['ttl:{tagged}:o', 'ttl:{tagged}:s']) {
      const ttl = await redisClient().pTTL(key);
      // The keys outlive the session's expiry by REAP_GRACE_MS, for reap() to find them.
      expect(ttl, key).toBeGreaterThan(15_000 + REAP_GRACE_MS);
      expect(ttl, key).toBeLessThanOrEqual(20_000 + REAP_GRACE_MS);
    }
  });

  it('hands a session that expired unheld to one reap(), once, with its unacknowledged messages; not one resumed meanwhile', async () => {
    const store = createRedisStore({ client: redisClient(), keyPrefix: 'reap:' });
    const binary = Buffer.from([0, 1, 2]);
    await store.claim({ sid: 'gone', owner: 'a', peerRecv: 0, ttl: 50, keyHash: '' });
    await store.commit('gone', 'a', batch({ written: 3, append: ['a1', binary, 'a3'], acked: 1, ttl: 50 }));
    await store.claim({ sid: 'back', owner: 'b', peerRecv: 0, ttl: 50, keyHash: '' });
    await store.commit('back', 'b', batch({ written: 1, append: ['z'], ttl: 50 }));
    await store.claim({ sid: 'alive', owner: 'c', peerRecv: 0, ttl: TTL, keyHash: '' });
    await waitUntil(
      async () => {
        const left = await Promise.all(
          ['reap:{gone}:s', 'reap:{back}:s'].map((key) => redisClient().pTTL(key)),
        );
        return left.every((ms) => ms <= REAP_GRACE_MS);
      },
      { timeoutMs: 2000, message: 'both short-lived sessions to expire' },
    );
    // A client that comes back late, before any server reaped its session, still resumes it.
    expect(
      await store.claim({ sid: 'back', owner: 'late', peerRecv: 0, ttl: TTL, keyHash: '' }),
    ).toMatchObject({
      status: 'resumed',
      pending: ['z'],
    });
    expect(await store.reap?.(10)).toEqual([{ sid: 'gone', undelivered: [binary, 'a3'] }]);
    expect(await store.reap?.(10)).toEqual([]);
    expect(await redisClient().exists(['reap:{gone}:s', 'reap:{gone}:o'])).toBe(0);
    expect(await store.stats()).toEqual({ sessions: 2, bufferedBytes: 1 });
  });

  it('costs one script call per batch for the session, however many messages it carries, and one or two for the counts', async () => {
    const commandsOfOneBatch = async (prefix: string, limited: boolean) => {
      const store = createRedisStore({
        client: redisClient(),
        keyPrefix: prefix,
        ...(limited ? { maxTotalBufferedBytes: 1_000_000 } : {}),
      });
      await store.claim({ sid: 'c', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
      await store.commit('c', 'a', batch({ written: 1, append: ['warm'] })); // loads the scripts
      await redisClient().configResetStat();
      const payloads = Array.from({ length: 100 }, (_, n) => `m${n}`);
      await store.commit('c', 'a', batch({ recv: 100, acked: 1, written: 101, append: payloads }));
      // The release after the batch is not waited for; the INFO behind it on this connection is.
      const stats = await redisClient().info('commandstats');
      return Object.fromEntries(
        [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].map(([, name, count]) => [name, Number(count)]),
      );
    };
    // commandstats also counts the commands a script runs. The session's script (one slot): HGET
    // of the owner, HMGET, one RPUSH for the 100 messages, one LRANGE + LTRIM for the bytes the
    // ack drops, HSET, two PEXPIRE. The counts' script (another slot): HGET of the owner and of
    // the reservation, HSET + INCRBY, once after the batch (no limit: the net change) ...
    expect(await commandsOfOneBatch('cost:', false)).toEqual({
      evalsha: 2,
      hget: 3,
      hmget: 1,
      lrange: 1,
      rpush: 1,
      ltrim: 1,
      hset: 2,
      pexpire: 2,
      incrby: 1,
    });
    // ... or, with maxTotalBufferedBytes, once before it (reserving what it adds, with a GET of
    // the total) and once after (releasing what its ack dropped).
    expect(await commandsOfOneBatch('cost-limited:', true)).toEqual({
      evalsha: 3,
      get: 1,
      hget: 5,
      hmget: 1,
      lrange: 1,
      rpush: 1,
      ltrim: 1,
      hset: 3,
      pexpire: 2,
      incrby: 2,
    });
  });

  it('reports STORE_UNAVAILABLE when Redis does not answer within commandTimeout, and works again after', async () => {
    const store = createRedisStore({ client: redisClient(), keyPrefix: 'slow:', commandTimeout: 100 });
    await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
    const pid = (redis as RedisServer).pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await expect(store.commit('s', 'a', batch({ recv: 1 }))).rejects.toMatchObject({
        name: 'TetherServerError',
        code: 'STORE_UNAVAILABLE',
        message: 'Redis session store: EVALSHA failed: no answer from Redis within 100 ms',
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await store.commit('s', 'a', batch({ recv: 2 }))).toBe('stored');
  });

  it('loads its scripts again after Redis forgot them (SCRIPT FLUSH, as after a restart)', async () => {
    const store = createRedisStore({ client: redisClient(), keyPrefix: 'flush:' });
    await store.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
    await redisClient().scriptFlush();
    expect(await store.commit('s', 'a', batch({ recv: 1 }))).toBe('stored');
  });

  it('runs high, never low, when a server dies between two steps, and puts it right: the next claim settles its bytes, reap() unlists a session never created', async () => {
    const keyPrefix = 'drift:';
    const counts = ['index', 'bytes', 'ver', 'settled', 'owner', 'reserved', 'withdrawn'].map(
      (name) => `${keyPrefix}{#counts}:${name}`,
    );
    const step = (script: { source: string }, args: string[]) =>
      redisClient().sendCommand(['EVAL', script.source, String(counts.length), ...counts, ...args]);
    const first = createRedisStore({ client: redisClient(), keyPrefix, maxTotalBufferedBytes: 100 });
    const second = createRedisStore({ client: redisClient(), keyPrefix, maxTotalBufferedBytes: 100 });
    await first.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: '' });
    expect(await first.commit('s', 'a', batch({ written: 1, append: ['12345'] }))).toBe('stored');
    // Server a reserved 40 bytes for its next batch and died before the commit.
    expect(await step(ADJUST, ['s', 'a', '40', '100'])).toBe(1);
    expect(await first.stats()).toEqual({ sessions: 1, bufferedBytes: 45 });
    // The resume elsewhere settles the reservation to what the session holds ...
    expect(await second.claim({ sid: 's', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' })).toMatchObject({
      status: 'resumed',
      pending: ['12345'],
    });
    expect(await second.stats()).toEqual({ sessions: 1, bufferedBytes: 5 });
    // ... and a late release of the old owner's changes nothing (else the count would run low).
    expect(await step(ADJUST, ['s', 'a', '-40', '-1'])).toBe(0);
    expect(await second.commit('s', 'b', batch({ written: 2, append: ['67'] }))).toBe('stored');
    expect(await second.stats()).toEqual({ sessions: 1, bufferedBytes: 7 });
    // A server listed a new session and died before creating it: counted until its window passed
    // and a reap() found no keys.
    expect(await step(ENLIST, ['ghost', '50', '-1'])).toEqual(['added', 1]);
    expect(await second.stats()).toEqual({ sessions: 2, bufferedBytes: 7 });
    await waitUntil(
      async () => {
        await second.reap?.(10);
        return (await second.stats()).sessions === 1;
      },
      { timeoutMs: 2000, message: 'the session never created to be unlisted' },
    );
  });

  /**
   * A client that runs `hooks[sha]` once, just before the first call of that script: another
   * server's steps land exactly between two of this store's.
   */
  function interleaved(hooks: Map<string, () => Promise<void>>) {
    return {
      async sendCommand(args: ReadonlyArray<string | Buffer>, options?: object) {
        const hook = args[0] === 'EVALSHA' ? hooks.get(String(args[1])) : undefined;
        if (hook !== undefined) {
          hooks.delete(String(args[1]));
          await hook();
        }
        return redisClient().sendCommand(args as Array<string | Buffer>, options);
      },
    };
  }

  it('leaves the counts to the session when a first hello for its id is refused after being listed (the session appeared after PEEK)', async () => {
    const keyPrefix = 'appeared:';
    const legit = createRedisStore({ client: redisClient(), keyPrefix, maxSessions: 1 });
    const hooks = new Map<string, () => Promise<void>>();
    const late = createRedisStore({ client: interleaved(hooks), keyPrefix, maxSessions: 1 });
    // The late hello found no session (PEEK); the legitimate one is created before it is listed.
    hooks.set(ENLIST.sha, async () => {
      expect(await legit.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: 'aa11' })).toEqual({
        status: 'created',
      });
    });
    expect(await late.claim({ sid: 's', owner: 'x', peerRecv: 0, ttl: TTL, keyHash: 'bb22' })).toEqual({
      status: 'wrong-key',
    });
    expect(await legit.stats()).toEqual({ sessions: 1, bufferedBytes: 0 });
    expect(await legit.remove('s', 'a')).toBe(true);
    expect(await legit.stats()).toEqual({ sessions: 0, bufferedBytes: 0 });
    expect(await legit.claim({ sid: 't', owner: 'b', peerRecv: 0, ttl: TTL, keyHash: '' })).toEqual({
      status: 'created',
    });
  });

  it('unlists a session that ended while a claim it refused was still listed (its own unlisting then did nothing)', async () => {
    const keyPrefix = 'ended-meanwhile:';
    const legit = createRedisStore({ client: redisClient(), keyPrefix, maxSessions: 1 });
    const hooks = new Map<string, () => Promise<void>>();
    const late = createRedisStore({ client: interleaved(hooks), keyPrefix, maxSessions: 1 });
    hooks.set(ENLIST.sha, async () => {
      await legit.claim({ sid: 's', owner: 'a', peerRecv: 0, ttl: TTL, keyHash: 'aa11' });
    });
    // CLAIM refused the late hello; the session ends before the late claim withdraws.
    hooks.set(WITHDRAW.sha, async () => {
      expect(await legit.remove('s', 'a')).toBe(true);
      expect(await legit.stats()).toEqual({ sessions: 1, bufferedBytes: 0 }); // the late claim's listing
    });
    expect(await late.claim({ sid: 's', owner: 'x', peerRecv: 0, ttl: TTL, keyHash: 'bb22' })).toEqual({
      status: 'wrong-key',
    });
    expect(await legit.stats()).toEqual({ sessions: 0, bufferedBytes: 0 });
  });

  it('never lets concurrent writers of two servers take the bytes buffered over maxTotalBufferedBytes', async () => {
    const keyPrefix = 'race:';
    const stores = [0, 1].map(() =>
      createRedisStore({ client: redisClient(), keyPrefix, maxTotalBufferedBytes: 1000 }),
    );
    const sids = Array.from({ length: 20 }, (_, n) => `r${n}`);
    await Promise.all(
      sids.map((sid, n) => stores[n % 2]?.claim({ sid, owner: sid, peerRecv: 0, ttl: TTL, keyHash: '' })),
    );
    // 20 sessions x 10 batches of 9 bytes: 1800 bytes wanted, 1000 allowed.
    const results = await Promise.all(
      sids.map(async (sid, n) => {
        const outcomes: string[] = [];
        for (let k = 0; k < 10; k++) {
          const outcome = await stores[n % 2]?.commit(
            sid,
            sid,
            batch({ written: k + 1, append: ['123456789'] }),
          );
          outcomes.push(String(outcome));
          if (outcome !== 'stored') break;
        }
        return outcomes;
      }),
    );
    const stored = results.flat().filter((outcome) => outcome === 'stored').length;
    expect(stored * 9).toBeLessThanOrEqual(1000);
    expect(stored).toBe(Math.floor(1000 / 9)); // refused only when the next 9 bytes did not fit
    expect(
      results
        .flat()
        .filter((outcome) => outcome !== 'stored')
        .every((outcome) => outcome === 'full'),
    ).toBe(true);
    expect(await stores[0]?.stats()).toEqual({ sessions: 20, bufferedBytes: stored * 9 });
  });

  it('rejects bad options with INVALID_OPTION, naming the option and what it accepts', () => {
    expect(() => createRedisStore({ client: {} as Client })).toThrow(
      'Invalid option "client": got object; expected a connected node-redis client (createClient() or createCluster() from "redis").',
    );
    expect(() => createRedisStore({ client: redisClient(), keyPrefix: 'a{b}' })).toThrow(
      'Invalid option "keyPrefix": got "a{b}"; expected a string of 1 to 64 characters without "{" or "}".',
    );
    expect(() => createRedisStore({ client: redisClient(), maxSessions: 0 })).toThrow(
      'Invalid option "maxSessions": got 0; expected an integer >= 1, or Infinity.',
    );
  });
});
