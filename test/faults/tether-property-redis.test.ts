/**
 * The adapter's property test (tether-property.test.ts) against the Redis store, with node crashes
 * among its steps. Three adapters (three ws servers in this process) share one private
 * redis-server; the fault proxy in front of them is the load balancer, sending each new connection
 * to the next live node (round robin), so a reconnect usually resumes the session on another node.
 *
 * A `crash` step kills a node the way a process dies (test/helpers/redis-cluster.ts: its Redis
 * connection destroyed first, then its sockets reset; never `tether.close()`), and a new node
 * takes its place. The other steps are those of the memory-store test: sends both ways, terminates, TCP
 * resets, frames cut mid-way, reconnects (takeovers of a connection the server believes open).
 *
 * What must hold, per session (docs/protocol.md §9):
 * - client → server: every client message reaches a handler, in order; a handler may see a message
 *   again after the node that handled it lost the session before storing that (at least once,
 *   with the same seq and payload), and what the handler `send()`s in reply (`\0r<seq>`) reaches
 *   the client exactly once and in order: the transactional outbox.
 * - server → client: what `session.send()` accepted reaches the client at most once, in order, and
 *   every message not reported in a `released` event's `unstored` (that is, known to be stored)
 *   reaches it. Server messages are tagged (`s<n>:`) so a loss, a repeat or a reordering shows.
 * - no `lost` on the server, no `resumed: false`, gap or `session-lost` on the client.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import type { TetherSession } from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { createFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { waitUntil } from '../helpers/next-event.js';
import {
  type CommonAction,
  commonActions,
  describePayloads,
  type Payload,
  performFault,
} from '../helpers/property-payloads.js';
import { type ClusterNode, type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';
import { MiniTetherClient } from '../helpers/tether-wire.js';

const RUN = redisAvailable('tether-property-redis');
const NODES = 3;
/** Prefix of a handler's reply. fc.string() yields printable ASCII only: no other payload has it. */
const REPLY = '\u0000r';

type Action =
  | CommonAction
  /** Kills the node holding the session, or another one, and starts a new node in its place. */
  | { kind: 'crash'; node: 'holder' | 'other' };

const action: fc.Arbitrary<Action> = fc.oneof<Array<fc.WeightedArbitrary<Action>>>(...commonActions, {
  weight: 2,
  arbitrary: fc.constantFrom('holder', 'other').map((node) => ({ kind: 'crash' as const, node })),
});

/** A message the test handed to `session.send()`. */
interface Sent {
  readonly tag: number;
  readonly payload: Payload;
  readonly session: TetherSession;
  /** Reported in `released`'s `unstored`: it may be lost with its node. */
  maybeLost: boolean;
}

interface ServerSide {
  /** The session of the latest `session` event, and the node that emitted it. */
  current: TetherSession | undefined;
  holder: ClusterNode | undefined;
  /** `session` events: 1, plus one per move to another node (or back). */
  sessions: number;
  /** The first delivery of each client seq, by seq - 1. */
  handled: Payload[];
  /** Seqs delivered again with another payload (never allowed). */
  mismatched: number[];
  redelivered: number;
  sent: Sent[];
  lost: string[];
  /** Nodes crashed during the run, and how many of them held the session then. */
  crashes: number;
  holderCrashes: number;
}

interface ClientSide {
  readonly sent: Payload[];
  readonly received: readonly Payload[];
  send(payload: Payload): void;
  terminate(): void;
  reconnect(): Promise<void>;
}

const tagged = (tag: number, p: Payload): Payload =>
  typeof p === 'string' ? `s${tag}:${p}` : Buffer.concat([Buffer.from(`s${tag}:`), p]);
const tagOf = (p: Payload) => Number(/^s(\d+):/.exec(typeof p === 'string' ? p : p.toString('latin1'))?.[1]);
const isReply = (p: Payload) => typeof p === 'string' && p.startsWith(REPLY);
const same = (a: Payload, b: Payload) => describePayloads([a])[0] === describePayloads([b])[0];

/** Records what `session` (on `node`) handles, sends and reports, in the side of its run. */
function recorder(sideFor: (sid: string) => ServerSide) {
  return (node: ClusterNode, session: TetherSession): void => {
    const side = sideFor(session.id);
    side.current = session;
    side.holder = node;
    side.sessions += 1;
    session.on('message', (data, _isBinary, { seq }) => {
      const first = side.handled[seq - 1];
      if (first === undefined) side.handled[seq - 1] = data;
      else {
        side.redelivered += 1;
        if (!same(first, data)) side.mismatched.push(seq);
      }
      session.send(`${REPLY}${seq}`);
    });
    session.on('lost', ({ reason }) => side.lost.push(reason));
    session.on('released', ({ unstored }) => {
      const keys = new Set(describePayloads(unstored));
      for (const entry of side.sent) {
        if (entry.session === session && keys.has(describePayloads([entry.payload])[0] as string)) {
          entry.maybeLost = true;
        }
      }
    });
  };
}

async function perform(
  actions: readonly Action[],
  cluster: RedisCluster,
  proxy: FaultProxy,
  client: ClientSide,
  side: ServerSide,
): Promise<void> {
  for (const step of actions) {
    switch (step.kind) {
      case 'client-send':
        for (const p of step.payloads) {
          client.send(p);
          client.sent.push(p);
        }
        break;
      case 'server-send':
        for (const p of step.payloads) {
          const session = side.current;
          if (session === undefined || session.state === 'ended') break; // nobody to accept it
          const tag = side.sent.length;
          const message = tagged(tag, p);
          session.send(message);
          side.sent.push({ tag, payload: message, session, maybeLost: false });
        }
        break;
      case 'crash': {
        const holder = side.holder?.alive ? side.holder : undefined;
        const victim =
          step.node === 'holder' ? holder : cluster.nodes.find((node) => node.alive && node !== holder);
        if (victim === undefined) break;
        side.crashes += 1;
        if (victim === holder) side.holderCrashes += 1;
        await cluster.crash(victim);
        break;
      }
      default:
        await performFault(step, client, proxy);
    }
  }
}

/** Waits (bounded, not fatal) until both sides have everything, then checks the list in the file's comment. */
async function expectDelivered(
  client: ClientSide,
  side: ServerSide,
  clientLost: readonly unknown[],
  meanwhile: () => Promise<void> = async () => {},
): Promise<void> {
  const replies = () => client.received.filter(isReply).map((p) => Number((p as string).slice(REPLY.length)));
  const messages = () => client.received.filter((p) => !isReply(p));
  const missing = () => {
    const tags = new Set(messages().map(tagOf));
    return side.sent.filter((entry) => !entry.maybeLost && !tags.has(entry.tag)).map(({ tag }) => tag);
  };
  await waitUntil(
    async () => {
      await meanwhile();
      return (
        replies().length >= client.sent.length &&
        side.handled.length >= client.sent.length &&
        missing().length === 0
      );
    },
    { timeoutMs: 5000, intervalMs: 5, message: 'both sides to receive what the other sent' },
  ).catch(() => undefined);
  expect(clientLost).toEqual([]);
  expect(side.lost).toEqual([]);
  // Client → server: every message handled, in order; a repeat (after a crash) is the same message.
  expect(describePayloads(side.handled)).toEqual(describePayloads(client.sent));
  expect(side.mismatched).toEqual([]);
  // ... and what the handler sent in reply is stored with the receive counter: exactly once.
  expect(replies()).toEqual(client.sent.map((_, i) => i + 1));
  // Server → client: at most once, in order, and nothing known to be stored is missing.
  const got = messages();
  const tags = got.map(tagOf);
  expect(new Set(tags).size).toBe(tags.length);
  const delivered = side.sent.filter((entry) => tags.includes(entry.tag)).map((entry) => entry.payload);
  expect(describePayloads(got)).toEqual(describePayloads(delivered));
  expect(missing()).toEqual([]);
}

const newSide = (): ServerSide => ({
  current: undefined,
  holder: undefined,
  sessions: 0,
  handled: [],
  mismatched: [],
  redelivered: 0,
  sent: [],
  lost: [],
  crashes: 0,
  holderCrashes: 0,
});

/** The whole run's figures, printed once: a property that never crashed a holder would prove little. */
const totals = {
  runs: 0,
  crashes: 0,
  holderCrashes: 0,
  clientMessages: 0,
  serverMessages: 0,
  redelivered: 0,
  maybeLost: 0,
  nodeChanges: 0,
};
function count(side: ServerSide, client: ClientSide): void {
  totals.runs += 1;
  totals.clientMessages += client.sent.length;
  totals.serverMessages += side.sent.length;
  totals.crashes += side.crashes;
  totals.holderCrashes += side.holderCrashes;
  totals.redelivered += side.redelivered;
  totals.maybeLost += side.sent.filter((entry) => entry.maybeLost).length;
  totals.nodeChanges += Math.max(0, side.sessions - 1);
}

describe.skipIf(!RUN)(
  'tether.v1 adapter on Redis: exactly-once under random faults and node crashes (property)',
  () => {
    let redis: RedisServer;
    let cluster: RedisCluster;
    const sides = new Map<string, ServerSide>();
    let runs = 0;

    beforeAll(async () => {
      redis = await startRedis();
      cluster = await startRedisCluster(
        redis,
        NODES,
        recorder((id) => {
          const side = sides.get(id);
          if (!side) throw new Error(`unexpected session ${id}`);
          return side;
        }),
      );
    });

    afterAll(async () => {
      await cluster?.stop();
      await redis?.stop();
    });

    async function connect(client: MiniTetherClient): Promise<void> {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await client.connect();
          return;
        } catch (error) {
          if (attempt === 5) throw error;
        }
      }
    }

    async function run(actions: Action[]): Promise<void> {
      runs += 1;
      const sid = `prop-redis-${runs}`;
      const side = newSide();
      sides.set(sid, side);
      const proxy = await createFaultProxy({ target: () => cluster.pick() });
      const client = new MiniTetherClient(proxy.url('/'), sid);
      const clientSide: ClientSide = {
        sent: [],
        received: client.received,
        send: (p) => client.send(p),
        terminate: () => client.terminate(),
        reconnect: () => connect(client),
      };
      try {
        await connect(client);
        await perform(actions, cluster, proxy, clientSide, side);
        await expectDelivered(clientSide, side, client.violations, async () => {
          if (!client.connected) await connect(client);
        });
      } finally {
        count(side, clientSide);
        client.terminate();
        if (side.current?.state !== 'ended') side.current?.close();
        sides.delete(sid);
        await proxy.close();
      }
    }

    it('MiniTetherClient: replies once, server messages at most once and every stored one, in order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), (actions) => run(actions)),
        { numRuns: 100 },
      );
    }, 120_000);
  },
);

/** The real client reconnects by itself, so there is no `reconnect` step. */
type ClientAction = Exclude<Action, { kind: 'reconnect' }>;
const clientAction = action.filter((a): a is ClientAction => a.kind !== 'reconnect');

class TrackedWS extends WS {
  static last: TrackedWS | undefined;
  constructor(...args: ConstructorParameters<typeof WS>) {
    super(...args);
    TrackedWS.last = this;
  }
}

describe.skipIf(!RUN)(
  'tether.v1 adapter on Redis with WebSocketClient (exactly-once): random faults and node crashes (property)',
  () => {
    let redis: RedisServer;
    let cluster: RedisCluster;
    let side: ServerSide | undefined;

    beforeAll(async () => {
      redis = await startRedis();
      cluster = await startRedisCluster(
        redis,
        NODES,
        recorder((id) => {
          if (!side) throw new Error(`session ${id} outside a run`);
          return side;
        }),
      );
    });

    afterAll(async () => {
      await cluster?.stop();
      await redis?.stop();
      console.log(`[tether-property-redis] ${JSON.stringify(totals)}`);
    });

    async function run(actions: ClientAction[]): Promise<void> {
      const current = newSide();
      side = current;
      const proxy = await createFaultProxy({ target: () => cluster.pick() });
      const client = new WebSocketClient<string | ArrayBuffer, string | Uint8Array>(proxy.url('/'), {
        delivery: exactlyOnce(),
        WebSocket: TrackedWS as unknown as WebSocketConstructor,
        binaryType: 'arraybuffer',
        watchNetwork: false,
        reconnect: { minDelay: 1, maxDelay: 5, jitter: 0 },
      });
      const received: Payload[] = [];
      const clientLost: unknown[] = [];
      client.on('message', (data) => received.push(typeof data === 'string' ? data : Buffer.from(data)));
      client.on('session-lost', (report) => clientLost.push(report));
      client.on('error', () => {}); // resets, cuts and crashes are the point here
      const clientSide: ClientSide = {
        sent: [],
        received,
        send: (p) => client.send(typeof p === 'string' ? p : new Uint8Array(p)),
        terminate: () => TrackedWS.last?.terminate(),
        reconnect: async () => {}, // never called: the client reconnects by itself
      };
      try {
        await client.open();
        await perform(actions, cluster, proxy, clientSide, current);
        await expectDelivered(clientSide, current, clientLost);
      } finally {
        count(current, clientSide);
        await client.close();
        side = undefined;
        await proxy.close();
      }
    }

    it('WebSocketClient: replies once, server messages at most once and every stored one, in order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(clientAction, { minLength: 1, maxLength: 25 }), (actions) => run(actions)),
        { numRuns: 60 },
      );
    }, 120_000);
  },
);
