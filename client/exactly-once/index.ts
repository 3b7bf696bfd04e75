import type { Delivery, DeliveryHost } from '../transport.js';
import { ExactlyOnceMode } from './mode.js';
import type { ExactlyOnceOptions } from './options.js';
import { resolveExactlyOnce } from './options.js';

export { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
export type { ExactlyOnceOptions, ResolvedExactlyOnce } from './options.js';
export { EXACTLY_ONCE_DEFAULTS } from './options.js';

// What only this mode adds to the client's types: its event and its error codes. Importing the
// entry merges them into the core's interfaces, so the core declares nothing of exactly-once.
declare module 'tether-ws' {
  interface ClientEventMap<In, Out> {
    /**
     * Exactly-once only: a session ended without being resumed: `'not-resumed'` (the server no longer
     * knew it), `'expired'` (`resumeWindow` passed while disconnected), `'closed'` (your `close()`, or
     * the server ended it, e.g. its buffer overflowed). `undelivered` holds, in order, every
     * message that was written but never acknowledged by the server: it may or may not have reached
     * the server's application, and it is not resent. Messages never written stay queued.
     */
    'session-lost': { reason: 'not-resumed' | 'expired' | 'closed'; undelivered: Out[] };
  }
  interface TetherErrorCodes {
    /** Exactly-once: the server did not select the `tether.v1` subprotocol (`error` event). */
    PROTOCOL_UNSUPPORTED: true;
    /** Exactly-once: the server broke the `tether.v1` protocol; the connection is dropped and resumed (`error` event). */
    PROTOCOL_ERROR: true;
  }
}

/**
 * Exactly-once delivery, the `delivery` option of `WebSocketClient`: speak the `tether.v1` resume
 * protocol (docs/protocol.md) with a server using `tether-ws/server`. Every message in both
 * directions is delivered exactly once, in order, across disconnects shorter than `resumeWindow`;
 * what cannot be is reported by `session-lost`. Turns the heartbeat on unless `heartbeat` says
 * otherwise. Lives in its own entry so that pages that do not use it do not download it.
 *
 * @example
 * import { WebSocketClient } from 'tether-ws';
 * import { exactlyOnce } from 'tether-ws/exactly-once';
 * const client = new WebSocketClient(url, { delivery: exactlyOnce({ resumeWindow: 60_000 }) });
 * @throws TetherTypeError / TetherRangeError for a bad option, naming it, the value and what is accepted.
 */
export function exactlyOnce(options?: ExactlyOnceOptions): Delivery {
  const resolved = resolveExactlyOnce(options);
  return Object.freeze({ start: <Out>(host: DeliveryHost) => new ExactlyOnceMode<Out>(host, resolved) });
}
