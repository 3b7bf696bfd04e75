/**
 * The adapter on the Redis store over a real Redis Cluster: three masters started for this file
 * (../helpers/redis-cluster-server.ts), two adapters each with its own `createCluster()` client,
 * as two servers would have. The session's keys and the store-wide counts sit on different
 * masters (checked), so every step of a write crosses nodes: a script that took keys of two slots
 * would be refused by Redis (CROSSSLOT). Raw tether.v1 peers stand for the client, resending what
 * the welcome's `recv` says the server lacks and dropping what it already received, as the
 * exactly-once client does.
 */
import { createClient, createCluster } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SessionStore, TetherSession } from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { type RedisClusterServers, startRedisClusterServers } from '../helpers/redis-cluster-server.js';
import { redisAvailable } from '../helpers/redis-server.js';
import { acknowledge, type Served, serve, teardown } from '../helpers/tether-server.js';
import { textMessage, type WirePeer } from '../helpers/tether-wire.js';

const RUN = redisAvailable('tether-redis-cluster');
const WAIT_MS = 5000;

let servers: RedisClusterServers | undefined;
const clients: Array<{ destroy(): void }> = [];
let prefixes = 0;

beforeAll(async () => {
  if (RUN) servers = await startRedisClusterServers(3);
}, 30_000);

afterEach(async () => {
  await teardown();
  for (const client of clients.splice(0)) client.destroy();
});

afterAll(async () => {
  await servers?.stop();
});

async function clusterClient() {
  const client = createCluster({ rootNodes: [...(servers as RedisClusterServers).rootNodes] });
  client.on('error', () => {});
  clients.push(client);
  return client.connect();
}

/** Two servers on the cluster, each with its own cluster client and store object, one prefix. */
async function twoNodes(limits: { maxTotalBufferedBytes?: number; maxSessions?: number } = {}) {
  const keyPrefix = `k${++prefixes}:`;
  const stores = [0, 1].map(async () =>
    createRedisStore({ client: await clusterClient(), keyPrefix, ...limits }),
  );
  const [storeA, storeB] = await Promise.all(stores);
  return {
    a: await serve({ store: storeA }),
    b: await serve({ store: storeB }),
    storeA: storeA as SessionStore,
    keyPrefix,
  };
}

/** The port of the master that serves `key`'s slot. */
async function masterOf(key: string): Promise<number> {
  const probe = createClient({ url: (servers as RedisClusterServers).rootNodes[0]?.url });
  await probe.connect();
  try {
    const slot = Number(await probe.sendCommand(['CLUSTER', 'KEYSLOT', key]));
    const ranges = (await probe.sendCommand(['CLUSTER', 'SLOTS'])) as Array<
      [number, number, [string, number]]
    >;
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    return Number(range?.[2][1]);
  } finally {
    probe.destroy();
  }
}

/** A session id whose keys live on another master than the store-wide counts. */
async function sidAwayFromCounts(keyPrefix: string): Promise<string> {
  const counts = await masterOf(`${keyPrefix}{#counts}:index`);
  for (let n = 0; n < 50; n++) {
    if ((await masterOf(`${keyPrefix}{moving-${n}}:s`)) !== counts) return `moving-${n}`;
  }
  throw new Error('no session id away from the counts in 50 tries');
}

/** The client side of exactly-once over raw peers: what it received (deduplicated by seq), and what it must resend. */
class Client {
  readonly received: string[] = [];
  #lastSeq = 0;
  #sent: string[] = [];

  constructor(readonly sid: string) {}

  /** Takes the peer's new server messages, in order, each seq once. */
  take(peer: WirePeer): void {
    for (const { seq, data } of peer.messages()) {
      if (seq !== this.#lastSeq + 1) continue; // resent, already had it
      this.#lastSeq = seq;
      this.received.push(String(data));
    }
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  send(peer: WirePeer, text: string): void {
    this.#sent.push(text);
    peer.send(textMessage(this.#sent.length, text));
  }

  /** After a welcome with `recv`: resends every client message the server does not hold. */
  resend(peer: WirePeer, recv: number): void {
    for (let seq = recv + 1; seq <= this.#sent.length; seq++)
      peer.send(textMessage(seq, this.#sent[seq - 1] as string));
  }
}

describe.runIf(RUN)('createRedisStore({ client: createCluster() })', () => {
  it('moves a session between two servers and back mid-stream, each message exactly once in both directions', async () => {
    const { a, b, keyPrefix } = await twoNodes();
    const sid = await sidAwayFromCounts(keyPrefix);
    const handled: string[] = [];
    const onSession = (name: string, node: Served) =>
      node.tether.on('session', (session) =>
        session.on('message', (data) => {
          handled.push(String(data));
          session.send(`echo ${String(data)} from ${name}`);
        }),
      );
    onSession('a', a);
    onSession('b', b);
    const client = new Client(sid);

    const { peer: onA } = await a.connect(sid);
    for (const n of [1, 2, 3]) client.send(onA, `c${n}`);
    await onA.until(() => onA.messages().length === 3, 'three echoes');
    (a.sessions[0] as TetherSession).send('push 1');
    await onA.until(() => onA.messages().length === 4, 'the push');
    client.take(onA);
    await acknowledge(onA, 2); // two acknowledged, two stored and unacknowledged
    client.send(onA, 'c4');
    // Its echo on the wire means c4 and the echo are stored: neither is lost or done twice below.
    await onA.until(() => onA.messages().length === 5, 'echo of c4');
    onA.terminate(); // echo c3, push 1, echo c4: stored, never acknowledged

    const { peer: onB, welcome } = await b.connect(sid, client.lastSeq);
    expect(welcome).toMatchObject({ resumed: true, recv: 4 });
    client.resend(onB, 4); // nothing to resend
    client.send(onB, 'c5');
    await onB.until(
      () => handled.length === 5 && onB.messages().some((m) => String(m.data).includes('c5')),
      'c5 echoed',
    );
    client.take(onB);
    (b.sessions[0] as TetherSession).send('push 2');
    await onB.until(() => onB.messages().some((m) => m.data === 'push 2'), 'push 2');
    client.take(onB);
    onB.terminate();

    // And back to the first server, which must not take its old copy for the truth.
    const { peer: again, welcome: back } = await a.connect(sid, client.lastSeq);
    expect(back).toMatchObject({ resumed: true, recv: 5 });
    client.send(again, 'c6');
    await again.until(() => again.messages().some((m) => String(m.data).includes('c6')), 'c6 echoed');
    client.take(again);

    expect(handled).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(client.received).toEqual([
      'echo c1 from a',
      'echo c2 from a',
      'echo c3 from a',
      'push 1',
      'echo c4 from a',
      'echo c5 from b',
      'push 2',
      'echo c6 from a',
    ]);
  });

  it('holds maxTotalBufferedBytes across both servers, counted on another master than the sessions', async () => {
    const { a, b, storeA } = await twoNodes({ maxTotalBufferedBytes: 10 });
    const { peer: onA } = await a.connect('heavy');
    const { peer: onB } = await b.connect('light');
    const heavy = a.sessions[0] as TetherSession;
    const light = b.sessions[0] as TetherSession;
    heavy.send('12345678'); // never acknowledged: 8 bytes stay reserved
    await onA.until(() => onA.messages().length === 1, 'the 8 bytes, stored');
    const lost = waitFor(light, 'lost', { timeoutMs: WAIT_MS });
    light.send('abc'); // 8 + 3 > 10
    expect(await lost).toEqual({ reason: 'evicted', undelivered: ['abc'] });
    expect(await onB.closed).toEqual({ code: 1013, reason: 'Server over its limits, try again later' });
    // Acknowledged on A: released after A's commit, on A's own connections; then B has room.
    await acknowledge(onA, 1);
    await waitUntil(async () => (await storeA.stats()).bufferedBytes === 0, {
      timeoutMs: WAIT_MS,
      message: "A's release of the 8 bytes",
    });
    const { peer: again } = await b.connect('light-2');
    (b.sessions[1] as TetherSession).send('abc');
    await again.until(() => again.messages().length === 1, 'abc, stored now');
  });
});
