// What the adapter's property tests send and how they compare it (tether-property.test.ts against
// the memory store, tether-property-redis.test.ts against Redis with node crashes).
import fc from 'fast-check';
import type { Direction, FaultProxy } from './fault-proxy.js';

export type Payload = string | Buffer;

/** Text or binary, empty included: both kinds must come out as they went in. */
export const payload: fc.Arbitrary<Payload> = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
);
export const payloads = fc.array(payload, { minLength: 1, maxLength: 40 });

/** What a side delivered, in a form `toEqual` compares exactly (a string vs a Buffer of its bytes differ). */
export const describePayloads = (list: readonly Payload[]) =>
  list.map((p) => (typeof p === 'string' ? `text:${p}` : `binary:${p.toString('hex')}`));

/** One turn of the event loop: lets frames and timers already due run between steps. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The steps every exactly-once property test draws: sends in both directions, and faults. */
export type CommonAction =
  | { kind: 'client-send'; payloads: Payload[] }
  | { kind: 'server-send'; payloads: Payload[] }
  | FaultAction;

/** A step that breaks a connection or waits, done the same way by every property test. */
export type FaultAction =
  | { kind: 'terminate' }
  | { kind: 'reset' }
  | { kind: 'cut'; direction: Direction }
  | { kind: 'reconnect' }
  | { kind: 'pause' };

/** The weights of the common steps (a test adds its own, e.g. node crashes, to `fc.oneof`). */
export const commonActions: Array<fc.WeightedArbitrary<CommonAction>> = [
  { weight: 4, arbitrary: payloads.map((p) => ({ kind: 'client-send' as const, payloads: p })) },
  { weight: 4, arbitrary: payloads.map((p) => ({ kind: 'server-send' as const, payloads: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'terminate' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('up', 'down').map((direction) => ({ kind: 'cut' as const, direction })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'reconnect' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'pause' as const }) },
];

/** Does one fault step: the client drops its connection, the proxy resets or cuts, or a pause. */
export async function performFault(
  step: FaultAction,
  client: { terminate(): void; reconnect(): Promise<void> },
  proxy: FaultProxy,
): Promise<void> {
  switch (step.kind) {
    case 'terminate':
      client.terminate();
      break;
    case 'reset':
      proxy.resetAll();
      break;
    case 'cut':
      proxy.cutMidFrame(step.direction);
      break;
    case 'reconnect':
      await client.reconnect();
      break;
    case 'pause':
      await settle();
      break;
  }
}
