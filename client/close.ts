import { byteLength } from './codec.js';
import { invalid } from './errors.js';

/**
 * Close codes (RFC 6455 §7.4) and what a closed connection reports: the one place either is declared.
 */

/** What `close` listeners and `shouldReconnect` receive about a closed socket. */
export interface CloseInfo {
  /** Close code (RFC 6455 §7.4). 1006 when the connection dropped, timed out or failed to open. */
  code: number;
  reason: string;
  wasClean: boolean;
}

/**
 * The close codes the client itself sends or reports (RFC 6455 §7.4.1); also for `shouldReconnect`
 * and `close` listeners: `close.code === CLOSE_CODES.ABNORMAL`.
 */
export const CLOSE_CODES = {
  /** A normal closure; the default code of `close()`. */
  NORMAL: 1000,
  /** A protocol error; also reported when the server cannot speak the delivery mode asked for. */
  PROTOCOL_ERROR: 1002,
  /**
   * Never sent on the wire: what is reported when there was no closing handshake (dropped, timed
   * out, failed to open, abandoned by the heartbeat).
   */
  ABNORMAL: 1006,
} as const;

/** Close codes after which the default `shouldReconnect` stops: retrying cannot help. */
export const NO_RETRY_CODES: readonly number[] = [
  CLOSE_CODES.PROTOCOL_ERROR, // the client and server disagree on the protocol itself
  1003, // unsupported data: the server will refuse the same data again
  1008, // policy violation: e.g. refused origin or authentication, retrying is pointless
  1010, // mandatory extension missing: the handshake will fail the same way
];

/**
 * Checks the arguments of `close()`: RFC 6455 §7.4.2 lets an application send 1000 or a code of
 * 3000–4999 (the others are reserved), and §5.5 caps the reason at 123 bytes of UTF-8.
 */
export function checkClose(code: number, reason: string): void {
  if (code !== CLOSE_CODES.NORMAL && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
    throw invalid('argument', 'code', code, '1000 or an integer from 3000 to 4999', typeof code === 'number');
  }
  if (typeof reason !== 'string') throw invalid('argument', 'reason', reason, 'a string');
  if (byteLength(reason) > 123)
    throw invalid('argument', 'reason', reason, 'at most 123 bytes of UTF-8', true);
}

/** A close without a closing handshake, for timeouts and failures the client detects itself. */
export function abnormal(reason: string): CloseInfo {
  return { code: CLOSE_CODES.ABNORMAL, reason, wasClean: false };
}
