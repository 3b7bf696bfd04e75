import type { Connect, Connection, ConnectionEvents, ConnectionOptions } from './connection.js';
import type { Disposables } from './disposables.js';
import type { TetherError } from './errors.js';
import type { ClientEventMap } from './events.js';
import type { Held, OutboundQueue, QueuedMessage } from './queue.js';

/**
 * A delivery mode other than best-effort, given as the `delivery` option (`exactlyOnce()` from
 * `tether-ws/exactly-once`). The client knows only these interfaces, so a mode's code is in a
 * page's bundle only when the page imports it.
 */
export interface Delivery {
  /** Creates the layer of one client; called once, by its constructor. */
  layer<Out>(host: DeliveryHost<Out>): DeliveryLayer<Out>;
}

/**
 * A delivery mode's layer: it wraps each connection the client opens, and the client sees only the
 * wrapped one. It decides when the connection is `open` (e.g. after its own handshake), frames what
 * is written and unframes what arrives, and keeps whatever it must across connections.
 */
export interface DeliveryLayer<Out> {
  /**
   * Messages the layer keeps after writing them (until acknowledged), if it keeps any: they count
   * against the queue limits, and every message then reaches the layer through the queue (never
   * written at once by `send()`), so that the limits see it first.
   */
  readonly held?: Held;
  /**
   * Opens one connection to `url` through `inner` (with what the layer wants, e.g. its subprotocol
   * offered) and returns the connection the client uses, reporting to `events`.
   */
  connect(
    url: string,
    options: ConnectionOptions,
    events: ConnectionEvents,
    inner: Connect<Out>,
  ): Connection<Out>;
  /** The client is closed (`close()`, or it gave up). */
  ended(): void;
  /**
   * Told of every message entering (`entered`) and leaving the client's queue, in order: evicted
   * or refused ones (a `drop`), and those taken out to be written (then `connection.send` follows
   * in the same task). tether-ws/persist keeps the queue in storage this way.
   */
  queued?(message: QueuedMessage<Out>, entered: boolean): void;
  /**
   * What the layer must keep for the next page to carry on (exactly-once: its session and the
   * messages written and not acknowledged), if it keeps anything. Read by tether-ws/persist after
   * each change.
   */
  snapshot?(): DeliverySnapshot<Out>;
  /**
   * Puts back what {@link snapshot} gave an earlier page, before the first connection. Returns
   * false, changing nothing, for a snapshot that cannot be valid (storage edited or corrupted):
   * tether-ws/persist then reports it rather than resuming it.
   */
  restore?(snapshot: DeliverySnapshot<Out>): boolean;
}

/** A delivery layer's state between pages (see {@link DeliveryLayer.snapshot}). */
export interface DeliverySnapshot<Out> {
  /** The session: its id and key, and the counters of both directions (docs/protocol.md §1). */
  session: {
    id: string;
    key: string;
    sent: number;
    received: number;
    acknowledged: number;
    peerAcked: number;
  };
  /** Written in the session and not yet acknowledged, oldest first: numbered `sent - length + 1` … `sent`. */
  held: Array<QueuedMessage<Out>>;
}

/** What a delivery layer gets from the client that owns it: things that outlive one connection. */
export interface DeliveryHost<Out> {
  /** Timers and listeners that outlive connections until the client closes. */
  readonly watchers: Disposables;
  /**
   * Drop the connection, reporting `reason`. `final`: the server cannot speak the mode; stop
   * reconnecting, close code 1002. Otherwise 1006 (no closing handshake), and the client retries.
   */
  drop(reason: string, error: TetherError, final: boolean): void;
  /** Emits one of the client's events (exactly-once's `session-lost`, a store's `error`). */
  emit<K extends keyof ClientEventMap<unknown, Out>>(type: K, payload: ClientEventMap<unknown, Out>[K]): void;
  /**
   * The client's queue of messages not yet written: tether-ws/persist puts back what the last
   * page left (taking out what was sent meanwhile, to put it after), watching it through
   * {@link DeliveryLayer.queued}.
   */
  queue(): Pick<OutboundQueue<Out>, 'push' | 'shift'>;
  /**
   * Drop this connection and connect again at once, as a decision of the layer's, not a failure.
   * The `close`/`reconnecting` events report code 1000 and `reason` (default "Starting a new session").
   */
  restart(reason?: string): void;
}
