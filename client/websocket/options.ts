import type { ClientOptions, CloseInfo } from 'tether-ws';
import { TetherTypeError } from 'tether-ws';

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
}

/**
 * Every option of `WebSocketClient` except `codec` (a `WebSocket` delivers raw data) and
 * `protocols` (the constructor's second argument), plus the peers' names.
 * `autoOpen` defaults to `true` here: a `WebSocket` connects when it is constructed.
 * `binaryType` is the initial value of the `binaryType` property.
 */
export interface TetherWebSocketOptions extends Omit<ClientOptions, 'codec' | 'protocols'>, PeerOptions {}

type Group = Record<string, unknown>;

/**
 * Translates the peers' names into tether-ws's and applies this class's own default (`autoOpen`).
 * Values are not checked here: `WebSocketClient` validates the result once and names the option.
 * A peer's reconnect option is left alone when `reconnect` is `false` (there are no delays to set)
 * or invalid (the client rejects it).
 */
export function toClientOptions(input: TetherWebSocketOptions = {}): ClientOptions {
  if (typeof input !== 'object' || !input)
    throw new TetherTypeError('argument', 'options', input, 'an object');
  const out: Group = { ...input };
  for (const [peer, path] of Object.entries(PEER_OPTIONS)) {
    const value = out[peer];
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
  }
  out.autoOpen ??= true;
  return out;
}
