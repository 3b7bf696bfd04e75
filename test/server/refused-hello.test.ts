/**
 * A refused hello changes nothing of the session it names (issue 23): not its store-wide counts,
 * its version or its expiry. Session ids are public (they travel in URLs), so if a hello with a
 * wrong key could leave a session counted after it ended, anyone who saw ids could lock a cluster
 * out of new sessions. Two adapters share one store, as two nodes do: the memory store (two
 * adapters given one), and Redis (a redis-server started for this file). Node A holds the
 * legitimate sessions; node B gets the wrong-key hellos; once the sessions end, a newcomer is
 * admitted at once, within the store's `maxSessions` and `maxTotalBufferedBytes`.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  type SessionLost,
  type SessionStore,
  type TetherSession,
} from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { BYE } from '../../protocol/constants.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { type Served, serve, teardown } from '../helpers/tether-server.js';
import { hello } from '../helpers/tether-wire.js';

const RUN_REDIS = redisAvailable('refused-hello');
/** Far below the resume window plus the store's lease (70 s), for which the counts used to stay. */
const WAIT_MS = 3000;
const WRONG_KEY = 'not-the-key-0123456789abcdef';

type Client = ReturnType<typeof createClient>;
let redis: RedisServer | undefined;
let client: Client | undefined;
let prefixes = 0;

beforeAll(async () => {
  if (!RUN_REDIS) return;
  redis = await startRedis();
  client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
}, 30_000);

afterEach(() => teardown());

afterAll(async () => {
  client?.destroy();
  await redis?.stop();
});

type Limits = { maxSessions?: number; maxTotalBufferedBytes?: number };

const stores: Array<[string, (limits: Limits) => () => SessionStore, boolean]> = [
  [
    'memory store',
    (limits) => {
      const store = createMemoryStore(limits);
      return () => store;
    },
    true,
  ],
  [
    'Redis store',
    (limits) => {
      const keyPrefix = `r${++prefixes}:`;
      return () => createRedisStore({ client: client as Client, keyPrefix, ...limits });
    },
    RUN_REDIS,
  ],
];

/** Two nodes on one store; the default resume window (60 s), so a leftover count would last. */
async function twoNodes(
  storeFor: () => SessionStore,
): Promise<{ a: Served; b: Served; store: SessionStore }> {
  const store = storeFor();
  return { a: await serve({ store }), b: await serve({ store: storeFor() }), store };
}

/** A hello for `sid` with the wrong key, on `node`: refused with 1008, as promised. */
async function wrongKeyHello(node: Served, sid: string): Promise<void> {
  const peer = await node.open(sid);
  peer.send(hello(sid, 0, WRONG_KEY));
  expect(await peer.closed).toEqual({ code: 1008, reason: 'Session refused' });
}

/** Each peer says bye; resolves once each session reported `lost` `'closed'`. */
async function endAll(sessions: readonly TetherSession[], peers: Array<{ send(frame: string): void }>) {
  const lost = sessions.map((session) => waitFor<SessionLost>(session, 'lost', { timeoutMs: WAIT_MS }));
  for (const peer of peers) peer.send(BYE);
  expect((await Promise.all(lost)).map((report) => report.reason)).toEqual(sessions.map(() => 'closed'));
}

describe.each(stores)('a refused hello on the %s', (_name, makeStore, run) => {
  it.runIf(run)(
    'leaves maxSessions as it was: once the sessions it named end, new sessions are admitted at once',
    async () => {
      const { a, b, store } = await twoNodes(makeStore({ maxSessions: 3 }));
      const sids = ['held-1', 'held-2', 'held-3'];
      const peers = [];
      for (const sid of sids) peers.push((await a.connect(sid)).peer);
      // Full: a fourth session is refused (1013), on either node.
      const extra = await b.open('extra');
      extra.send(hello('extra', 0));
      expect(await extra.closed).toEqual({ code: 1013, reason: 'Server busy, try again later' });
      for (const sid of sids) await wrongKeyHello(b, sid);
      expect(b.tether.stats.refused['wrong-key']).toBe(3);
      await endAll(a.sessions, peers);
      await waitUntil(async () => (await store.stats()).sessions === 0, {
        timeoutMs: WAIT_MS,
        message: 'the store to count the ended sessions gone',
      });
      for (const sid of ['new-1', 'new-2', 'new-3']) {
        const { welcome } = await b.connect(sid);
        expect(welcome).toMatchObject({ resumed: false });
      }
    },
  );

  it.runIf(run)(
    'leaves maxTotalBufferedBytes as it was: once the session it named ends, its bytes are free again',
    async () => {
      const { a, b, store } = await twoNodes(makeStore({ maxTotalBufferedBytes: 5000 }));
      const { peer } = await a.connect('heavy');
      const heavy = a.sessions[0] as TetherSession;
      heavy.send('x'.repeat(3000)); // never acknowledged: 3,000 B stay buffered in the store
      await peer.until(() => peer.messages().length === 1, 'the 3,000 B, stored');
      await wrongKeyHello(b, 'heavy');
      await endAll([heavy], [peer]);
      await waitUntil(async () => (await store.stats()).bufferedBytes === 0, {
        timeoutMs: WAIT_MS,
        message: 'the store to release the bytes of the ended session',
      });
      const { peer: newcomer } = await b.connect('newcomer');
      const session = b.sessions[0] as TetherSession;
      session.send('y'.repeat(4000)); // 4,000 B: over the limit if the 3,000 were still counted
      await newcomer.until(() => newcomer.messages().length === 1, 'the 4,000 B, stored');
      expect(session.state).toBe('attached');
      expect(await store.stats()).toEqual({ sessions: 1, bufferedBytes: 4000 });
    },
  );

  it.runIf(run)(
    'refused for the limit of the server it reached, a resume leaves the session with the server holding it',
    async () => {
      const store = makeStore({})();
      const a = await serve({ store });
      const b = await serve({ store, maxSessions: 1 });
      const { peer } = await a.connect('moving');
      const held = a.sessions[0] as TetherSession;
      await b.connect('busy'); // b holds its one session, attached
      const again = await b.open('moving');
      again.send(hello('moving', 0));
      expect(await again.closed).toEqual({ code: 1013, reason: 'Server busy, try again later' });
      // Still a's: its next message is stored and written (a claim by b would have fenced it, 4001).
      held.send('still here');
      await peer.until(() => peer.messages().length === 1, 'the message, stored by its holder');
      expect(held.state).toBe('attached');
    },
  );
});
