import { backoffDelay } from './backoff.js';
import type { MessageData, SendData } from './codec.js';
import { isSendable } from './codec.js';
import { Disposables } from './disposables.js';
import { Emitter } from './emitter.js';
import { invalid, TetherError } from './errors.js';
import type { ClientEventMap, CloseEvent } from './events.js';
import type { ClientOptions, CloseInfo, ResolvedOptions } from './options.js';
import { normalizeOptions } from './options.js';
import { OutboundQueue } from './queue.js';
import type { ConnectionState } from './state.js';
import { ALLOWED } from './state.js';
import type { UrlProvider } from './url.js';
import { resolveUrl } from './url.js';

type Listener<T> = (payload: T) => void;
type Waiter = { resolve: () => void; reject: (error: TetherError) => void };

const OPEN = 1;
const noop = () => {};

/**
 * A `WebSocket` that reconnects with backoff and keeps what you send while it is not open.
 *
 * @example
 * const client = new WebSocketClient('wss://example.com/live', { codec: jsonCodec() });
 * client.on('message', (msg) => render(msg));
 * client.open();
 * client.send({ type: 'chat', text: 'hi' }); // written now if open, queued otherwise
 * await client.close();
 */
export class WebSocketClient<In = MessageData, Out = SendData> {
  #current: ConnectionState = 'idle';
  readonly #options: ResolvedOptions<In, Out>;
  readonly #events: Emitter<ClientEventMap<In, Out>>;
  readonly #queue: OutboundQueue<Out>;
  /** Everything owned by the current attempt, connection or retry wait; released by `teardown()`. */
  readonly #connection = new Disposables();
  #socket: WebSocket | undefined;
  #lastUrl: string;
  #retries = 0;
  /** The user's latest wish (`open()` or `close()`), which a close handshake in progress may defer. */
  #wantOpen = false;
  #errorEmitted = false;
  #openWaiters: Waiter[] = [];
  #closeWaiters: Array<() => void> = [];
  readonly #target: UrlProvider;

  /**
   * @param url Where to connect: a string or `URL` (ws, wss, http, https; relative URLs resolve
   *   against `location` in a browser), or a function returning one, sync or async, called before
   *   every attempt (for fresh tokens).
   * @param options See {@link ClientOptions}; validated here, once.
   * @throws TetherTypeError / TetherRangeError for a bad URL or option.
   */
  constructor(url: UrlProvider, options?: ClientOptions<In, Out>) {
    this.#target = url;
    this.#lastUrl = typeof url === 'function' ? '' : resolveUrl(url);
    this.#options = normalizeOptions(options);
    this.#events = new Emitter((error, type) => this.#listenerFailed(error, String(type)));
    this.#queue = new OutboundQueue(this.#options.queue, ({ data }, reason) =>
      this.#events.emit('drop', { data, reason }),
    );
    // Deferred so that listeners added right after the constructor see the first events.
    if (this.#options.autoOpen) queueMicrotask(() => this.#current === 'idle' && this.open());
  }

  /** The connection state; see the state diagram in `state.ts` and the README. */
  get state(): ConnectionState {
    return this.#current;
  }

  /** `readyState` of the current socket; `3` (CLOSED) while there is none. */
  get readyState(): number {
    return this.#socket?.readyState ?? 3;
  }

  /** The URL of the current or last attempt (`''` before the first attempt of a URL function). */
  get url(): string {
    return this.#lastUrl;
  }

  /** The subprotocol the server selected, `''` if none or not open. */
  get protocol(): string {
    return this.#socket?.protocol ?? '';
  }

  /** Bytes not yet on the network: the socket's `bufferedAmount` plus the queued messages. */
  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + this.#queue.bytes;
  }

  /** Messages waiting in the queue. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Retries since the last stable connection (0 while the first attempt runs). */
  get attempt(): number {
    return this.#retries;
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
   */
  open(): Promise<void> {
    this.#wantOpen = true;
    if (this.#current === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    opened.catch(noop);
    if (this.#current === 'idle' || this.#current === 'closed') {
      this.#retries = 0;
      this.#connect();
    }
    return opened;
  }

  /**
   * Sends a message, or queues it while the client is not open. Queued messages are written in
   * order, before any newer message, when the next connection opens.
   * - `open`: written to the socket now, unless older messages are still queued.
   * - any other state (including `idle`, `closing` and `closed`): queued for the next connection.
   *
   * @returns `true` if written to the socket now, `false` if queued (or refused by the queue limits,
   *   which emits `drop`).
   * @throws TetherError `ENCODE_FAILED` if the codec throws; TetherTypeError if the encoded data is
   *   not a string, ArrayBuffer, ArrayBufferView or Blob; TetherError `QUEUE_FULL` with
   *   `queue.overflow: 'throw'`. Nothing already queued is lost in any of these cases.
   */
  send(data: Out): boolean {
    let wire: SendData;
    try {
      wire = this.#options.codec.encode(data);
    } catch (cause) {
      throw new TetherError('ENCODE_FAILED', `codec.encode threw: ${String(cause)}`, { cause, data });
    }
    if (!isSendable(wire)) {
      throw invalid(
        'argument',
        'data',
        wire,
        'a string, ArrayBuffer, ArrayBufferView or Blob (after codec.encode)',
      );
    }
    const socket = this.#socket;
    // readyState, not just our state: a socket that received a close frame is CLOSING before its
    // `close` event, and a browser silently discards what is sent to it then.
    if (this.#current === 'open' && socket?.readyState === OPEN && this.#queue.length === 0) {
      socket.send(wire);
      return true;
    }
    this.#queue.push(data, wire);
    return false;
  }

  /**
   * Closes the connection and stops reconnecting. Safe in any state, any number of times.
   * - `connecting` / `open`: sends a close frame and waits for the server's, at most `closeTimeout`.
   * - `reconnecting`: cancels the pending retry.
   * - `closing`: returns the close already under way. `idle` / `closed`: nothing to do.
   * Queued messages stay queued for a later `open()`.
   *
   * @param code 1000 or 3000–4999 (RFC 6455 §7.4; the rest are reserved). @default 1000
   * @param reason At most 123 bytes of UTF-8. @default ''
   * @returns A promise that resolves once the client is `closed`.
   */
  close(code = 1000, reason = ''): Promise<void> {
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw invalid(
        'argument',
        'code',
        code,
        '1000 or an integer from 3000 to 4999',
        typeof code === 'number',
      );
    }
    if (typeof reason !== 'string') throw invalid('argument', 'reason', reason, 'a string');
    if (new TextEncoder().encode(reason).length > 123) {
      throw invalid('argument', 'reason', reason, 'at most 123 bytes of UTF-8', true);
    }
    this.#wantOpen = false;
    const state = this.#current;
    if (state === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    const socket = this.#socket;
    if (state === 'idle') {
      this.#finish(undefined);
    } else if (state === 'reconnecting' || (state === 'connecting' && !socket)) {
      this.#teardown();
      this.#finish({ code, reason, wasClean: true });
    } else if (state !== 'closing' && socket) {
      this.#connection.timeout(
        () => this.#lost({ code: 1006, reason: 'Closing handshake timed out', wasClean: false }),
        this.#options.closeTimeout,
      );
      this.#transition('closing');
      socket.close(code, reason);
    }
    return closed;
  }

  /**
   * Subscribes to an event; see {@link ClientEventMap}.
   * @returns A function that unsubscribes this listener.
   */
  on<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>[K]>,
  ): () => void {
    if (typeof listener !== 'function') throw invalid('argument', 'listener', listener, 'a function');
    return this.#events.on(type, listener);
  }

  /** Like `on()`, for the next event of this type only. */
  once<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>[K]>,
  ): () => void {
    const off = this.on(type, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes a listener added with `on()`. */
  off<K extends keyof ClientEventMap<In, Out>>(
    type: K,
    listener: Listener<ClientEventMap<In, Out>[K]>,
  ): void {
    this.#events.off(type, listener);
  }

  /** Starts one connection attempt: resolve the URL, create the socket, arm the connect timeout. */
  #connect(): void {
    const WebSocketImpl =
      this.#options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (!WebSocketImpl) {
      throw invalid(
        'option',
        'WebSocket',
        WebSocketImpl,
        'a WebSocket constructor (none is global here; pass one)',
      );
    }
    this.#transition('connecting');
    let live = true;
    this.#connection.add(() => {
      live = false;
    });
    const stopConnectTimeout = this.#connection.timeout(
      () => this.#abandon('CONNECT_TIMEOUT', `No connection after ${this.#options.connectTimeout} ms`),
      this.#options.connectTimeout,
    );
    const create = (url: string) => this.#createSocket(WebSocketImpl, url, stopConnectTimeout);
    const target = this.#target;
    if (typeof target !== 'function') return create(this.#lastUrl);
    const failed = (cause: unknown) =>
      live &&
      this.#fail(new TetherError('URL_FAILED', `The url function failed: ${String(cause)}`, { cause }));
    const resolved = (url: string | URL) => {
      if (!live) return;
      try {
        this.#lastUrl = resolveUrl(url, 'url()');
      } catch (error) {
        return failed(error);
      }
      create(this.#lastUrl);
    };
    try {
      const result = target();
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<string | URL>).then(resolved, failed);
      } else resolved(result as string | URL);
    } catch (error) {
      failed(error);
    }
  }

  #createSocket(
    WebSocketImpl: new (url: string, protocols?: string[]) => WebSocket,
    url: string,
    stopConnectTimeout: () => void,
  ): void {
    let socket: WebSocket;
    try {
      socket = new WebSocketImpl(url, this.#options.protocols);
    } catch (cause) {
      return this.#fail(
        new TetherError('SOCKET_ERROR', `new WebSocket() threw: ${String(cause)}`, { cause }),
      );
    }
    socket.binaryType = this.#options.binaryType;
    this.#socket = socket;
    this.#errorEmitted = false;
    const own = this.#connection;
    // Registered first so that it runs last: listeners are gone before the socket is released.
    own.add(() => release(socket));
    own.listen(socket, 'open', () => {
      stopConnectTimeout();
      this.#opened();
    });
    own.listen<MessageEvent>(socket, 'message', (event) => this.#received(event.data));
    own.listen(socket, 'error', (cause) => {
      if (this.#errorEmitted) return;
      this.#errorEmitted = true;
      this.#emitError(new TetherError('SOCKET_ERROR', `WebSocket error on ${url}`, { cause }));
    });
    own.listen<globalThis.CloseEvent>(socket, 'close', (event) =>
      this.#lost({ code: event.code, reason: event.reason, wasClean: event.wasClean }),
    );
  }

  #opened(): void {
    const reconnect = this.#options.reconnect;
    if (reconnect) {
      this.#connection.timeout(() => {
        this.#retries = 0;
      }, reconnect.resetAfter);
    }
    this.#flush();
    const waiters = this.#takeOpenWaiters();
    this.#transition('open');
    for (const waiter of waiters) waiter.resolve();
  }

  #received(data: MessageData): void {
    let message: In;
    try {
      message = this.#options.codec.decode(data);
    } catch (cause) {
      this.#emitError(
        new TetherError('DECODE_FAILED', `codec.decode threw: ${String(cause)}`, { cause, data }),
      );
      return;
    }
    this.#events.emit('message', message);
  }

  /** Writes queued messages, oldest first, while the socket is open. */
  #flush(): void {
    const socket = this.#socket;
    while (socket?.readyState === OPEN && this.#queue.length > 0) {
      socket.send((this.#queue.shift() as { wire: SendData }).wire);
    }
  }

  /** Gives up on the current attempt or connection without waiting for the server. */
  #abandon(code: 'CONNECT_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string): void {
    this.#lost(
      { code: 1006, reason: message, wasClean: false },
      new TetherError(code, `${message}; giving up on ${this.#lastUrl}.`),
    );
  }

  /** A connection attempt failed before a socket existed (URL function, constructor). */
  #fail(error: TetherError): void {
    this.#lost({ code: 1006, reason: error.message, wasClean: false }, error);
  }

  /**
   * The current socket is gone (closed, timed out, failed). Decides between a retry and `closed`.
   * All timers and listeners are released before any event is emitted, so a listener that calls
   * `open()` or `close()` finds a consistent client.
   */
  #lost(close: CloseInfo, error?: TetherError): void {
    const from = this.#current;
    this.#teardown();
    if (error) this.#emitError(error);
    if (this.#current !== from) return; // an error listener already called close() or open()
    const reconnect = this.#options.reconnect;
    if (from === 'closing' || !this.#wantOpen || !reconnect) return this.#stop(close);
    let retry: boolean;
    try {
      retry = reconnect.shouldReconnect(close);
    } catch (cause) {
      this.#emitError(
        new TetherError('LISTENER_ERROR', `reconnect.shouldReconnect threw: ${String(cause)}`, { cause }),
      );
      retry = false;
    }
    if (this.#current !== from) return;
    if (!retry) return this.#stop(close);
    if (this.#retries >= reconnect.maxRetries) {
      const exhausted = new TetherError('RETRIES_EXHAUSTED', `Gave up after ${this.#retries} retries.`);
      this.#emitError(exhausted);
      if (this.#current === from) this.#stop(close, exhausted);
      return;
    }
    const attempt = ++this.#retries;
    const delay = backoffDelay(attempt, reconnect, this.#options.random);
    this.#connection.timeout(() => this.#connect(), delay);
    this.#transition('reconnecting', { ...close, willReconnect: true }, { attempt, delay });
  }

  /** Ends in `closed` for a reason other than a pending `open()` (which `finish` honours). */
  #stop(close: CloseInfo, error?: TetherError): void {
    if (this.#current !== 'closing') this.#wantOpen = false;
    this.#finish(close, error);
  }

  /** The single way into `closed`: settles waiters, then reopens if `open()` came during closing. */
  #finish(close: CloseInfo | undefined, error?: TetherError): void {
    const reopen = this.#wantOpen;
    const openWaiters = reopen ? [] : this.#takeOpenWaiters();
    const closeWaiters = this.#closeWaiters;
    this.#closeWaiters = [];
    this.#transition('closed', close && { ...close, willReconnect: false });
    const reason = error ?? new TetherError('CLOSED', 'The client was closed before the connection opened.');
    for (const waiter of openWaiters) waiter.reject(reason);
    for (const resolve of closeWaiters) resolve();
    if (reopen && this.#wantOpen && this.#current === 'closed') {
      this.#retries = 0;
      this.#connect();
    }
  }

  /** Releases the attempt's timers and listeners, and the socket, in that order. */
  #teardown(): void {
    this.#connection.dispose();
    this.#socket = undefined;
  }

  #takeOpenWaiters(): Waiter[] {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    return waiters;
  }

  /** The one place the state changes. Emits `state`, then the event specific to the move. */
  #transition(to: ConnectionState, close?: CloseEvent, retry?: ClientEventMap['reconnecting']): void {
    const from = this.#current;
    if (!ALLOWED[from].includes(to))
      throw new Error(`tether-ws internal error: illegal transition ${from} -> ${to}`);
    this.#current = to;
    this.#events.emit('state', { from, to });
    if (to === 'open') this.#events.emit('open', { url: this.#lastUrl, protocol: this.protocol });
    if (close) this.#events.emit('close', close);
    if (retry) this.#events.emit('reconnecting', retry);
  }

  #emitError(error: TetherError): void {
    this.#events.emit('error', error);
  }

  /** A listener threw: report it through `error`, or rethrow it asynchronously if nobody listens. */
  #listenerFailed(cause: unknown, type: string): void {
    if (type !== 'error' && this.#events.count('error') > 0) {
      this.#emitError(
        new TetherError('LISTENER_ERROR', `A "${type}" listener threw: ${String(cause)}`, { cause }),
      );
    } else {
      queueMicrotask(() => {
        throw cause;
      });
    }
  }
}

/**
 * Lets go of a socket we no longer listen to. A no-op `error` listener stays on it: with Node's `ws`
 * (an EventEmitter) an `error` without a listener would crash the process.
 */
function release(socket: WebSocket): void {
  socket.addEventListener('error', noop);
  // Node's `ws` has terminate(): it frees the TCP socket now instead of after its own 30 s close timer.
  const terminate = (socket as { terminate?: () => void }).terminate;
  if (terminate && socket.readyState !== 3) terminate.call(socket);
  else if (socket.readyState <= OPEN) socket.close();
}
