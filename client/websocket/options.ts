import type { ClientOptions, CloseInfo, SocketBinaryType } from 'tether-ws';
import { DEFAULT_OPTIONS, TetherTypeError } from 'tether-ws';

/**
 * The option names of reconnecting-websocket and partysocket that mean the same as one of
 * tether-ws's, so code moving over can keep them. Each is translated once, in the constructor, to
 * the tether-ws option on its right; naming both (`minReconnectionDelay` and `reconnect.minDelay`)
 * is an error rather than a silent choice. docs/websocket.md carries the same table, checked by a test.
 */
export const PEER_OPTIONS = {
  minReconnectionDelay: 'reconnect.minDelay',
  maxReconnectionDelay: 'reconnect.maxDelay',
  reconnectionDelayGrowFactor: 'reconnect.factor',
  minUptime: 'reconnect.resetAfter',
  maxRetries: 'reconnect.maxRetries',
  shouldReconnectOnClose: 'reconnect.shouldReconnect',
  connectionTimeout: 'connectTimeout',
  maxEnqueuedMessages: 'queue.maxMessages',
  startClosed: 'autoOpen',
} as const;

/** Options under their reconnecting-websocket / partysocket names; see {@link PEER_OPTIONS}. */
export interface PeerOptions {
  /** Same as `reconnect.minDelay` (ms). */
  minReconnectionDelay?: number;
  /** Same as `reconnect.maxDelay` (ms). */
  maxReconnectionDelay?: number;
  /** Same as `reconnect.factor`. */
  reconnectionDelayGrowFactor?: number;
  /** Same as `reconnect.resetAfter` (ms). */
  minUptime?: number;
  /** Same as `reconnect.maxRetries`. */
  maxRetries?: number;
  /** partysocket's name for `reconnect.shouldReconnect`. */
  shouldReconnectOnClose?: (close: CloseInfo) => boolean;
  /** Same as `connectTimeout` (ms). */
  connectionTimeout?: number;
  /**
   * Same as `queue.maxMessages`; like the peers, a full queue then refuses the newest message
   * (`queue.overflow: 'drop-newest'`, unless `queue.overflow` says otherwise), and says so with a `drop` event.
   */
  maxEnqueuedMessages?: number;
  /** The opposite of `autoOpen`: do not connect until `reconnect()`. @default false */
  startClosed?: boolean;
  /**
   * Accepted and ignored: this class does not log (docs/websocket.md, "What differs"). Listen to
   * `socket.client`'s `state` and `reconnecting` events for what the peers' debug lines show.
   */
  debug?: boolean;
  /** partysocket's logger for `debug`: accepted and ignored, as `debug` is. */
  debugLogger?: (...args: unknown[]) => void;
}

/** `binaryType` values: the standard's two, and in Node (where there is a `Buffer`) `ws`'s `'nodebuffer'` and `'fragments'`. */
export type TetherBinaryType = SocketBinaryType | 'nodebuffer' | 'fragments';

/**
 * Every option of `WebSocketClient` except `codec` (a `WebSocket` delivers raw data) and
 * `protocols` (the constructor's second argument), plus the peers' names.
 * `autoOpen` defaults to `true` here: a `WebSocket` connects when it is constructed.
 * `binaryType` is the initial value of the `binaryType` property.
 */
export interface TetherWebSocketOptions
  extends Omit<ClientOptions, 'codec' | 'protocols' | 'binaryType'>,
    PeerOptions {
  /** The initial value of the `binaryType` property. @default 'blob' */
  binaryType?: TetherBinaryType;
}

type Group = Record<string, unknown>;

/**
 * Translates the peers' names into tether-ws's and applies this class's own default (`autoOpen`).
 * Values are not checked here: `WebSocketClient` validates the result once and names the option.
 * A peer's reconnect option is left alone when `reconnect` is `false` (there are no delays to set)
 * or invalid (the client rejects it). The peers' `debug` and `debugLogger`, which this class
 * accepts and ignores, are taken out, so the client sees only its own options (`binaryType` is
 * overridden by the class).
 */
export function toClientOptions(input: TetherWebSocketOptions = {}): ClientOptions {
  if (typeof input !== 'object' || !input)
    throw new TetherTypeError('argument', 'options', input, 'an object');
  const out: Group = { ...input };
  delete out.debug;
  delete out.debugLogger;
  for (const [peer, path] of Object.entries(PEER_OPTIONS)) {
    const value = out[peer];
    // Translated below or ignored (see above): never passed on, where it is no option of the client's.
    delete out[peer];
    const [group, key] = path.split('.') as [string, string?];
    const parent = out[group];
    if (value === undefined || (key && parent !== true && typeof parent !== 'object' && parent !== undefined))
      continue;
    // `{ ...true }` and `{ ...undefined }` are `{}`: `reconnect: true` means all defaults.
    const target = key ? { ...(parent as Group) } : out;
    if (key) out[group] = target;
    if (target[key ?? group] !== undefined)
      throw new TetherTypeError('option', peer, value, `not both it and "${path}" (the same option)`);
    target[key ?? group] = peer === 'startClosed' ? !value : value;
    if (key === 'maxMessages') target.overflow ??= 'drop-newest';
    // The peers take a maximum alone below their default minimum (`{ maxReconnectionDelay: 200 }`)
    // and cap every delay at it. A minimum equal to the maximum gives that schedule exactly (each
    // delay is min(max, min × factor^(n−1))) without loosening the client's own check that
    // `reconnect.maxDelay` is at least `reconnect.minDelay` when both are given.
    if (key === 'maxDelay' && (value as number) < DEFAULT_OPTIONS.reconnect.minDelay)
      target.minDelay ??= value;
  }
  out.autoOpen ??= true;
  return out;
}
