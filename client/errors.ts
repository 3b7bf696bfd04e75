/**
 * Every error tether-ws creates carries a stable `code`. Branch on `code`, never on `message`:
 * the wording may improve, the codes will not change.
 */
export type TetherErrorCode =
  /** An argument or option is of the wrong type (thrown as {@link TetherTypeError}). */
  | 'INVALID_ARGUMENT'
  /** An argument or option is out of range (thrown as {@link TetherRangeError}). */
  | 'OUT_OF_RANGE'
  /** `queue.overflow` is `'throw'` and the queue is full (thrown by `send()`). */
  | 'QUEUE_FULL'
  /** `codec.encode` threw (thrown by `send()`); the original error is in `cause`. */
  | 'ENCODE_FAILED'
  /** `codec.decode` threw on an inbound message (`error` event); the raw data is in `data`. */
  | 'DECODE_FAILED'
  /** The underlying socket reported an error (`error` event). */
  | 'SOCKET_ERROR'
  /** A connection attempt was still connecting after `connectTimeout` (`error` event). */
  | 'CONNECT_TIMEOUT'
  /** No message at all arrived within `heartbeat.timeout` of a ping (`error` event). */
  | 'HEARTBEAT_TIMEOUT'
  /** The URL function threw, rejected or returned an invalid URL (`error` event). */
  | 'URL_FAILED'
  /** `reconnect.maxRetries` was reached; the client is now closed (`error` event, `open()` rejects). */
  | 'RETRIES_EXHAUSTED'
  /** The client was closed before the connection `open()` waited for (`open()` rejects). */
  | 'CLOSED'
  /** An event listener threw; the error is in `cause` (`error` event). */
  | 'LISTENER_ERROR';

/** Base class of every error tether-ws emits or throws at run time. */
export class TetherError extends Error {
  override name = 'TetherError';
  /** Raw data involved, when there is some (e.g. the undecodable message for `DECODE_FAILED`). */
  readonly data?: unknown;

  constructor(
    readonly code: TetherErrorCode,
    message: string,
    options?: { cause?: unknown; data?: unknown },
  ) {
    super(message, options);
    if (options && 'data' in options) this.data = options.data;
  }
}

/** Thrown synchronously for an argument of the wrong type. `code` is `'INVALID_ARGUMENT'`. */
export class TetherTypeError extends TypeError {
  override name = 'TetherTypeError';
  readonly code = 'INVALID_ARGUMENT' as const;
  /** The argument or option that was wrong, e.g. `"reconnect.factor"`. */
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown synchronously for an argument out of range. `code` is `'OUT_OF_RANGE'`. */
export class TetherRangeError extends RangeError {
  override name = 'TetherRangeError';
  readonly code = 'OUT_OF_RANGE' as const;
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/** Describes a value for an error message: strings quoted, objects by their kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'Object'})`;
}

/**
 * Builds the boundary error: `Invalid <what> "<name>": got <value>; expected <accepted>.`
 * `range` picks RangeError (right type, wrong value) over TypeError.
 */
export function invalid(what: string, name: string, value: unknown, expected: string, range = false) {
  const message = `Invalid ${what} "${name}": got ${describe(value)}; expected ${expected}.`;
  return range ? new TetherRangeError(name, message) : new TetherTypeError(name, message);
}
