// What the adapter's property tests send and how they compare it (tether-property.test.ts against
// the memory store, tether-property-redis.test.ts against Redis with node crashes).
import fc from 'fast-check';

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
