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
  | 'PROTOCOL_ERROR'
  /** tether-ws/persist: the store failed (quota, no IndexedDB, …); the client goes on in memory (`error` event). */
  | 'PERSIST_FAILED';

/**
 * The mark every tether-ws error carries. `Symbol.for` is one symbol per realm however many copies
 * of the library a page loads (two bundles, or a CDN build beside an npm one), so
 * {@link isTetherError} recognises errors of every copy, where `instanceof` knows only its own.
 */
const BRAND = Symbol.for('tether-ws.error');

/**
 * True for every error tether-ws creates, from any copy of the library: the one check that covers
 * `TetherError` and the boundary errors (which extend `TypeError` / `RangeError` instead).
 * @example if (isTetherError(error) && error.code === 'QUEUE_FULL') retryLater();
 */
export function isTetherError(value: unknown): value is TetherError | TetherTypeError | TetherRangeError {
  return (value as { [BRAND]?: unknown } | null)?.[BRAND] === true;
}

/** Base class of every error tether-ws emits, or throws at run time. */
export class TetherError extends Error {
  override name = 'TetherError';
  readonly [BRAND] = true;
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

/**
 * `Invalid <kind> "<name>": got <value>; expected <accepted>.`: the one wording of every boundary
 * error, built by the error classes themselves so that every entry point words it the same.
 */
function describeInvalid(kind: string, name: string, value: unknown, expected: string): string {
  const got =
    typeof value === 'string'
      ? JSON.stringify(value)
      : value instanceof Object
        ? typeof value === 'function'
          ? 'a function'
          : 'an object'
        : String(value);
  return `Invalid ${kind} "${name}": got ${got}; expected ${expected}.`;
}

/** Thrown synchronously for an argument or option of the wrong type. `code` is `'INVALID_ARGUMENT'`. */
export class TetherTypeError extends TypeError {
  override name = 'TetherTypeError';
  readonly [BRAND] = true;
  readonly code = 'INVALID_ARGUMENT';
  /**
   * @param kind `'argument'` (of a method or the constructor) or `'option'`.
   * @param argument The argument or option at fault, e.g. `"reconnect.factor"`.
   * @param value The value it got.
   * @param expected What is accepted, e.g. `"a function"`.
   */
  constructor(
    kind: 'argument' | 'option',
    readonly argument: string,
    value: unknown,
    expected: string,
  ) {
    super(describeInvalid(kind, argument, value, expected));
  }
}

/** Thrown synchronously for an argument or option out of range. `code` is `'OUT_OF_RANGE'`. */
export class TetherRangeError extends RangeError {
  override name = 'TetherRangeError';
  readonly [BRAND] = true;
  readonly code = 'OUT_OF_RANGE';
  /** The same parameters as {@link TetherTypeError}'s. */
  constructor(
    kind: 'argument' | 'option',
    readonly argument: string,
    value: unknown,
    expected: string,
  ) {
    super(describeInvalid(kind, argument, value, expected));
  }
}

/**
 * The boundary error for `name`: a TypeError, or with `range` (a value of the right type, out of
 * range) a RangeError. Internal to the core (other entries construct the classes themselves).
 */
export function invalid(
  kind: 'argument' | 'option',
  name: string,
  value: unknown,
  expected: string,
  range?: boolean,
) {
  return new (range ? TetherRangeError : TetherTypeError)(kind, name, value, expected);
}
