/**
 * The adapter on the Redis store (tether-ws/server/redis), with a real redis-server started for
 * this file and raw tether.v1 peers: two adapters sharing one Redis stand for two nodes. What is
 * checked is the order of things on the wire against what Redis holds: nothing reaches a
 * connection, and nothing is acknowledged, before it is stored; a node whose session moved cannot
 * write to it; a Redis that stops answering closes connections with codes clients retry (1011,
 * 1013), and the sessions resume from what was stored once it is back.
 *
 * Redis is paused with SIGSTOP (it then holds every command unanswered, like a stalled server),
 * and a ping answered by a pong proves the adapter handled everything sent before it.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TetherSession } from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import { waitFor } from '../helpers/next-event.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { acknowledge, serve, teardown } from '../helpers/tether-server.js';
import { hello, textMessage, type WirePeer } from '../helpers/tether-wire.js';

const RUN = redisAvailable('tether-redis');
const WAIT_MS = 5000;

type Client = ReturnType<typeof createClient>;
let redis: RedisServer | undefined;
let client: Client | undefined;
let prefixes = 0;

beforeAll(async () => {
  if (!RUN) return;
  redis = await startRedis();
  client = createClient({ url: redis.url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
});

afterEach(async () => {
  if (redis) process.kill(redis.pid, 'SIGCONT'); // a failed test may leave it paused
  await teardown();
});

afterAll(async () => {
  client?.destroy();
  await redis?.stop();
});

/** Two nodes: adapters with their own store objects on one Redis, under one prefix. */
async function twoNodes(commandTimeout = 2000, maxTotalBufferedBytes = Number.POSITIVE_INFINITY) {
  const keyPrefix = `n${++prefixes}:`;
  const node = () =>
    serve({
      store: createRedisStore({ client: client as Client, keyPrefix, commandTimeout, maxTotalBufferedBytes }),
    });
  return { a: await node(), b: await node() };
}

/** Echo on every session of `sessions` as they appear. */
function echo(server: Awaited<ReturnType<typeof serve>>): void {
  server.tether.on('session', (session) => session.on('message', (data) => session.send(data)));
}

/** Waits until the server has handled everything `peer` sent so far. */
async function handled(peer: WirePeer): Promise<void> {
  const pongs = () => peer.frames.filter((frame) => frame.type === 'pong').length;
  const before = pongs();
  peer.send('__ping__');
  await peer.until(() => pongs() > before, 'pong');
}

function pause(): void {
  process.kill((redis as RedisServer).pid, 'SIGSTOP');
}

function resume(): void {
  process.kill((redis as RedisServer).pid, 'SIGCONT');
}

describe.runIf(RUN)('createTetherServer({ store: createRedisStore() })', () => {
  it('resumes on another node a session the first node held: its counters, its unacknowledged messages, then `session` and `resume` there', async () => {
    const { a, b } = await twoNodes();
    const { peer: first, welcome } = await a.connect('moving');
    expect(welcome).toMatchObject({ resumed: false, recv: 0 });
    const held = a.sessions[0] as TetherSession;
    first.send(textMessage(1, 'c1'));
    held.send('s1');
    held.send('s2');
    await first.until((frames) => frames.filter((f) => f.type === 'message').length === 2, 'two messages');
    await first.until((frames) => frames.some((f) => f.type === 'ack'), 'ack of c1');
    first.terminate();

    const events: string[] = [];
    b.tether.on('session', (session) => {
      events.push('session');
      session.on('resume', ({ resent }) => events.push(`resume ${resent}`));
    });
    const { peer: second, welcome: again } = await b.connect('moving', 1);
    expect(again).toMatchObject({ type: 'welcome', resumed: true, recv: 1 });
    expect(await second.next()).toMatchObject({ type: 'message', seq: 2, data: 's2' });
    expect(events).toEqual(['session', 'resume 1']);
    (b.sessions[0] as TetherSession).send('s3');
    expect(await second.next()).toMatchObject({ type: 'message', seq: 3, data: 's3' });
  });

  it('writes nothing to the connection and acknowledges nothing before the batch is in Redis', async () => {
    const { a } = await twoNodes(60_000);
    echo(a);
    const { peer } = await a.connect('ahead');
    pause();
    peer.send(textMessage(1, 'c1'));
    await handled(peer);
    (a.sessions[0] as TetherSession).send('pushed');
    await handled(peer);
    // The handler ran and replied, the push was accepted: none of it may be on the wire yet.
    expect(peer.frames.filter((frame) => frame.type !== 'pong' && frame.type !== 'welcome')).toEqual([]);
    resume();
    await peer.until((frames) => frames.some((f) => f.type === 'ack'), 'the ack once stored', WAIT_MS);
    expect(peer.messages().map(({ seq, data }) => [seq, data])).toEqual([
      [1, 'c1'],
      [2, 'pushed'],
    ]);
    expect(peer.acks()).toEqual([1]);
  });

  it('closes with 1011 when Redis does not answer, and the client resumes from what was stored once it is back', async () => {
    const { a, b } = await twoNodes(150);
    echo(a);
    echo(b);
    const { peer } = await a.connect('outage');
    peer.send(textMessage(1, 'c1'));
    await peer.until((frames) => frames.some((f) => f.type === 'ack'), 'ack of c1');
    const released = waitFor(a.sessions[0] as TetherSession, 'released', { timeoutMs: WAIT_MS });
    pause();
    peer.send(textMessage(2, 'c2'));
    expect(await peer.closed).toEqual({ code: 1011, reason: 'Session store unavailable' });
    expect(await released).toEqual({ reason: 'store-unavailable', unstored: ['c2'] });
    resume();
    // The timed-out batch (c2 and its echo) had reached Redis, which applies it once it runs again:
    // safe, as it is one batch under A's token, which nobody had fenced. So the session resumes with
    // c2 received (the client drops it from its buffer) and its echo pending, resent once by B.
    // Had the batch been lost instead, recv would be 1 and the client would resend c2.
    const { peer: again, welcome } = await b.connect('outage', 1);
    expect(welcome).toMatchObject({ resumed: true, recv: 2 });
    expect(await again.next()).toMatchObject({ type: 'message', seq: 2, data: 'c2' });
    await acknowledge(again, 2);
    expect(again.messages().map(({ data }) => data)).toEqual(['c2']);
  });

  it('reports a batch still in flight at tether.close() as unstored: it may or may not be in Redis', async () => {
    const { a } = await twoNodes(60_000);
    const { peer } = await a.connect('closing');
    const session = a.sessions[0] as TetherSession;
    session.send('stored');
    // On the wire only once stored: from here on, the batch below is the only one in flight.
    await peer.until(() => peer.messages().length === 1, 'the first message, stored');
    pause();
    session.send('in flight');
    const released = waitFor(session, 'released', { timeoutMs: WAIT_MS });
    a.tether.close();
    expect(await released).toEqual({ reason: 'shutdown', unstored: ['in flight'] });
    resume();
  });

  it('holds maxTotalBufferedBytes across nodes: the send that takes the bytes buffered in Redis over it ends its own session (evicted, bye, 1013)', async () => {
    // 10 bytes across both nodes; each node's own limit (128 MiB) is nowhere near.
    const { a, b } = await twoNodes(2000, 10);
    const { peer: onA } = await a.connect('heavy');
    const { peer: onB } = await b.connect('light');
    const heavy = a.sessions[0] as TetherSession;
    const light = b.sessions[0] as TetherSession;
    heavy.send('12345678'); // never acknowledged: 8 bytes stay in Redis
    await onA.until(() => onA.messages().length === 1, 'the 8 bytes, stored');
    const lost = waitFor(light, 'lost', { timeoutMs: WAIT_MS });
    light.send('abc'); // 8 + 3 > 10
    expect(await lost).toEqual({ reason: 'evicted', undelivered: ['abc'] });
    expect(await onB.closed).toEqual({ code: 1013, reason: 'Server over its limits, try again later' });
    expect(onB.frames.some((frame) => frame.type === 'bye')).toBe(true);
    expect(b.tether.stats.ended.evicted).toBe(1);
    // The other node's session is untouched, and once it is acknowledged there is room again.
    expect(heavy.state).toBe('attached');
    // Both nodes share one node-redis connection here, so A's ack is applied before B's next claim.
    await acknowledge(onA, 1);
    const { peer: again } = await b.connect('light-2');
    (b.sessions[1] as TetherSession).send('abc');
    await again.until(() => again.messages().length === 1, 'abc, stored now');
  });

  it('refuses a hello with 1013 while Redis does not answer, holding nothing', async () => {
    const { a } = await twoNodes(150);
    pause();
    const peer = await a.open('early');
    peer.send(hello('early', 0));
    expect(await peer.closed).toEqual({ code: 1013, reason: 'Session store unavailable' });
    expect(a.tether.sessions).toBe(0);
  });

  it('fences a node cut off from its client: after a takeover elsewhere its writes are refused, its connection closed 4001, and nothing of it reaches either connection', async () => {
    const { a, b } = await twoNodes();
    echo(a);
    echo(b);
    const { peer: cutOff } = await a.connect('split');
    cutOff.send(textMessage(1, 'c1'));
    await cutOff.until((frames) => frames.some((f) => f.type === 'ack'), 'ack of c1');
    // The client gives up on its first connection (black-holed as far as it can tell: A still
    // thinks it attached) and resumes through B.
    const { peer: current, welcome } = await b.connect('split', 1);
    expect(welcome).toMatchObject({ resumed: true, recv: 1 });

    const onA = a.sessions[0] as TetherSession;
    expect(onA.state).toBe('attached');
    const released = waitFor(onA, 'released', { timeoutMs: WAIT_MS });
    const framesBefore = cutOff.frames.length;
    onA.send('stale write');
    expect(await released).toEqual({ reason: 'taken-over', unstored: ['stale write'] });
    expect(await cutOff.closed).toEqual({ code: 4001, reason: 'Session taken over' });
    expect(cutOff.frames.slice(framesBefore)).toEqual([]);

    // B owns the session: it goes on from seq 2, and the stale write never shows up.
    current.send(textMessage(2, 'c2'));
    expect(await current.next()).toMatchObject({ type: 'message', seq: 2, data: 'c2' });
    await acknowledge(current, 2);
    expect(current.messages().map(({ seq, data }) => [seq, data])).toEqual([[2, 'c2']]);
  });
});
