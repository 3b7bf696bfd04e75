import { startAttempt } from './attempt.js';
import { backoffDelay } from './backoff.js';
import type { ClientApi } from './client-api.js';
import { type CloseInfo, checkClose, closeInfo } from './close.js';
import { decodeWith, encodeWith, type MessageData, type SendData } from './codec.js';
import { type Connection, type ConnectionEvents, connect } from './connection.js';
import type { Delivery, DeliveryLayer } from './delivery.js';
import { Disposables } from './disposables.js';
import { Emitter, emit } from './emitter.js';
import { TetherError } from './errors.js';
import type { ClientEventInfo, ClientEventMap, CloseEvent } from './events.js';
import {
  type ClientOptions,
  normalizeOptions,
  type ResolvedOptions,
  type ResolvedReconnect,
  requireWebSocket,
} from './options.js';
import { OutboundQueue, type QueuedMessage } from './queue.js';
import { retryDecision } from './retry.js';
import { ALLOWED, type ConnectionState } from './state.js';
import { resolveUrl, type UrlProvider } from './url.js';
import { settle, type Waiter, waitOn } from './waiters.js';
import { watchEnvironment } from './watch.js';

type Events<In, Out> = ClientEventMap<In, Out>;

/**
 * A `WebSocket` that reconnects with backoff and keeps what you send while it cannot be written.
 * Its members are documented in {@link ClientApi}. Inside, it is the supervisor of the connections
 * it opens (client/connection.ts, one per attempt, seen through a delivery layer if there is one):
 * it owns the state machine, the user's wish (`open()` / `close()`), retries, the promises and
 * the queue of messages never written; each state owns its timers (`#timers`).
 *
 * @example
 * const client = new WebSocketClient('wss://example.com/live', { codec: jsonCodec() });
 * client.on('message', (msg) => render(msg));
 * client.open();
 * client.send({ type: 'chat', text: 'hi' }); // written now if open, queued otherwise
 * await client.close();
 */
export class WebSocketClient<In = MessageData, Out = SendData>
  extends Emitter<Events<In, Out>, ClientEventInfo>
  implements ClientApi<In, Out>
{
  #state: ConnectionState = 'idle';
  readonly #options: ResolvedOptions<In, Out>;
  readonly #target: UrlProvider;
  readonly #queue: OutboundQueue<Out>;
  /** Timers of the current state (the connect timeout, the retry timer, ...): released on every transition. */
  readonly #timers = new Disposables();
  /** Network and page listeners, and a delivery layer's timers, held from `open()` until `closed`. */
  readonly #watchers = new Disposables();
  /** The connection of the current attempt, as the client sees it (through the delivery layer, if any). */
  #connection: Connection<Out> | undefined;
  #url: string;
  #retries = 0;
  /** The user's latest wish; an `open()` during a closing handshake is honoured once it ends. */
  #wantOpen = false;
  /** The delivery mode's layer (exactly-once); undefined in best-effort mode. */
  readonly #layer: DeliveryLayer<Out> | undefined;
  /** The pending promises of `open()` and `close()`. */
  readonly #openWaiters: Waiter[] = [];
  readonly #closeWaiters: Waiter[] = [];

  /**
   * @param url Where to connect: a string or `URL` (ws, wss, http, https; relative URLs resolve
   *   against `location` in a browser), or a function returning one, sync or async, called before
   *   every attempt (for fresh tokens).
   * @param options See {@link ClientOptions}; validated here, once.
   * @throws TetherTypeError / TetherRangeError for a bad URL or option, and with `autoOpen` when
   *   there is no `WebSocket` constructor (none given, none global).
   */
  constructor(url: UrlProvider, options?: ClientOptions<In, Out>) {
    super();
    this.#url = typeof url === 'function' ? '' : resolveUrl(url);
    this.#target = url;
    this.#options = normalizeOptions(options);
    const layer = this.#options.delivery === 'best-effort' ? undefined : this.#createLayer();
    this.#layer = layer;
    this.#queue = new OutboundQueue(
      this.#options.queue,
      ({ data }, reason) => emit(this, 'drop', { data, reason }),
      layer?.held,
      layer?.queued?.bind(layer),
    );
    if (this.#options.autoOpen) {
      // A missing WebSocket is the caller's mistake: it throws here, not later from the microtask,
      // where it would be an uncaught exception (fatal in Node).
      requireWebSocket(this.#options);
      // Deferred so that listeners added right after the constructor see the first events.
      queueMicrotask(() => this.#state === 'idle' && this.open());
    }
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get readyState(): number {
    return this.#connection?.socket.readyState ?? 3;
  }

  get url(): string {
    return this.#url;
  }

  get protocol(): string {
    return this.#connection?.socket.protocol ?? '';
  }

  get bufferedAmount(): number {
    return (
      (this.#connection?.socket.bufferedAmount ?? 0) + this.#queue.bytes + (this.#layer?.held?.bytes ?? 0)
    );
  }

  get queued(): number {
    return this.#queue.length + (this.#layer?.held?.length ?? 0);
  }

  get attempt(): number {
    return this.#retries;
  }

  open(): Promise<void> {
    requireWebSocket(this.#options);
    this.#wantOpen = true;
    if (this.#state === 'open') return Promise.resolve();
    const opened = waitOn(this.#openWaiters);
    if (this.#state === 'idle' || this.#state === 'closed') {
      this.#retries = 0;
      if (this.#options.watchNetwork) {
        watchEnvironment(this.#watchers, {
          online: () => this.#state === 'reconnecting' && this.#connect(),
          // Offline, a pending retry waits for `online` instead of burning attempts; an open
          // connection is checked.
          offline: () =>
            this.#state === 'reconnecting' ? this.#timers.dispose() : this.#connection?.heartbeat(true),
          visible: (hiddenFor) =>
            this.#options.heartbeat &&
            hiddenFor > this.#options.heartbeat.interval &&
            this.#connection?.heartbeat(true),
        });
      }
      this.#connect();
    }
    return opened;
  }

  send(data: Out): boolean {
    const wire = encodeWith(this.#options.codec, data);
    const connection = this.#connection;
    const layer = this.#layer;
    // writable() checks the socket's readyState, not only our state: a socket that got a close
    // frame is CLOSING before its `close` event, and a browser silently discards what is sent to
    // it then. A delivery layer that holds messages gets every one through the queue, whose limits
    // count what the layer holds.
    if (!layer?.held && this.#state === 'open' && this.#queue.length === 0 && connection?.writable()) {
      connection.send({ data, wire, bytes: 0 });
      return true;
    }
    const kept = this.#queue.push(data, wire);
    if (this.#state === 'open') this.#flush();
    return kept && !!layer && this.#state === 'open' && this.#queue.length === 0;
  }

  close(code = 1000, reason = ''): Promise<void> {
    checkClose(code, reason);
    this.#wantOpen = false;
    const state = this.#state;
    // Nothing queued is left behind without a report (docs/guarantees.md, "close()"): written now,
    // before the close frame and past highWaterMark, if a connection is open; what is still queued
    // when this task ends is reported (`drop`, 'closed'), unless open() came meanwhile (reconnect()).
    // The microtask runs before an awaited close() resumes.
    if (state === 'open') this.#flush(true);
    queueMicrotask(() => this.#wantOpen || this.#queue.drop());
    if (state === 'closed') return Promise.resolve();
    const closed = waitOn(this.#closeWaiters);
    const connection = this.#connection;
    if (state === 'closing') return closed;
    if (connection) {
      this.#transition('closing');
      connection.close(code, reason);
    } else {
      this.#release();
      this.#finish(state === 'idle' ? undefined : { code, reason, wasClean: true });
    }
    return closed;
  }

  /**
   * Starts one attempt: resolve the URL, open a connection. The connect timeout covers both, and
   * with a delivery layer its handshake too: it is the `connecting` state's, so `open` ends it.
   */
  #connect(): void {
    this.#release();
    let live = true;
    this.#transition('connecting', (timers) => {
      timers.add(() => {
        live = false;
      });
      timers.timeout(
        () => this.#abandon('CONNECT_TIMEOUT', `No connection after ${this.#options.connectTimeout} ms`),
        this.#options.connectTimeout,
      );
    });
    const create = (url: string) => {
      this.#url = url;
      const events: ConnectionEvents = {
        open: () => this.#opened(),
        message: (data, info) =>
          decodeWith(
            this.#options.codec,
            data,
            (message) => emit(this, 'message', message, info),
            (error) => emit(this, 'error', error),
          ),
        // A browser's error event says nothing; Node's (`ws`) carries the reason, which belongs in the message.
        error: (cause) => {
          const reason = (cause as { message?: string }).message;
          const message = `WebSocket error on ${this.#url}${reason ? `: ${reason}` : ''}`;
          emit(this, 'error', new TetherError('SOCKET_ERROR', message, { cause }));
        },
        close: (close, dead) => (dead ? this.#abandon('HEARTBEAT_TIMEOUT', close.reason) : this.#lost(close)),
        // Polled only while open: in `closing` the socket is no longer writable anyway.
        drain: () => this.#flush(),
      };
      const layer = this.#layer;
      const options = this.#options;
      this.#connection = layer ? layer.connect(url, options, events, connect) : connect(url, options, events);
    };
    startAttempt(
      this.#target,
      () => live,
      create,
      (error) => this.#lost(closeInfo(error.message), error),
    );
  }

  /** The connection is open (a delivery layer's handshake included): flush, then `open`. */
  #opened(): void {
    const connection = this.#connection as Connection<Out>;
    const reconnect = this.#options.reconnect;
    const waiters = this.#openWaiters.splice(0);
    // Flushed before `open` is emitted, so a send() from an `open` listener comes after the queue.
    this.#flush();
    this.#transition('open', (timers) => {
      if (reconnect) {
        timers.timeout(() => {
          this.#retries = 0;
        }, reconnect.resetAfter);
      }
      connection.heartbeat();
    });
    settle(waiters);
  }

  /** The delivery mode's layer, wired to this client's watchers and decisions. */
  #createLayer(): DeliveryLayer<Out> {
    return (this.#options.delivery as Delivery).layer<Out>({
      watchers: this.#watchers,
      drop: (reason, error, final) => {
        if (final) this.#wantOpen = false;
        this.#lost(closeInfo(reason, final ? 1002 : 1006), error);
      },
      emit: (type, payload) => emit(this, type, payload as never),
      queue: () => this.#queue,
      restart: (reason = 'Starting a new session') => {
        // The layer's own decision (e.g. a new session), not a failure: no veto, no backoff.
        this.#release();
        this.#retryAfter(0, this.#retries, closeInfo(reason, 1000));
      },
    });
  }

  /** Writes queued messages, oldest first, while the connection has room (`all`: while it is open). */
  #flush(all?: boolean): void {
    const connection = this.#connection;
    const queue = this.#queue;
    while (queue.length > 0 && connection?.writable(all))
      connection.send(queue.shift() as QueuedMessage<Out>);
  }

  /** Gives up on the current attempt or connection without waiting for the server. */
  #abandon(code: 'CONNECT_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string): void {
    this.#lost(closeInfo(message), new TetherError(code, `${message}: ${this.#url}`));
  }

  /**
   * The socket is gone (closed, timed out, failed): retry or stop. Timers, listeners and the socket
   * are released before any event is emitted, and every emit is followed by a check that a
   * listener did not already call `open()` or `close()`.
   */
  #lost(close: CloseInfo, error?: TetherError): void {
    const from = this.#state;
    this.#release();
    if (error) emit(this, 'error', error);
    if (this.#state !== from) return;
    const reconnect = this.#options.reconnect;
    const retry =
      from !== 'closing' &&
      this.#wantOpen &&
      reconnect &&
      retryDecision(reconnect, close, this.#retries, (error) => emit(this, 'error', error));
    if (this.#state !== from) return;
    if (retry === true) {
      const attempt = ++this.#retries;
      this.#retryAfter(
        backoffDelay(attempt, reconnect as ResolvedReconnect, this.#options.random),
        attempt,
        close,
      );
      return;
    }
    if (retry) emit(this, 'error', retry);
    if (this.#state !== from) return;
    // Ends in `closed` for a reason of the client's own; an `open()` made during `closing` still wins.
    if (from !== 'closing') this.#wantOpen = false;
    // open() rejects with what ended it (a delivery mode's final verdict, say), not a bare CLOSED.
    this.#finish(close, retry || error);
  }

  /** Schedules attempt number `attempt` in `delay` ms (or for the `online` event, while offline). */
  #retryAfter(delay: number, attempt: number, close: CloseInfo): void {
    const offline =
      this.#options.watchNetwork && (globalThis as { navigator?: Navigator }).navigator?.onLine === false;
    this.#transition(
      'reconnecting',
      (timers) => !offline && timers.timeout(() => this.#connect(), delay),
      { ...close, willReconnect: true },
      { attempt, delay, offline },
    );
  }

  /** The only way into `closed`: releases everything, settles the promises, reopens if asked to. */
  #finish(close: CloseInfo | undefined, error?: TetherError): void {
    const reopen = this.#wantOpen;
    const openWaiters = reopen ? [] : this.#openWaiters.splice(0);
    const closeWaiters = this.#closeWaiters.splice(0);
    this.#layer?.ended();
    if (!reopen) this.#watchers.dispose();
    this.#transition('closed', undefined, close && { ...close, willReconnect: false });
    settle(openWaiters, error ?? new TetherError('CLOSED', 'Closed before the connection opened'));
    settle(closeWaiters);
    if (reopen && this.#wantOpen && this.#state === 'closed') {
      this.#retries = 0;
      this.#connect();
    }
  }

  /** Lets go of the connection, if any (its timers, then its listeners, then its socket). */
  #release(): void {
    this.#connection?.dispose();
    this.#connection = undefined;
  }

  /**
   * The one place the state changes. Releases what the old state owned, lets `enter` start what
   * the new one owns (before any listener runs, so that one calling `close()` or `open()` finds it),
   * then emits `state` and the event specific to the move.
   */
  #transition(
    to: ConnectionState,
    enter?: (timers: Disposables) => void,
    close?: CloseEvent,
    retry?: Events<In, Out>['reconnecting'],
  ): void {
    const from = this.#state;
    if (!ALLOWED[from].includes(to)) throw new Error(`tether-ws bug: ${from} -> ${to}`);
    this.#timers.dispose();
    this.#state = to;
    enter?.(this.#timers);
    emit(this, 'state', { from, to });
    if (to === 'open') emit(this, 'open', { url: this.#url, protocol: this.protocol });
    if (close) emit(this, 'close', close);
    if (retry) emit(this, 'reconnecting', retry);
  }
}
