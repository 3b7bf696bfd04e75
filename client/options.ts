import type { Codec, MessageData, SendData } from './codec.js';
import { passthroughCodec } from './codec.js';
import { invalid } from './errors.js';

/** What `close` listeners and `shouldReconnect` receive about a closed socket. */
export interface CloseInfo {
  /** Close code (RFC 6455 §7.4). 1006 when the connection dropped, timed out or failed to open. */
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The `WebSocket` constructor to use; the browser's own, mock-socket's, or `ws` in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export interface ReconnectOptions {
  /** Base delay before the first retry, in ms. @default 1000 */
  minDelay?: number;
  /** Upper bound of any delay, in ms. @default 30000 */
  maxDelay?: number;
  /** Growth of the delay per attempt: `minDelay * factor ** (attempt - 1)`. At least 1. @default 2 */
  factor?: number;
  /**
   * Fraction of each delay that is randomised away (0..1): the delay is drawn from
   * `[base * (1 - jitter), base]`, so clients that lost the same server do not return in step.
   * @default 0.5
   */
  jitter?: number;
  /** Retries after which the client gives up and closes (`RETRIES_EXHAUSTED`). @default Infinity */
  maxRetries?: number;
  /**
   * How long a connection must stay open before the attempt counter resets, in ms. A server that
   * accepts and drops at once therefore keeps backing off instead of causing a tight loop.
   * @default 5000
   */
  resetAfter?: number;
  /**
   * Decides whether a connection closed by the server (or lost) is retried. Not consulted after
   * the user's own `close()`, which never reconnects.
   * @default (close) => !NO_RETRY_CODES.includes(close.code) // stops on 1002, 1003, 1008, 1010
   */
  shouldReconnect?: (close: CloseInfo) => boolean;
}

export interface QueueOptions {
  /** Messages kept while not open. @default 10000 */
  maxMessages?: number;
  /** Bytes kept while not open (UTF-8 length for text). @default 8388608 (8 MiB) */
  maxBytes?: number;
  /**
   * What happens when a message does not fit: `'drop-oldest'` evicts the oldest, `'drop-newest'`
   * refuses the new one (both emit `drop` with the message), `'throw'` makes `send()` throw
   * `QUEUE_FULL` and keeps the queue as it was.
   * @default 'drop-oldest'
   */
  overflow?: 'drop-oldest' | 'drop-newest' | 'throw';
}

export interface ClientOptions<In = MessageData, Out = SendData> {
  /** Subprotocols offered on every connection (`Sec-WebSocket-Protocol`). @default [] */
  protocols?: string | string[];
  /** `binaryType` of every underlying socket. @default 'blob' */
  binaryType?: BinaryType;
  /** Connect as soon as the client is built (on the next microtask, so listeners can be added). @default false */
  autoOpen?: boolean;
  /** Reconnect with exponential backoff; `false` turns it off, `true` means all defaults. @default {} */
  reconnect?: boolean | ReconnectOptions;
  /** An attempt still connecting after this long is abandoned and retried, in ms. @default 10000 */
  connectTimeout?: number;
  /** How long `close()` waits for the closing handshake before giving up on it, in ms. @default 5000 */
  closeTimeout?: number;
  /** The outbound queue used while not open. */
  queue?: QueueOptions;
  /** Encodes sent values and decodes received data. @default passthrough */
  codec?: Codec<In, Out>;
  /** The `WebSocket` constructor. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor;
  /** Random source in [0, 1) for jitter; inject one to make delays deterministic. @default Math.random */
  random?: () => number;
}

/** Close codes after which the default `shouldReconnect` stops: retrying cannot help. */
export const NO_RETRY_CODES: readonly number[] = [
  1002, // protocol error: the client and server disagree on the protocol itself
  1003, // unsupported data: the server will refuse the same data again
  1008, // policy violation: e.g. refused origin or authentication, retrying is pointless
  1010, // mandatory extension missing: the handshake will fail the same way
];

export const DEFAULT_OPTIONS = {
  protocols: [] as string[],
  binaryType: 'blob' as BinaryType,
  autoOpen: false,
  connectTimeout: 10_000,
  closeTimeout: 5_000,
  reconnect: {
    minDelay: 1_000,
    maxDelay: 30_000,
    factor: 2,
    jitter: 0.5,
    maxRetries: Number.POSITIVE_INFINITY,
    resetAfter: 5_000,
    shouldReconnect: (close: CloseInfo) => !NO_RETRY_CODES.includes(close.code),
  },
  queue: {
    maxMessages: 10_000,
    maxBytes: 8 * 1024 * 1024,
    overflow: 'drop-oldest' as QueueOptions['overflow'] & string,
  },
} as const;

export type ResolvedReconnect = Required<ReconnectOptions>;
export type ResolvedQueue = Required<QueueOptions>;

export interface ResolvedOptions<In, Out> {
  readonly protocols: string[];
  readonly binaryType: BinaryType;
  readonly autoOpen: boolean;
  readonly connectTimeout: number;
  readonly closeTimeout: number;
  readonly reconnect: ResolvedReconnect | false;
  readonly queue: ResolvedQueue;
  readonly codec: Codec<In, Out>;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly random: () => number;
}

/** The longest delay `setTimeout` honours; larger values fire at once. */
const MAX_TIMER = 2_147_483_647;

function number(name: string, value: unknown, min: number, integer: boolean, infinity: boolean): number {
  const expected = `${integer ? 'an integer' : 'a number'} >= ${min}${infinity ? ' or Infinity' : ` and <= ${MAX_TIMER}`}`;
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalid('option', name, value, expected);
  const ok =
    value === Number.POSITIVE_INFINITY ? infinity : value >= min && (!integer || Number.isInteger(value));
  if (!ok || (!infinity && value > MAX_TIMER)) throw invalid('option', name, value, expected, true);
  return value;
}

function object<T>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw invalid('option', name, value, 'an object');
  return value;
}

function fn<T>(name: string, value: T): T {
  if (typeof value !== 'function') throw invalid('option', name, value, 'a function');
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid('option', name, value, 'true or false');
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, accepted: readonly T[]): T {
  if (!accepted.includes(value as T)) {
    throw invalid(
      'option',
      name,
      value,
      `one of ${accepted.map((a) => `"${a}"`).join(', ')}`,
      typeof value === 'string',
    );
  }
  return value as T;
}

function normalizeReconnect(input: ClientOptions['reconnect']): ResolvedReconnect | false {
  const d = DEFAULT_OPTIONS.reconnect;
  if (input === false) return false;
  const r = object('reconnect', input === true ? undefined : input);
  const minDelay = number('reconnect.minDelay', r.minDelay ?? d.minDelay, 0, false, false);
  const maxDelay = number('reconnect.maxDelay', r.maxDelay ?? d.maxDelay, 0, false, false);
  if (maxDelay < minDelay) {
    throw invalid(
      'option',
      'reconnect.maxDelay',
      maxDelay,
      `a number >= reconnect.minDelay (${minDelay})`,
      true,
    );
  }
  const jitter = number('reconnect.jitter', r.jitter ?? d.jitter, 0, false, false);
  if (jitter > 1) throw invalid('option', 'reconnect.jitter', jitter, 'a number from 0 to 1', true);
  return Object.freeze({
    minDelay,
    maxDelay,
    factor: number('reconnect.factor', r.factor ?? d.factor, 1, false, false),
    jitter,
    maxRetries: number('reconnect.maxRetries', r.maxRetries ?? d.maxRetries, 0, true, true),
    resetAfter: number('reconnect.resetAfter', r.resetAfter ?? d.resetAfter, 0, false, false),
    shouldReconnect: fn('reconnect.shouldReconnect', r.shouldReconnect ?? d.shouldReconnect),
  });
}

function validateCodec<In, Out>(codec: Codec<In, Out>): Codec<In, Out> {
  fn('codec.encode', codec.encode);
  fn('codec.decode', codec.decode);
  return codec;
}

/**
 * Validates options once, fills defaults with `??` (so an explicit `0` is kept) and returns a
 * frozen object that the rest of the client reads. Throws `TetherTypeError` / `TetherRangeError`
 * naming the option, the value and what is accepted.
 */
export function normalizeOptions<In, Out>(
  input: ClientOptions<In, Out> | undefined,
): ResolvedOptions<In, Out> {
  const o = object('options', input);
  const d = DEFAULT_OPTIONS;
  const q = object('queue', o.queue);
  const protocols = o.protocols ?? d.protocols;
  const list = typeof protocols === 'string' ? [protocols] : protocols;
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || !/^[!#$%&'*+\-.^_`|~\w]+$/.test(p))) {
    throw invalid('option', 'protocols', protocols, 'a subprotocol token or an array of them');
  }
  if (o.WebSocket !== undefined) fn('WebSocket', o.WebSocket);
  const codec = object('codec', o.codec ?? (passthroughCodec as Codec<In, Out>));
  return Object.freeze({
    protocols: [...list],
    binaryType: oneOf('binaryType', o.binaryType ?? d.binaryType, ['blob', 'arraybuffer'] as const),
    autoOpen: boolean('autoOpen', o.autoOpen ?? d.autoOpen),
    connectTimeout: number('connectTimeout', o.connectTimeout ?? d.connectTimeout, 1, false, false),
    closeTimeout: number('closeTimeout', o.closeTimeout ?? d.closeTimeout, 1, false, false),
    reconnect: normalizeReconnect(o.reconnect),
    queue: Object.freeze({
      maxMessages: number('queue.maxMessages', q.maxMessages ?? d.queue.maxMessages, 0, true, true),
      maxBytes: number('queue.maxBytes', q.maxBytes ?? d.queue.maxBytes, 0, false, true),
      overflow: oneOf('queue.overflow', q.overflow ?? d.queue.overflow, [
        'drop-oldest',
        'drop-newest',
        'throw',
      ] as const),
    }),
    // The user's codec object itself is kept, so codecs that use `this` keep working.
    codec: validateCodec(codec as Codec<In, Out>),
    WebSocket: o.WebSocket,
    random: fn('random', o.random ?? Math.random),
  });
}
