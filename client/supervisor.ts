import { backoffDelay } from './backoff.js';
import type { CloseInfo } from './close.js';
import type { MessageData } from './codec.js';
import { createConnection } from './connection.js';
import { Disposables } from './disposables.js';
import type { Emitter } from './emitter.js';
import { TetherError } from './errors.js';
import type { ClientEventMap } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { QueuedMessage } from './queue.js';
import { OutboundQueue } from './queue.js';
import type { ConnectionState } from './state.js';
import { ALLOWED } from './state.js';
import type { Delivery, DeliveryMode, Retry, Transport, TransportListener } from './transport.js';
import type { UrlProvider } from './url.js';
import { watchEnvironment } from './watch.js';

type Waiter = { resolve: () => void; reject: (error: TetherError) => void };

const noop = () => {};

/** Best-effort delivery: the connection itself is the transport, and nothing is held once written. */
const BEST_EFFORT: DeliveryMode<never> = { connect: (dial, listener) => dial(listener), end: noop };

/**
 * The supervisor behind `WebSocketClient` (which checks arguments and documents the API): the
 * state machine, the user's wish (`open()` / `close()`), retries and their timer, the promises,
 * and the queue of messages never written. Each attempt is a `Connection` (connection.ts),
 * wrapped by the delivery mode's layer if there is one; the supervisor subscribes to it, writes
 * into it, and never looks inside. See docs/architecture.md.
 */
export class Supervisor<In, Out> implements TransportListener {
  state: ConnectionState = 'idle';
  /** Retries since the last stable connection. */
  retries = 0;
  /** The current attempt, from `connecting` until it is lost. */
  transport: Transport<Out> | undefined;
  readonly mode: DeliveryMode<Out>;
  readonly queue: OutboundQueue<Out>;
  /** The URL of the last attempt that ended; `url` reads the current one first. */
  #lastUrl: string;
  /** Timers of the current state (the retry of `reconnecting`, `resetAfter` of `open`): released on every transition. */
  readonly #stateOwned = new Disposables();
  /** Network and page listeners, held from `open()` until `closed`. */
  readonly #watchers = new Disposables();
  readonly #options: ResolvedOptions<In, Out>;
  readonly #target: UrlProvider;
  readonly #events: Emitter<ClientEventMap<In, Out>>;
  /** The user's latest wish; an `open()` during a closing handshake is honoured once it ends. */
  #wantOpen = false;
  #openWaiters: Waiter[] = [];
  #closeWaiters: Array<() => void> = [];

  constructor(
    target: UrlProvider,
    url: string,
    options: ResolvedOptions<In, Out>,
    events: Emitter<ClientEventMap<In, Out>>,
  ) {
    this.#target = target;
    this.#lastUrl = url;
    this.#options = options;
    this.#events = events;
    this.mode =
      options.delivery === 'best-effort'
        ? BEST_EFFORT
        : (options.delivery as Delivery).start<Out>({
            binaryType: options.binaryType,
            emit: (type, payload) => events.emit(type, payload as never),
          });
    this.queue = new OutboundQueue(
      options.queue,
      ({ data }, reason) => events.emit('drop', { data, reason }),
      this.mode.held,
    );
  }

  get url(): string {
    return this.transport?.url || this.#lastUrl;
  }

  open(): Promise<void> {
    this.#wantOpen = true;
    if (this.state === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.#openWaiters.push({ resolve, reject }));
    opened.catch(noop);
    if (this.state === 'idle' || this.state === 'closed') {
      this.retries = 0;
      if (this.#options.watchNetwork) {
        const heartbeat = this.#options.heartbeat;
        watchEnvironment(this.#watchers, {
          online: () => this.state === 'reconnecting' && this.#connect(),
          // A pending retry waits for `online` instead of burning attempts; an open socket is checked.
          offline: () =>
            this.state === 'reconnecting' ? this.#stateOwned.dispose() : this.transport?.probe(),
          visible: (hiddenFor) => heartbeat && hiddenFor > heartbeat.interval && this.transport?.probe(),
        });
      }
      this.#connect();
    }
    return opened;
  }

  send(message: QueuedMessage<Out>): boolean {
    const queue = this.queue;
    const transport = this.transport;
    // A transport is writable only while `open` (and its socket OPEN: a socket that got a close
    // frame is CLOSING before its `close` event, and a browser silently discards what is sent to it).
    if (queue.length === 0 && queue.admits(message) && transport?.writable()) {
      transport.write(message);
      return true;
    }
    // Queued behind older messages (or for later): `false`, even if the flush below writes it.
    queue.push(message);
    this.#flush();
    return false;
  }

  close(code: number, reason: string): Promise<void> {
    this.#wantOpen = false;
    const state = this.state;
    if (state === 'closed') return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    const transport = this.transport;
    if (state === 'closing') return closed;
    if (transport) {
      // Without a socket yet (a URL function pending) the transport ends at once: no `closing`.
      if (transport.socket) this.#transition('closing');
      transport.close(code, reason);
    } else {
      this.#finish(state === 'idle' ? undefined : { code, reason, wasClean: true });
    }
    return closed;
  }

  /** Starts one attempt: a connection, wrapped by the delivery mode. */
  #connect(): void {
    this.#transition('connecting');
    // A `state` listener may have called close() already.
    if (this.state !== 'connecting') return;
    const options = this.#options as ResolvedOptions<unknown, unknown>;
    const transport = this.mode.connect(
      (listener, socket) => createConnection(this.#target, options, listener, socket),
      this,
    );
    this.transport = transport;
    transport.start();
  }

  // What the current transport tells the supervisor, its one subscriber (TransportListener).

  opened(): void {
    const waiters = this.#takeOpenWaiters();
    // Flushed before `open` is emitted, so a send() from an `open` listener comes after the queue.
    this.#flush();
    this.#transition('open');
    for (const waiter of waiters) waiter.resolve();
  }

  received(data: MessageData): void {
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

  failed(error: TetherError): void {
    this.#events.emit('error', error);
  }

  drained(): void {
    this.#flush();
  }

  /**
   * The connection is gone (closed, timed out, failed; its resources are already released): retry
   * or stop. Every emit is followed by a check that a listener did not call `open()` or `close()`.
   */
  lost(close: CloseInfo, error?: TetherError, retry?: Retry): void {
    const from = this.state;
    this.#lastUrl = this.url;
    this.transport = undefined;
    if (error) this.#events.emit('error', error);
    const reconnect = this.#options.reconnect;
    if (this.state !== from) return;
    if (retry === 'now' && from !== 'closing' && this.#wantOpen) {
      this.#transition('reconnecting', close, { attempt: this.retries, delay: 0 });
      return;
    }
    if (retry === 'never') this.#wantOpen = false;
    if (from === 'closing' || !this.#wantOpen || !reconnect) {
      this.#stop(close);
      return;
    }
    let retrying = false;
    try {
      retrying = reconnect.shouldReconnect(close);
    } catch (cause) {
      this.#events.emit(
        'error',
        new TetherError('LISTENER_ERROR', `shouldReconnect threw: ${cause}`, { cause }),
      );
    }
    if (this.state !== from) return;
    if (!retrying) {
      this.#stop(close);
      return;
    }
    if (this.retries >= reconnect.maxRetries) {
      const exhausted = new TetherError('RETRIES_EXHAUSTED', `Gave up after ${this.retries} retries`);
      this.#events.emit('error', exhausted);
      if (this.state === from) this.#stop(close, exhausted);
      return;
    }
    const attempt = ++this.retries;
    const delay = backoffDelay(attempt, reconnect, this.#options.random);
    this.#transition('reconnecting', close, { attempt, delay });
  }

  /** Writes queued messages, oldest first, while the transport is open and has room. */
  #flush(): void {
    const queue = this.queue;
    const transport = this.transport;
    while (queue.length > 0 && transport?.writable()) transport.write(queue.shift() as QueuedMessage<Out>);
  }

  /** Ends in `closed` for a reason of the client's own; an `open()` made during `closing` still wins. */
  #stop(close: CloseInfo, error?: TetherError): void {
    if (this.state !== 'closing') this.#wantOpen = false;
    this.#finish(close, error);
  }

  /** The only way into `closed`: releases everything, settles the promises, reopens if asked to. */
  #finish(close: CloseInfo | undefined, error?: TetherError): void {
    const reopen = this.#wantOpen;
    const openWaiters = reopen ? [] : this.#takeOpenWaiters();
    const closeWaiters = this.#closeWaiters;
    this.#closeWaiters = [];
    this.mode.end();
    if (!reopen) this.#watchers.dispose();
    this.#transition('closed', close);
    const reason = error ?? new TetherError('CLOSED', 'Closed before the connection opened');
    for (const waiter of openWaiters) waiter.reject(reason);
    for (const resolve of closeWaiters) resolve();
    if (reopen && this.#wantOpen && this.state === 'closed') {
      this.retries = 0;
      this.#connect();
    }
  }

  #takeOpenWaiters(): Waiter[] {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    return waiters;
  }

  /**
   * The one place the state changes. Releases the old state's timers and starts the new one's
   * (the retry of `reconnecting`, unless offline; `resetAfter` of `open`) before any listener
   * runs, then emits `state` and the event specific to the move.
   */
  #transition(to: ConnectionState, close?: CloseInfo, retry?: { attempt: number; delay: number }): void {
    const from = this.state;
    if (!ALLOWED[from].includes(to)) throw new Error(`tether-ws bug: illegal transition ${from} -> ${to}`);
    this.#stateOwned.dispose();
    this.state = to;
    const reconnect = this.#options.reconnect;
    if (to === 'open' && reconnect) this.#stateOwned.timeout(() => (this.retries = 0), reconnect.resetAfter);
    const offline =
      !!retry &&
      this.#options.watchNetwork &&
      (globalThis as { navigator?: Navigator }).navigator?.onLine === false;
    if (retry && !offline) this.#stateOwned.timeout(() => this.#connect(), retry.delay);
    const events = this.#events;
    events.emit('state', { from, to });
    if (to === 'open')
      events.emit('open', { url: this.url, protocol: this.transport?.socket?.protocol ?? '' });
    if (close) events.emit('close', { ...close, willReconnect: to === 'reconnecting' });
    if (retry) events.emit('reconnecting', { ...retry, offline });
  }
}
