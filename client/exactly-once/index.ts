import type { Delivery, DeliveryHost } from '../delivery.js';
import { ExactlyOnceLayer } from './layer.js';
import type { ExactlyOnceOptions } from './options.js';
import { resolveExactlyOnce } from './options.js';

export { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
export type { ExactlyOnceOptions, ResolvedExactlyOnce } from './options.js';
export { EXACTLY_ONCE_DEFAULTS } from './options.js';

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
  return Object.freeze({
    layer: <Out>(host: DeliveryHost<Out>) => new ExactlyOnceLayer<Out>(host, resolved),
  });
}
