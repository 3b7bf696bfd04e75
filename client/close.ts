/**
 * Close codes (RFC 6455 §7.4) and what the client says about a closed socket, in one place: the
 * rest of the client (delivery modes included, through their host) names no code of its own.
 * The codes are written as literals here rather than as named constants: the minifier does not
 * inline constants, and the core's size budget counts every byte.
 */

import { invalid } from './errors.js';

/** What `close` listeners and `shouldReconnect` receive about a closed socket. */
export interface CloseInfo {
  /** Close code (RFC 6455 §7.4). 1006 when the connection dropped, timed out or failed to open. */
  code: number;
  reason: string;
  wasClean: boolean;
}

/** Close codes after which the default `shouldReconnect` stops: retrying cannot help. */
export const NO_RETRY_CODES: readonly number[] = [
  1002, // protocol error: the client and server disagree on the protocol itself
  1003, // unsupported data: the server will refuse the same data again
  1008, // policy violation: e.g. refused origin or authentication, retrying is pointless
  1010, // mandatory extension missing: the handshake will fail the same way
];

/**
 * A close the client decided on itself. `code` is one of:
 * - 1006 (the default): §7.4.1 reserves it for "closed abnormally", never sent on the wire; the
 *   connection dropped, timed out, failed to open, or was given up without a closing handshake;
 * - 1002: protocol error, the server cannot speak the delivery mode's protocol (not retried);
 * - 1000: normal closure, for a delivery mode's own decision to start over (clean).
 */
export function closeInfo(reason: string, code: 1000 | 1002 | 1006 = 1006): CloseInfo {
  return { code, reason, wasClean: code === 1000 };
}

/**
 * The arguments of `close()`: the code is 1000 or 3000–4999 (§7.4.2: the rest is reserved for the
 * protocol and its extensions), the reason at most 123 bytes of UTF-8 (§5.5: a control frame's
 * payload is at most 125 bytes, two of them the code).
 */
export function checkClose(code: number, reason: string): void {
  if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
    throw invalid('argument', 'code', code, '1000 or an integer from 3000 to 4999', typeof code === 'number');
  }
  if (typeof reason !== 'string') throw invalid('argument', 'reason', reason, 'a string');
  if (new TextEncoder().encode(reason).length > 123) {
    throw invalid('argument', 'reason', reason, 'at most 123 bytes of UTF-8', true);
  }
}
