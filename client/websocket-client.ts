import { backoffDelay } from './backoff.js';
import type { CloseInfo } from './close.js';
import { checkClose, closeInfo } from './close.js';
import type { MessageData, SendData } from './codec.js';
import { isSendable } from './codec.js';
import type { Delivery, DeliveryLink } from './delivery.js';
import { Disposables } from './disposables.js';
import { Emitter } from './emitter.js';
import { invalid, TetherError } from './errors.js';
import type { ClientEventMap, CloseEvent } from './events.js';
import type { ClientOptions, ResolvedOptions, WebSocketConstructor } from './options.js';
import { normalizeOptions } from './options.js';
import type { QueuedMessage } from './queue.js';
import { OutboundQueue } from './queue.js';
import type { ConnectionState } from './state.js';
import { ALLOWED } from './state.js';
import type { UrlProvider } from './url.js';
import { resolveUrl } from './url.js';
import { watchEnvironment } from './watch.js';

/**
 * The option's public type is structural (`WebSocketLike`, so that `ws` fits as it is typed); inside,
 * the socket is read through the DOM's `WebSocket` type, which every accepted constructor implements.
 */
type DomWebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

type Events<In, Out> = ClientEventMap<In, Out>;
type Waiter = { resolve: () => void; reject: (error: TetherError) => void };

const OPEN = 1;
/** How often a backed-up socket is checked for room: browsers have no `drain` event. */
const DRAIN_POLL_MS = 5;
const noop = () => {};

/**
 * A `WebSocket` that reconnects with backoff and keeps what you send while it cannot be written.
 *
 * @example
 * const client = new WebSocketClient('wss://example.com/live', { codec: jsonCodec() });
 * client.on('message', (msg) => render(msg));
 * client.open();
 * client.send({ type: 'chat', text: 'hi' }); // written now if open, queued otherwise
 * await client.close();
 */
export class WebSocketClient<In = MessageData, Out = SendData> {
  #state: ConnectionState = 'idle';
  readonly #options: ResolvedOptions<In, Out>;
  readonly #target: UrlProvider;
  readonly #events: Emitter<Events<In, Out>>;
  readonly #queue: OutboundQueue<Out>;
  /** Timers and listeners of the current attempt, connection or retry wait: released by `#teardown()`. */
  readonly #connection = new Disposables();
  /** Network and page listeners, held from `open()` until `closed`. */
  readonly #watchers = new Disposables();
  #socket: WebSocket | undefined;
  #url: string;
  #retries = 0;
  /** The user's latest wish; an `open()` during a closing handshake is honoured once it ends. */
  #wantOpen = false;
  #draining = false;
  /** Inbound messages on this connection, and when the last one came: the heartbeat's evidence. */
  #inbound = 0;
  #lastInbound = 0;
  /** A ping is out and its deadline is running: a new check must not push that deadline back. */
  #awaitingPong = false;
  /** Cancels the pending heartbeat timer, or the pending retry timer while reconnecting. */
  #cancelTimer = noop;
  /** The delivery mode's side of things (exactly-once); undefined in best-effort mode. */
  readonly #link: DeliveryLink<Out> | undefined;
  #openWaiters: Waiter[] = [];
  #closeWaiters: Array<() => void> = [];

  /**
   * @param url Where to connect: a string or `URL` (ws, wss, http, https; relative URLs resolve
   *   against `location` in a browser), or a function returning one, sync or async, called before
   *   every attempt (for fresh tokens).
   * @param options See {@link ClientOptions}; validated here, once.
   * @throws TetherTypeError / TetherRangeError for a bad URL or option, and with `autoOpen` when
   *   there is no `WebSocket` constructor (none given, none global).
   */
  constructor(url: UrlProvider, options?: ClientOptions<In, Out>) {
    this.#url = typeof url === 'function' ? '' : resolveUrl(url);
    this.#target = url;
    this.#options = normalizeOptions(options);
    // Event names are strings: the map's keys.
    this.#events = new Emitter((error, type) => this.#listenerFailed(error, type as string));
    this.#link = this.#options.delivery === 'best-effort' ? undefined : this.#createLink();
    this.#queue = new OutboundQueue(
      this.#options.queue,
      ({ data }, reason) => this.#events.emit('drop', { data, reason }),
      this.#link?.held,
    );
    if (this.#options.autoOpen) {
      // A missing WebSocket is the caller's mistake: it throws here, not later from the microtask,
      // where it would be an uncaught exception (fatal in Node).
      this.#webSocketImpl();
      // Deferred so that listeners added right after the constructor see the first events.
      queueMicrotask(() => this.#state === 'idle' && this.open());
    }
  }

  /** The connection state; see the state diagram in `state.ts` and docs/api.md. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** `readyState` of the current socket; `3` (CLOSED) while there is none. */
  get readyState(): number {
    return this.#socket?.readyState ?? 3;
  }

  /** The URL of the current or last attempt (`''` before the first call of a URL function). */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server selected; `''` if none or not connected. */
  get protocol(): string {
    return this.#socket?.protocol ?? '';
  }

  /**
   * Bytes not yet on the network: the socket's `bufferedAmount` plus the queued messages (and
   * those a delivery mode holds until acknowledged).
   */
  get bufferedAmount(): number {
    return (this.#socket?.bufferedAmount ?? 0) + this.#queue.bytes + (this.#link?.held.bytes ?? 0);
  }

  /** Messages waiting in the queue (and those a delivery mode holds until acknowledged). */
  get queued(): number {
    return this.#queue.length + (this.#link?.held.length ?? 0);
  }

  /** Retries since the last stable connection (0 during the first attempt). */
  get attempt(): number {
    return this.#retries;
  }

  /** The `WebSocket` option, or the global one; throws if there is neither (a caller mistake). */
  #webSocketImpl(): WebSocketConstructor {
    const impl = this.#options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!impl) throw invalid('option', 'WebSocket', impl, 'a WebSocket constructor (none is global here)');
    return impl;
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
    this.#wantOpen = true;
    if (this.#state === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    opened.catch(noop);
    if (this.#state === 'idle' || this.#state === 'closed') {
      this.#retries = 0;
      if (this.#options.watchNetwork) {
        watchEnvironment(this.#watchers, {
          online: () => this.#state === 'reconnecting' && this.#connect(),
          offline: () => this.#pauseOrProbe(),
          visible: (hiddenFor) =>
            this.#options.heartbeat && hiddenFor > this.#options.heartbeat.interval && this.#heartbeat(true),
        });
      }
      this.#connect();
    }
    return opened;
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
    let wire: SendData;
    try {
      wire = this.#options.codec.encode(data);
    } catch (cause) {
      throw new TetherError('ENCODE_FAILED', `codec.encode threw: ${cause}`, { cause, data });
    }
    if (!isSendable(wire))
      throw invalid('argument', 'data', wire, 'a string, ArrayBuffer, ArrayBufferView or Blob');
    const socket = this.#socket;
    // readyState, not only our state: a socket that got a close frame is CLOSING before its
    // `close` event, and a browser silently discards what is sent to it then. Exactly-once
    // messages always go through the queue, which keeps them until they are acknowledged.
    if (
      !this.#link?.framed &&
      this.#state === 'open' &&
      socket?.readyState === OPEN &&
      this.#queue.length === 0 &&
      !(socket.bufferedAmount > this.#options.highWaterMark)
    ) {
      socket.send(wire);
      return true;
    }
    const kept = this.#queue.push(data, wire);
    if (this.#state === 'open') this.#flush();
    return kept && !!this.#link?.framed && this.#state === 'open' && this.#queue.length === 0;
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
  close(code = 1000, reason = ''): Promise<void> {
    checkClose(code, reason);
    this.#wantOpen = false;
    const state = this.#state;
    if (state === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    const socket = this.#socket;
    if (state === 'closing') return closed;
    if (socket) {
      this.#cancelTimer(); // no heartbeat pings during the closing handshake
      this.#connection.timeout(
        () => this.#lost(closeInfo('Closing handshake timed out')),
        this.#options.closeTimeout,
      );
      this.#transition('closing');
      this.#link?.bye();
      socket.close(code, reason);
    } else {
      this.#teardown();
      this.#finish(state === 'idle' ? undefined : { code, reason, wasClean: true });
    }
    return closed;
  }

  /**
   * Subscribes to an event; see {@link ClientEventMap}.
   * @returns A function that removes this listener.
   */
  on<K extends keyof Events<In, Out>>(type: K, listener: (payload: Events<In, Out>[K]) => void): () => void {
    if (typeof listener !== 'function') throw invalid('argument', 'listener', listener, 'a function');
    return this.#events.on(type, listener);
  }

  /** Like `on()`, for the next event of this type only. `off(type, listener)` also removes it. */
  once<K extends keyof Events<In, Out>>(
    type: K,
    listener: (payload: Events<In, Out>[K]) => void,
  ): () => void {
    if (typeof listener !== 'function') throw invalid('argument', 'listener', listener, 'a function');
    return this.#events.once(type, listener);
  }

  /** Removes a listener added with `on()` or `once()`. */
  off<K extends keyof Events<In, Out>>(type: K, listener: (payload: Events<In, Out>[K]) => void): void {
    this.#events.off(type, listener);
  }

  /** Starts one attempt: resolve the URL, create the socket; the connect timeout covers both. */
  #connect(): void {
    this.#teardown();
    this.#transition('connecting');
    const own = this.#connection;
    let live = true;
    own.add(() => {
      live = false;
    });
    const stopTimeout = own.timeout(
      () => this.#abandon('CONNECT_TIMEOUT', `No connection after ${this.#options.connectTimeout} ms`),
      this.#options.connectTimeout,
    );
    const failed = (cause: unknown) =>
      live && this.#fail(new TetherError('URL_FAILED', `The url function failed: ${cause}`, { cause }));
    const create = (url: string | URL) => {
      if (!live) return;
      try {
        this.#url = resolveUrl(url, 'url()');
      } catch (error) {
        failed(error);
        return;
      }
      this.#createSocket(stopTimeout);
    };
    const target = this.#target;
    try {
      const url = typeof target === 'function' ? target() : target;
      if (typeof (url as PromiseLike<unknown>).then === 'function')
        (url as PromiseLike<string>).then(create, failed);
      else create(url as string | URL);
    } catch (error) {
      failed(error);
    }
  }

  #createSocket(stopTimeout: () => void): void {
    const { WebSocket: Impl, protocols, binaryType } = this.#options;
    const link = this.#link;
    let socket: WebSocket;
    try {
      socket = new ((Impl ?? globalThis.WebSocket) as unknown as DomWebSocketConstructor)(
        ...(link ? link.target(this.#url, protocols) : ([this.#url, protocols] as const)),
      );
    } catch (cause) {
      this.#fail(new TetherError('SOCKET_ERROR', `new WebSocket() threw: ${cause}`, { cause }));
      return;
    }
    // Framed binary messages carry a header that must be read synchronously.
    socket.binaryType = link ? 'arraybuffer' : binaryType;
    this.#socket = socket;
    this.#awaitingPong = false;
    this.#inbound = 0;
    const own = this.#connection;
    // Added first so it runs last: listeners are detached before the socket is let go.
    own.add(() => release(socket));
    own.listen(socket, 'open', () => this.#socketOpened(socket, stopTimeout));
    own.listen<MessageEvent>(socket, 'message', (event) => this.#received(event.data));
    own.listen(socket, 'error', (cause) => {
      this.#events.emit(
        'error',
        new TetherError('SOCKET_ERROR', `WebSocket error on ${this.#url}`, { cause }),
      );
    });
    own.listen<globalThis.CloseEvent>(socket, 'close', ({ code, reason, wasClean }) =>
      this.#lost({ code, reason, wasClean }),
    );
  }

  /** Best-effort: the connection is open. Exactly-once: the link negotiates, then calls `#opened()`. */
  #socketOpened(socket: WebSocket, stopTimeout: () => void): void {
    if (this.#link?.opened(socket, stopTimeout)) return;
    stopTimeout();
    this.#opened();
  }

  #opened(): void {
    const reconnect = this.#options.reconnect;
    if (reconnect) {
      this.#connection.timeout(() => {
        this.#retries = 0;
      }, reconnect.resetAfter);
    }
    this.#lastInbound = Date.now();
    const waiters = this.#takeOpenWaiters();
    // Flushed before `open` is emitted, so a send() from an `open` listener comes after the queue.
    this.#flush();
    this.#transition('open');
    this.#heartbeat();
    for (const waiter of waiters) waiter.resolve();
  }

  #received(data: MessageData): void {
    this.#inbound++;
    this.#lastInbound = Date.now();
    const heartbeat = this.#options.heartbeat;
    if (heartbeat !== false && heartbeat.isPong(data)) return;
    if (this.#link?.framed) {
      const payload = this.#link.receive(data);
      if (payload === undefined) return;
      data = payload;
    }
    let message: In;
    try {
      message = this.#options.codec.decode(data);
    } catch (cause) {
      this.#events.emit(
        'error',
        new TetherError('DECODE_FAILED', `codec.decode threw: ${cause}`, { cause, data }),
      );
      return;
    }
    this.#events.emit('message', message);
  }

  /** The delivery mode's link, wired to this client's queue, timers and transitions. */
  #createLink(): DeliveryLink<Out> {
    return (this.#options.delivery as Delivery).link<Out>({
      connection: this.#connection,
      watchers: this.#watchers,
      binaryType: this.#options.binaryType,
      state: () => this.#state,
      url: () => this.#url,
      ready: () => this.#opened(),
      createSocket: (url, protocols) =>
        new (this.#webSocketImpl() as unknown as DomWebSocketConstructor)(url, protocols),
      drop: (reason, error, final) => {
        if (final) this.#wantOpen = false;
        this.#lost(closeInfo(reason, final ? 1002 : 1006), error);
      },
      emit: (type, payload) => this.#events.emit(type, payload as never),
      queue: () => this.#queue,
      restart: (reason = 'Starting a new session') => {
        // The link's own decision (e.g. a new session), not a failure: no veto, no backoff.
        this.#teardown();
        this.#retryAfter(0, this.#retries, closeInfo(reason, 1000));
      },
    });
  }

  /**
   * Writes queued messages, oldest first, while the socket is open and has room. Checks the
   * socket's readyState rather than ours: it runs just before `open` is emitted, and a socket that
   * is closing must not be written to.
   */
  #flush(): void {
    const socket = this.#socket;
    const queue = this.#queue;
    while (queue.length > 0 && socket?.readyState === OPEN) {
      if (socket.bufferedAmount > this.#options.highWaterMark) {
        if (!this.#draining) {
          this.#draining = true;
          this.#connection.timeout(() => {
            this.#draining = false;
            this.#flush();
          }, DRAIN_POLL_MS);
        }
        return;
      }
      const message = queue.shift() as QueuedMessage<Out>;
      const link = this.#link;
      if (link?.framed) link.write(socket, message);
      else socket.send(message.wire);
    }
  }

  /**
   * Application-level liveness check. Schedules a ping for when `interval` has passed with nothing
   * received (messages we send prove nothing: a dead socket swallows them), or pings now when
   * `now` is set (page visible again, network changed). If nothing at all arrives within
   * `timeout` of a ping, the connection is dead: abandon it without waiting for a closing
   * handshake that cannot come. A timer that fires late (the machine slept) finds a long idle
   * time and pings at once, which is how a wake-up is noticed.
   */
  #heartbeat(now = false): void {
    const heartbeat = this.#options.heartbeat;
    const socket = this.#socket;
    if (!heartbeat || !socket || this.#state !== 'open' || this.#awaitingPong) return;
    this.#cancelTimer();
    const idle = Date.now() - this.#lastInbound;
    if (!now && idle < heartbeat.interval) {
      this.#cancelTimer = this.#connection.timeout(() => this.#heartbeat(), heartbeat.interval - idle);
      return;
    }
    const seen = this.#inbound;
    socket.send(heartbeat.ping);
    this.#awaitingPong = true;
    this.#cancelTimer = this.#connection.timeout(() => {
      this.#awaitingPong = false;
      if (this.#inbound > seen) this.#heartbeat();
      else this.#abandon('HEARTBEAT_TIMEOUT', `No message within ${heartbeat.timeout} ms of a ping`);
    }, heartbeat.timeout);
  }

  /** `offline`: a pending retry waits for `online` instead of burning attempts; an open socket is checked. */
  #pauseOrProbe(): void {
    if (this.#state === 'reconnecting') this.#cancelTimer();
    else this.#heartbeat(true);
  }

  /** Gives up on the current attempt or connection without waiting for the server. */
  #abandon(code: 'CONNECT_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string): void {
    this.#lost(closeInfo(message), new TetherError(code, `${message}: ${this.#url}`));
  }

  /** An attempt failed before a socket existed (URL function, constructor). */
  #fail(error: TetherError): void {
    this.#lost(closeInfo(error.message), error);
  }

  /**
   * The socket is gone (closed, timed out, failed): retry or stop. Timers, listeners and the socket
   * are released before any event is emitted, and every emit is followed by a check that a
   * listener did not already call `open()` or `close()`.
   */
  #lost(close: CloseInfo, error?: TetherError): void {
    const from = this.#state;
    this.#teardown();
    if (error) this.#events.emit('error', error);
    const reconnect = this.#options.reconnect;
    if (this.#state !== from) return;
    if (from === 'closing' || !this.#wantOpen || !reconnect) {
      this.#stop(close);
      return;
    }
    let retry = false;
    try {
      retry = reconnect.shouldReconnect(close);
    } catch (cause) {
      this.#events.emit(
        'error',
        new TetherError('LISTENER_ERROR', `shouldReconnect threw: ${cause}`, { cause }),
      );
    }
    if (this.#state !== from) return;
    if (!retry) {
      this.#stop(close);
      return;
    }
    if (this.#retries >= reconnect.maxRetries) {
      const exhausted = new TetherError('RETRIES_EXHAUSTED', `Gave up after ${this.#retries} retries`);
      this.#events.emit('error', exhausted);
      if (this.#state === from) this.#stop(close, exhausted);
      return;
    }
    const attempt = ++this.#retries;
    this.#retryAfter(backoffDelay(attempt, reconnect, this.#options.random), attempt, close);
  }

  /** Schedules attempt number `attempt` in `delay` ms (or for the `online` event, while offline). */
  #retryAfter(delay: number, attempt: number, close: CloseInfo): void {
    const offline =
      this.#options.watchNetwork && (globalThis as { navigator?: Navigator }).navigator?.onLine === false;
    if (!offline) this.#cancelTimer = this.#connection.timeout(() => this.#connect(), delay);
    this.#transition('reconnecting', { ...close, willReconnect: true }, { attempt, delay, offline });
  }

  /** Ends in `closed` for a reason of the client's own; an `open()` made during `closing` still wins. */
  #stop(close: CloseInfo, error?: TetherError): void {
    if (this.#state !== 'closing') this.#wantOpen = false;
    this.#finish(close, error);
  }

  /** The only way into `closed`: releases everything, settles the promises, reopens if asked to. */
  #finish(close: CloseInfo | undefined, error?: TetherError): void {
    const reopen = this.#wantOpen;
    const openWaiters = reopen ? [] : this.#takeOpenWaiters();
    const closeWaiters = this.#closeWaiters;
    this.#closeWaiters = [];
    this.#link?.ended();
    if (!reopen) this.#watchers.dispose();
    this.#transition('closed', close && { ...close, willReconnect: false });
    const reason = error ?? new TetherError('CLOSED', 'Closed before the connection opened');
    for (const waiter of openWaiters) waiter.reject(reason);
    for (const resolve of closeWaiters) resolve();
    if (reopen && this.#wantOpen && this.#state === 'closed') {
      this.#retries = 0;
      this.#connect();
    }
  }

  /** Releases the attempt: timers, then listeners, then the socket. */
  #teardown(): void {
    this.#connection.dispose();
    this.#link?.detached();
    this.#draining = false;
    this.#socket = undefined;
  }

  #takeOpenWaiters(): Waiter[] {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    return waiters;
  }

  /** The one place the state changes. Emits `state`, then the event specific to the move. */
  #transition(to: ConnectionState, close?: CloseEvent, retry?: Events<In, Out>['reconnecting']): void {
    const from = this.#state;
    if (!ALLOWED[from].includes(to)) throw new Error(`tether-ws bug: illegal transition ${from} -> ${to}`);
    this.#state = to;
    this.#events.emit('state', { from, to });
    if (to === 'open') this.#events.emit('open', { url: this.#url, protocol: this.protocol });
    if (close) this.#events.emit('close', close);
    if (retry) this.#events.emit('reconnecting', retry);
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

/**
 * Lets go of a socket we no longer listen to. A no-op `error` listener stays on it: with Node's `ws`
 * (an EventEmitter) an `error` without a listener would crash the process.
 */
function release(socket: WebSocket): void {
  socket.addEventListener('error', noop);
  // Node's `ws` has terminate(): it frees the TCP socket now, not after its own 30 s close timer.
  const terminate = (socket as { terminate?: () => void }).terminate;
  if (terminate && socket.readyState !== 3) terminate.call(socket);
  else if (socket.readyState <= OPEN) socket.close();
}
