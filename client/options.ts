import { PING, PONG } from '../protocol/heartbeat.js';
import type { CloseInfo } from './close.js';
import { NO_RETRY_CODES } from './close.js';
import { closestName } from './closest-name.js';
import type { Codec, MessageData, SendData } from './codec.js';
import { isSendable, passthroughCodec } from './codec.js';
import type { Delivery } from './delivery.js';
import { invalid } from './errors.js';
import { check } from './option-rules.js';

/** What `binaryType` accepts in every environment (the DOM's `BinaryType`, without needing the DOM library). */
export type SocketBinaryType = 'blob' | 'arraybuffer';

/**
 * The part of a WebSocket the client uses. Written out rather than taken from the DOM library, so
 * that the browser's `WebSocket`, `ws`'s (Node) and mock-socket's all fit as they are typed, and a
 * project without the DOM library can read these types.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: SendData): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: unknown) => void): void;
  removeEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: unknown) => void): void;
}

/** The `WebSocket` constructor to use: the browser's own, mock-socket's, or `ws`'s in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface ReconnectOptions {
  /** Base delay before the first retry, in ms. @default 1000 */
  minDelay?: number;
  /** Upper bound of any delay, in ms; at least `minDelay`. @default 30000 */
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
  /** Messages kept while they cannot be written. @default Infinity */
  maxMessages?: number;
  /** Bytes kept while they cannot be written (UTF-8 length for text). @default 16777216 (16 MiB) */
  maxBytes?: number;
  /**
   * What happens when a message does not fit: `'drop-oldest'` evicts the oldest, `'drop-newest'`
   * refuses the new one (both emit `drop` with the message), `'throw'` makes `send()` throw
   * `QUEUE_FULL` and keeps the queue as it was.
   * @default 'drop-oldest'
   */
  overflow?: 'drop-oldest' | 'drop-newest' | 'throw';
}

export interface HeartbeatOptions {
  /** Send a ping after this long with nothing received, in ms. @default 25000 */
  interval?: number;
  /** Declare the connection dead if nothing at all arrives this long after a ping, in ms. @default 10000 */
  timeout?: number;
  /** The ping message, written as is (not through the codec). @default '__ping__' */
  ping?: SendData;
  /** Recognises the server's answer; a pong is never delivered as `message`. @default (data) => data === '__pong__' */
  isPong?: (data: MessageData) => boolean;
}

export interface ClientOptions<In = MessageData, Out = SendData> {
  /** Subprotocols offered on every connection (`Sec-WebSocket-Protocol`). @default [] */
  protocols?: string | string[];
  /** `binaryType` of every underlying socket. @default 'blob' */
  binaryType?: SocketBinaryType;
  /** Connect as soon as the client is built (on the next microtask, so listeners can be added). @default false */
  autoOpen?: boolean;
  /** Reconnect with exponential backoff; `false` turns it off, `true` means all defaults. @default true */
  reconnect?: boolean | ReconnectOptions;
  /** An attempt still connecting after this long is abandoned and retried, in ms. @default 10000 */
  connectTimeout?: number;
  /** How long `close()` waits for the closing handshake before giving up on it, in ms. @default 5000 */
  closeTimeout?: number;
  /** The outbound queue, used while the client is not open or the socket is backed up. */
  queue?: QueueOptions;
  /**
   * Application-level heartbeat, to notice half-open connections a browser cannot see (it has no
   * protocol pings). Off by default: the server must answer the ping. `true` means all defaults.
   * @default false
   */
  heartbeat?: boolean | HeartbeatOptions;
  /**
   * While the socket's `bufferedAmount` is above this many bytes, new messages wait in the queue
   * and drain as the socket drains, in order. `Infinity` turns backpressure off.
   * @default 1048576 (1 MiB)
   */
  highWaterMark?: number;
  /**
   * Browser only: pause retries while `navigator.onLine` is false and retry at once on `online`;
   * with a heartbeat, check the connection at once when the page becomes visible again.
   * @default true
   */
  watchNetwork?: boolean;
  /**
   * `'best-effort'`: queued messages are delivered in order; a message already written to a socket
   * that dies may be lost. `exactlyOnce()` from `tether-ws/exactly-once`: every message in both
   * directions is delivered exactly once, in order, across disconnects shorter than its resume
   * window (docs/protocol.md); it turns the heartbeat on unless `heartbeat` says otherwise.
   * @default 'best-effort'
   */
  delivery?: 'best-effort' | Delivery;
  /** Encodes sent values and decodes received data. @default passthrough */
  codec?: Codec<In, Out>;
  /** The `WebSocket` constructor. @default globalThis.WebSocket, looked up at `open()` */
  WebSocket?: WebSocketConstructor;
  /** Random source in [0, 1) for jitter; inject one to make delays deterministic. @default Math.random */
  random?: () => number;
}

/** Every default, in one place. The options table of docs/api.md is checked against this object by a test. */
export const DEFAULT_OPTIONS = {
  protocols: [] as string[],
  binaryType: 'blob' as SocketBinaryType,
  autoOpen: false,
  connectTimeout: 10_000,
  closeTimeout: 5_000,
  highWaterMark: 1_048_576,
  watchNetwork: true,
  delivery: 'best-effort' as 'best-effort' | Delivery,
  reconnect: {
    minDelay: 1_000,
    maxDelay: 30_000,
    factor: 2,
    jitter: 0.5,
    maxRetries: Number.POSITIVE_INFINITY,
    resetAfter: 5_000,
    shouldReconnect: (close: CloseInfo): boolean => !NO_RETRY_CODES.includes(close.code),
  },
  queue: {
    maxMessages: Number.POSITIVE_INFINITY,
    maxBytes: 16_777_216,
    overflow: 'drop-oldest' as NonNullable<QueueOptions['overflow']>,
  },
  /** Used when `heartbeat` is `true` or an object; the option itself defaults to `false`. */
  heartbeat: {
    interval: 25_000,
    timeout: 10_000,
    ping: PING as SendData,
    isPong: (data: MessageData): boolean => data === PONG,
  },
};

type Defaults = typeof DEFAULT_OPTIONS;
export type ResolvedReconnect = Defaults['reconnect'];
export type ResolvedHeartbeat = Defaults['heartbeat'];
export type ResolvedOptions<In, Out> = Readonly<
  Omit<Defaults, 'reconnect' | 'heartbeat' | 'queue'> & {
    reconnect: ResolvedReconnect | false;
    heartbeat: ResolvedHeartbeat | false;
    queue: Defaults['queue'];
    codec: Codec<In, Out>;
    WebSocket: WebSocketConstructor | undefined;
    random: () => number;
  }
>;

/** Resolves one level of options against its defaults; `false` turns a nested group off. */
function resolve<T extends object>(
  defaults: T,
  input: unknown,
  prefix: string,
  canDisable: boolean,
): T | false {
  if (canDisable && input === false) return false;
  const given = input === undefined || input === true ? {} : input;
  if (given === null || typeof given !== 'object') {
    throw invalid(
      'option',
      prefix || 'options',
      input,
      canDisable ? 'true, false or an object' : 'an object',
    );
  }
  const out: Record<string, unknown> = {};
  // The given names too: one the table does not know is a typo (it would be ignored, and its option
  // left at the default), reported with the closest known name.
  for (const key in { ...defaults, ...given }) {
    const value = (given as Record<string, unknown>)[key];
    const name = prefix ? `${prefix}.${key}` : key;
    if (!Object.hasOwn(defaults, key))
      throw invalid('option', name, value, `"${closestName(key, defaults)}"`);
    const fallback = defaults[key as keyof T];
    const nested = fallback && typeof fallback === 'object' && !Array.isArray(fallback);
    out[key] = nested
      ? resolve(fallback, value ?? fallback, name, key !== 'queue')
      : check(name, value ?? fallback, fallback);
  }
  return Object.freeze(out) as T;
}

/**
 * Validates options once, fills defaults with `??` (so an explicit `0` is kept) and returns a
 * frozen object that the rest of the client reads. Throws `TetherTypeError` / `TetherRangeError`
 * naming the option, the value and what is accepted.
 */
export function normalizeOptions<In, Out>(
  input: ClientOptions<In, Out> | undefined,
): ResolvedOptions<In, Out> {
  const given = (input ?? {}) as ClientOptions<In, Out>;
  // `heartbeat` defaults to off although its group has defaults: only `true` or an object enable it,
  // or a delivery mode such as exactly-once, whose half-open detection depends on it (docs/protocol.md §6).
  // `??` as in resolve(): null and undefined mean the default mode.
  const heartbeatOn = given.heartbeat ?? (given.delivery ?? DEFAULT_OPTIONS.delivery) !== 'best-effort';
  // `codec`, `WebSocket` and `random` have no default in DEFAULT_OPTIONS; here they are known names
  // (so no unknown-option error), and the last two are type-checked with the others (`check` stands
  // for "any function"; `null`, of kind object, for "checked below").
  const defaults = {
    ...DEFAULT_OPTIONS,
    heartbeat: heartbeatOn ? DEFAULT_OPTIONS.heartbeat : false,
    codec: null,
    WebSocket: check,
    random: Math.random,
  };
  const withHeartbeat = input && typeof input === 'object' ? { ...input, heartbeat: heartbeatOn } : input;
  const resolved = resolve(defaults, withHeartbeat, '', false) as unknown as ResolvedOptions<In, Out>;
  const protocols = given.protocols ?? [];
  const list = typeof protocols === 'string' ? [protocols] : protocols;
  // Subprotocols are HTTP tokens (RFC 6455 §4.1), each offered once (WHATWG WebSocket constructor,
  // step 6); a browser would throw a SyntaxError, and the class would fail every attempt.
  if (!Array.isArray(list) || list.some((p, i) => !/^[\w!#$%&'*+.^`|~-]+$/.test(p) || list.indexOf(p) < i)) {
    throw invalid('option', 'protocols', protocols, 'distinct subprotocol tokens');
  }
  const { reconnect, heartbeat } = resolved;
  if (reconnect && reconnect.maxDelay < reconnect.minDelay) {
    throw invalid(
      'option',
      'reconnect.maxDelay',
      reconnect.maxDelay,
      `a number >= reconnect.minDelay (${reconnect.minDelay})`,
      true,
    );
  }
  if (heartbeat && !isSendable(heartbeat.ping)) {
    throw invalid(
      'option',
      'heartbeat.ping',
      heartbeat.ping,
      'a string, ArrayBuffer, ArrayBufferView or Blob',
    );
  }
  const codec = (given.codec ?? passthroughCodec) as Codec<In, Out>;
  for (const part of ['encode', 'decode'] as const) check(`codec.${part}`, codec?.[part], check);
  return Object.freeze({
    ...resolved,
    protocols: list,
    codec,
    WebSocket: given.WebSocket,
    random: resolved.random,
  });
}

/** Throws if there is neither a `WebSocket` option nor a global one (a caller mistake). */
export function requireWebSocket(options: Pick<ResolvedOptions<unknown, unknown>, 'WebSocket'>): void {
  if (!(options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket))
    throw invalid('option', 'WebSocket', undefined, 'a WebSocket constructor (none is global here)');
}
