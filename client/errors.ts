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
  /** The underlying socket reported an error, or its constructor threw (`error` event). */
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
  /** An event listener or `shouldReconnect` threw; the error is in `cause` (`error` event). */
  | 'LISTENER_ERROR'
  /** Exactly-once: the server did not select the `tether.v1` subprotocol (`error` event). */
  | 'PROTOCOL_UNSUPPORTED'
  /** Exactly-once: the server broke the `tether.v1` protocol; the connection is dropped and resumed (`error` event). */
  | 'PROTOCOL_ERROR';

/** Base class of every error tether-ws emits, or throws at run time. */
export class TetherError extends Error {
  override name = 'TetherError';
  /** Raw data involved, if any: the undecodable message (`DECODE_FAILED`), the unsent one (`ENCODE_FAILED`, `QUEUE_FULL`). */
  readonly data?: unknown;

  constructor(
    readonly code: TetherErrorCode,
    message: string,
    options?: { cause?: unknown; data?: unknown },
  ) {
    super(message, options);
    this.data = options?.data;
  }
}

/** Thrown synchronously for an argument or option of the wrong type. `code` is `'INVALID_ARGUMENT'`. */
export class TetherTypeError extends TypeError {
  override name = 'TetherTypeError';
  readonly code = 'INVALID_ARGUMENT';
  constructor(
    /** The argument or option at fault, e.g. `"reconnect.factor"`. */
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown synchronously for an argument or option out of range. `code` is `'OUT_OF_RANGE'`. */
export class TetherRangeError extends RangeError {
  override name = 'TetherRangeError';
  readonly code = 'OUT_OF_RANGE';
  constructor(
    /** The argument or option at fault, e.g. `"reconnect.factor"`. */
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Builds the boundary error: `Invalid <kind> "<name>": got <value>; expected <accepted>.`
 * `range` picks RangeError (a value of the right type, out of range) over TypeError.
 * Exported for tether-ws's own entry points (`tether-ws/exactly-once`), so that every boundary error
 * reads the same; not part of the documented API.
 */
export function invalid(kind: string, name: string, value: unknown, expected: string, range?: boolean) {
  const got =
    typeof value === 'string'
      ? JSON.stringify(value)
      : value instanceof Object
        ? typeof value === 'function'
          ? 'a function'
          : 'an object'
        : String(value);
  const message = `Invalid ${kind} "${name}": got ${got}; expected ${expected}.`;
  return range ? new TetherRangeError(name, message) : new TetherTypeError(name, message);
}
