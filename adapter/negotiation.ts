import type { IncomingMessage } from 'node:http';
import { TETHER_PROTOCOL } from './frames.js';

/**
 * Selects `tether.v1` when the client offers it, and no subprotocol otherwise. Accepts what every
 * ws major passes (a Set from ws 8, an array from ws 7). Pass it to ws
 * (`new WebSocketServer({ handleProtocols })`, or express-ws `wsOptions`) for a server, or a path,
 * that speaks only tether.v1. Without it ws selects the *first* offered subprotocol, which is
 * `tether.v1` for the reference client; but a server that also has plain endpoints must not select
 * it on those (the client would then speak the protocol to an endpoint that does not), so compose:
 *
 * @example
 * new WebSocketServer({
 *   handleProtocols: (protocols, req) =>
 *     req.url?.startsWith('/reliable') ? handleProtocols(protocols) : false,
 * });
 */
export function handleProtocols(
  protocols: ReadonlySet<string> | readonly string[],
  _request?: IncomingMessage,
): string | false {
  // ws 8 passes a Set; ws 7, which express-ws 5 installs, passes an array. Both are iterable.
  for (const protocol of protocols) if (protocol === TETHER_PROTOCOL) return TETHER_PROTOCOL;
  return false;
}
