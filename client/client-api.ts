import type { Listener } from './emitter.js';
import type { ClientEventInfo, ClientEventMap } from './events.js';
import type { ConnectionState } from './state.js';

/**
 * The public surface of `WebSocketClient`, documented here once: what each member does in each
 * state (docs/api.md has the same as tables). The class implements it.
 */
export interface ClientApi<In, Out> {
  /** The connection state; see the state diagram in docs/api.md ("State"). */
  readonly state: ConnectionState;
  /** `readyState` of the current socket; `3` (CLOSED) while there is none. */
  readonly readyState: number;
  /** The URL of the current or last attempt (`''` before the first call of a URL function). */
  readonly url: string;
  /** The subprotocol the server selected; `''` if none or not connected. */
  readonly protocol: string;
  /**
   * Bytes not yet on the network: the socket's `bufferedAmount` plus the queued messages (and
   * those a delivery mode holds until acknowledged).
   */
  readonly bufferedAmount: number;
  /** Messages waiting in the queue (and those a delivery mode holds until acknowledged). */
  readonly queued: number;
  /** Retries since the last stable connection (0 during the first attempt). */
  readonly attempt: number;

  /**
   * Connects, and keeps reconnecting per `reconnect` until `close()`. Idempotent.
   * - `idle` / `closed`: starts a fresh attempt (the retry counter starts over).
   * - `connecting` / `reconnecting`: already on its way; nothing changes.
   * - `closing`: the close completes first, then a fresh attempt starts.
   * - `open`: resolves at once.
   *
   * @returns A promise that resolves on the next `open`, and rejects with `CLOSED` or
   *   `RETRIES_EXHAUSTED` if the client stops first. Ignoring it is safe: it never causes an
   *   unhandled rejection by itself.
   * @throws TetherTypeError if there is no `WebSocket` constructor (pass the `WebSocket` option).
   */
  open(): Promise<void>;

  /**
   * Sends a message now, or queues it. Queued messages are written in order, before any newer one.
   * - `open`: written to the socket now, unless older messages wait or the socket's
   *   `bufferedAmount` is above `highWaterMark` (then queued and written as it drains).
   * - any other state (including `idle`, `closing` and `closed`): queued for the next connection.
   *
   * @returns `true` if written to the socket now, `false` if queued (or refused by the queue's
   *   limits, which emits `drop`).
   * @throws TetherError `ENCODE_FAILED` if the codec throws; TetherTypeError if the encoded data is
   *   not a string, ArrayBuffer, ArrayBufferView or Blob; TetherError `QUEUE_FULL` with
   *   `queue.overflow: 'throw'`. Nothing already queued is lost in any of these cases.
   */
  send(data: Out): boolean;

  /**
   * Closes the connection and stops reconnecting. Safe in any state, any number of times.
   * - `connecting` / `open`: sends a close frame and waits for the server's, at most `closeTimeout`.
   * - `reconnecting`: cancels the pending retry.
   * - `closing`: joins the close under way. `idle` / `closed`: nothing to close.
   * Nothing queued vanishes (docs/guarantees.md, "close()"): while `open`, the queue is written
   * before the close frame; otherwise each queued message is reported (`drop`, reason `'closed'`) a
   * microtask later and removed, unless `open()` is called in the same task. With exactly-once
   * delivery, an `open` client first waits (at most `closeTimeout`) for the server to acknowledge
   * what it wrote; `session-lost` then holds only what it did not.
   *
   * @param code 1000 or 3000–4999 (RFC 6455 §7.4.2: the others are reserved). @default 1000
   * @param reason At most 123 bytes of UTF-8 (RFC 6455 §5.5). @default ''
   * @returns A promise that resolves once the client is `closed`.
   */
  close(code?: number, reason?: string): Promise<void>;

  /**
   * Subscribes to an event; see {@link ClientEventMap}. A `message` listener gets the data and, in
   * exactly-once mode, its {@link MessageInfo} (`{ seq, sessionId, redelivered }`) as a second argument.
   * @returns A function that removes this listener.
   */
  on<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>, ClientEventInfo, K>,
  ): () => void;

  /** Like `on()`, for the next event of this type only. `off(type, listener)` also removes it. */
  once<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>, ClientEventInfo, K>,
  ): () => void;

  /** Removes a listener added with `on()` or `once()`. */
  off<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>, ClientEventInfo, K>,
  ): void;
}
