/**
 * Model-based property test of exactly-once delivery through the tether.v1 server adapter
 * (docs/protocol.md): random interleavings of sends in both directions, connections dropped at
 * random points (client terminate, TCP resets, a frame cut at a random byte offset in either
 * direction by the fault proxy), and reconnects, including ones that take over a connection the
 * server still believes open. Within the resume window, what each side delivered must equal what
 * the other sent: same payloads, same kinds (text/binary), same order, nothing twice.
 *
 * The client side is, in turn, `MiniTetherClient` (test/helpers/tether-wire.ts), a minimal protocol
 * client that reconnects only when told to (so takeovers of a still-open connection happen), and the
 * real `WebSocketClient` with `delivery: exactlyOnce()`, which reconnects by itself.
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
import { type Served, serve, teardown } from '../helpers/tether-server.js';
import { MiniTetherClient } from '../helpers/tether-wire.js';

type Action = CommonAction;

const action: fc.Arbitrary<Action> = fc.oneof(...commonActions);

interface ServerSide {
  session: TetherSession | undefined;
  sessions: number;
  received: Payload[];
  sent: Payload[];
  lost: string[];
}

/** What one run's client sent and delivered, and how it does the steps that differ per runner. */
interface ClientSide {
  readonly sent: Payload[];
  readonly received: readonly Payload[];
  send(payload: Payload): void;
  /** Drops the current connection abruptly (the server sees 1006). */
  terminate(): void;
  /** Reconnects now, taking over a connection the server may still believe open. */
  reconnect(): Promise<void>;
}

/** Plays `actions`: the sends of both sides and the proxy's faults are the same for both runners. */
async function perform(
  actions: readonly Action[],
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
          side.session?.send(p);
          side.sent.push(p);
        }
        break;
      default:
        await performFault(step, client, proxy);
    }
  }
}

/**
 * Waits until each side has as many messages as the other sent (bounded and not fatal: a loss or
 * a duplicate must show up in the comparison, not as a bare timeout), calling `meanwhile` before
 * each check, then checks that each side delivered exactly what the other sent, in order, in one
 * session, with nothing reported lost (`clientLost`: the client's own reports or violations).
 */
async function expectExactlyOnce(
  client: ClientSide,
  side: ServerSide,
  clientLost: readonly unknown[],
  meanwhile: () => Promise<void> = async () => {},
): Promise<void> {
  await waitUntil(
    async () => {
      await meanwhile();
      return client.received.length >= side.sent.length && side.received.length >= client.sent.length;
    },
    { timeoutMs: 3000, intervalMs: 2, message: 'both sides to receive what the other sent' },
  ).catch(() => undefined);
  expect(clientLost).toEqual([]);
  expect(side.lost).toEqual([]);
  expect(side.sessions).toBe(1);
  expect(describePayloads(side.received)).toEqual(describePayloads(client.sent));
  expect(describePayloads(client.received)).toEqual(describePayloads(side.sent));
}

/**
 * The adapter under test on a ws server (`serve()`, port 0; `teardown()` closes it). Each session
 * is recorded in the side `sideFor` returns for its id (which throws for a session it did not expect).
 */
async function serveRecording(sideFor: (sessionId: string) => ServerSide): Promise<Served> {
  const served = await serve();
  served.tether.on('session', (session) => {
    const side = sideFor(session.id);
    side.session = session;
    side.sessions += 1;
    session.on('message', (data) => side.received.push(data));
    session.on('lost', ({ reason }) => side.lost.push(reason));
  });
  return served;
}

describe('tether.v1 adapter: exactly-once under random faults (property)', () => {
  let server: Served;
  const sides = new Map<string, ServerSide>();
  let runs = 0;

  beforeAll(async () => {
    server = await serveRecording((id) => {
      const side = sides.get(id);
      if (!side) throw new Error(`unexpected session ${id}`);
      return side;
    });
  });

  afterAll(teardown);

  /** Connects, retrying when a fault kills the handshake itself (an armed cut fires on the next chunk). */
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
    const sid = `prop-${runs}`;
    const side: ServerSide = { session: undefined, sessions: 0, received: [], sent: [], lost: [] };
    sides.set(sid, side);
    const proxy: FaultProxy = await createFaultProxy({
      target: { host: '127.0.0.1', port: Number(new URL(server.url).port) },
    });
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
      await perform(actions, proxy, clientSide, side);
      // Reconnects as often as faults require while waiting for both sides to have everything.
      await expectExactlyOnce(clientSide, side, client.violations, async () => {
        if (!client.connected) await connect(client);
      });
    } finally {
      client.terminate();
      side.session?.close();
      sides.delete(sid);
      await proxy.close();
    }
  }

  it('delivers every message exactly once and in order, in both directions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), (actions) => run(actions)),
      { numRuns: 50 },
    );
    expect(server.tether.sessions).toBe(0);
  });
});

/** The kinds of faults the real client faces: it reconnects by itself, so there is no `reconnect`. */
type ClientAction = Exclude<Action, { kind: 'reconnect' }>;
const clientAction = action.filter((a): a is ClientAction => a.kind !== 'reconnect');

/** A ws WebSocket that remembers the last instance, so a test can terminate the client's socket. */
class TrackedWS extends WS {
  static last: TrackedWS | undefined;
  constructor(...args: ConstructorParameters<typeof WS>) {
    super(...args);
    TrackedWS.last = this;
  }
}

describe('tether.v1 adapter with WebSocketClient (exactly-once): exactly-once under random faults (property)', () => {
  let server: Served;
  let side: ServerSide | undefined;

  beforeAll(async () => {
    server = await serveRecording((id) => {
      if (!side) throw new Error(`session ${id} outside a run`);
      return side;
    });
  });

  afterAll(teardown);

  async function run(actions: ClientAction[]): Promise<void> {
    const current: ServerSide = { session: undefined, sessions: 0, received: [], sent: [], lost: [] };
    side = current;
    const proxy = await createFaultProxy({
      target: { host: '127.0.0.1', port: Number(new URL(server.url).port) },
    });
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
    client.on('error', () => {}); // resets and cuts are the point here
    const clientSide: ClientSide = {
      sent: [],
      received,
      send: (p) => client.send(typeof p === 'string' ? p : new Uint8Array(p)),
      terminate: () => TrackedWS.last?.terminate(),
      // Never called (there is no reconnect step here): the client reconnects by itself.
      reconnect: async () => {},
    };
    try {
      await client.open();
      await perform(actions, proxy, clientSide, current);
      await expectExactlyOnce(clientSide, current, clientLost);
    } finally {
      await client.close();
      side = undefined;
      await proxy.close();
    }
  }

  it('delivers every message exactly once and in order, in both directions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(clientAction, { minLength: 1, maxLength: 25 }), (actions) => run(actions)),
      { numRuns: 40 },
    );
  });
});
