import { CLOSE_CODES, checkClose } from './close.js';
import type { MessageData, SendData } from './codec.js';
import { toWire } from './codec.js';
import { Emitter } from './emitter.js';
import { invalid, TetherError } from './errors.js';
import type { ClientEventMap } from './events.js';
import type { ClientOptions, ResolvedOptions, WebSocketConstructor } from './options.js';
import { normalizeOptions } from './options.js';
import type { ConnectionState } from './state.js';
import { Supervisor } from './supervisor.js';
import type { UrlProvider } from './url.js';
import { resolveUrl } from './url.js';

type Events<In, Out> = ClientEventMap<In, Out>;

/**
 * A `WebSocket` that reconnects with backoff and keeps what you send while it cannot be written.
 *
 * It is the supervisor of its connections (docs/architecture.md): it holds the state machine, the
 * user's wish (`open()` / `close()`), retries and their timer, the promises, and the queue of
 * messages never written. Each attempt is a `Connection` (client/connection.ts), wrapped by the
 * delivery mode's layer if there is one; the client subscribes to it and never looks inside.
 *
 * @example
 * const client = new WebSocketClient('wss://example.com/live', { codec: jsonCodec() });
 * client.on('message', (msg) => render(msg));
 * client.open();
 * client.send({ type: 'chat', text: 'hi' }); // written now if open, queued otherwise
 * await client.close();
 */
export class WebSocketClient<In = MessageData, Out = SendData> {
  readonly #options: ResolvedOptions<In, Out>;
  readonly #events: Emitter<Events<In, Out>>;
  readonly #core: Supervisor<In, Out>;

  /**
   * @param url Where to connect: a string or `URL` (ws, wss, http, https; relative URLs resolve
   *   against `location` in a browser), or a function returning one, sync or async, called before
   *   every attempt (for fresh tokens).
   * @param options See {@link ClientOptions}; validated here, once.
   * @throws TetherTypeError / TetherRangeError for a bad URL or option, and with `autoOpen` when
   *   there is no `WebSocket` constructor (none given, none global).
   */
  constructor(url: UrlProvider, options?: ClientOptions<In, Out>) {
    const first = typeof url === 'function' ? '' : resolveUrl(url);
    const resolved = normalizeOptions(options);
    this.#options = resolved;
    this.#events = new Emitter((error, type) => this.#listenerFailed(error, String(type)));
    this.#core = new Supervisor(url, first, resolved, this.#events);
    // Deferred so that listeners added right after the constructor see the first events.
    if (resolved.autoOpen) {
      // A missing WebSocket is the caller's mistake: it throws here, not later from the microtask,
      // where it would be an uncaught exception (fatal in Node).
      this.#webSocketImpl();
      // Deferred so that listeners added right after the constructor see the first events.
      queueMicrotask(() => this.#core.state === 'idle' && this.open());
    }
  }

  /** The connection state; see the state diagram in `state.ts` and docs/api.md. */
  get state(): ConnectionState {
    return this.#core.state;
  }

  /** `readyState` of the current socket; `3` (CLOSED) while there is none. */
  get readyState(): number {
    return this.#core.transport?.socket?.readyState ?? 3;
  }

  /** The URL of the current or last attempt (`''` before the first call of a URL function). */
  get url(): string {
    return this.#core.url;
  }

  /** The subprotocol the server selected; `''` if none or not connected. */
  get protocol(): string {
    return this.#core.transport?.socket?.protocol ?? '';
  }

  /** Bytes not yet on the network: the socket's `bufferedAmount` plus the queued messages. */
  get bufferedAmount(): number {
    return (this.#core.transport?.socket?.bufferedAmount ?? 0) + this.#core.queue.total()[1];
  }

  /** Messages waiting in the queue (with exactly-once, also those written and not yet acknowledged). */
  get queued(): number {
    return this.#core.queue.total()[0];
  }

  /** Retries since the last stable connection (0 during the first attempt). */
  get attempt(): number {
    return this.#core.retries;
  }

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
  open(): Promise<void> {
    this.#webSocketImpl();
    return this.#core.open();
  }

  /** The `WebSocket` option, or the global one; throws if there is neither (a caller mistake). */
  #webSocketImpl(): void {
    const impl = this.#options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw invalid('option', 'WebSocket', impl, 'a WebSocket constructor (none is global here)');
  }

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
  send(data: Out): boolean {
    return this.#core.send({ data, wire: toWire(this.#options.codec, data) });
  }

  /**
   * Closes the connection and stops reconnecting. Safe in any state, any number of times.
   * - `connecting` / `open`: sends a close frame and waits for the server's, at most `closeTimeout`.
   * - `reconnecting`: cancels the pending retry.
   * - `closing`: joins the close under way. `idle` / `closed`: nothing to close.
   * Queued messages stay queued for a later `open()`.
   *
   * @param code 1000 or 3000–4999 (RFC 6455 §7.4.2: the others are reserved). @default 1000
   * @param reason At most 123 bytes of UTF-8 (RFC 6455 §5.5). @default ''
   * @returns A promise that resolves once the client is `closed`.
   */
  close(code: number = CLOSE_CODES.NORMAL, reason = ''): Promise<void> {
    checkClose(code, reason);
    return this.#core.close(code, reason);
  }

  /**
   * Subscribes to an event; see {@link ClientEventMap}.
   * @returns A function that removes this listener.
   */
  on<K extends keyof Events<In, Out>>(type: K, listener: (payload: Events<In, Out>[K]) => void): () => void {
    return this.#events.on(type, listener);
  }

  /** Like `on()`, for the next event of this type only. `off(type, listener)` also removes it. */
  once<K extends keyof Events<In, Out>>(
    type: K,
    listener: (payload: Events<In, Out>[K]) => void,
  ): () => void {
    return this.#events.once(type, listener);
  }

  /** Removes a listener added with `on()` or `once()`. */
  off<K extends keyof Events<In, Out>>(type: K, listener: (payload: Events<In, Out>[K]) => void): void {
    this.#events.off(type, listener);
  }

  /** A listener threw: report it as `error`, or rethrow it asynchronously if nobody would hear. */
  #listenerFailed(cause: unknown, type: string): void {
    if (type !== 'error' && this.#events.count('error') > 0) {
      this.#events.emit(
        'error',
        new TetherError('LISTENER_ERROR', `A "${type}" listener threw: ${cause}`, { cause }),
      );
    } else {
      queueMicrotask(() => {
        throw cause;
      });
    }
  }
}
