import type { MessageData } from './codec.js';
import type { Disposables } from './disposables.js';
import type { TetherError } from './errors.js';
import type { ClientEventMap } from './events.js';
import type { SocketBinaryType, WebSocketLike } from './options.js';
import type { Held, OutboundQueue, QueuedMessage } from './queue.js';
import type { ConnectionState } from './state.js';

/**
 * A delivery mode other than best-effort, given as the `delivery` option (`exactlyOnce()` from
 * `tether-ws/exactly-once`). The client knows only these interfaces, so a mode's code is in a
 * page's bundle only when the page imports it.
 */
export interface Delivery {
  /** Creates the link of one client; called once, by its constructor. */
  link<Out>(host: DeliveryHost<Out>): DeliveryLink<Out>;
}

/** What a delivery link gets from the client that owns it. */
export interface DeliveryHost<Out> {
  /** Timers of the current connection. */
  readonly connection: Disposables;
  /** Timers that outlive connections until the client closes. */
  readonly watchers: Disposables;
  /** The `binaryType` the user asked for (the link may read frames as ArrayBuffer). */
  readonly binaryType: SocketBinaryType;
  state(): ConnectionState;
  url(): string;
  /** The link's handshake is complete: finish opening (flush the queue, emit `open`). */
  ready(): void;
  /**
   * A WebSocket outside the client's own connections (for a link's probe), built with the client's
   * `WebSocket` constructor. The link owns it.
   */
  createSocket(url: string, protocols: string[]): WebSocket;
  /**
   * Drop the connection, reporting `reason`. `final`: the server cannot speak the mode; stop
   * reconnecting, close code 1002. Otherwise 1006 (no closing handshake), and the client retries.
   */
  drop(reason: string, error: TetherError, final: boolean): void;
  /** Emits one of the client's events (exactly-once's `session-lost`, a store's `error`). */
  emit<K extends keyof ClientEventMap<unknown, Out>>(type: K, payload: ClientEventMap<unknown, Out>[K]): void;
  /** The client's queue of messages not yet written (tether-ws/persist mirrors it in storage). */
  queue(): Pick<OutboundQueue<Out>, 'push' | 'shift'>;
  /**
   * Drop this connection and connect again at once, as a decision of the link's, not a failure.
   * The `close`/`reconnecting` events report code 1000 and `reason` (default "Starting a new session").
   */
  restart(reason?: string): void;
}

/** The client's calls into a delivery link, in the order of a connection's life. */
export interface DeliveryLink<Out> {
  /** Messages the link keeps after writing them (until acknowledged): they count against the queue limits. */
  readonly held: Held;
  /** True while the connection speaks the link's protocol: every message then goes through the queue. */
  readonly framed: boolean;
  /** The URL and subprotocols of a new connection. */
  target(url: string, protocols: string[]): [string, string[]];
  /** The socket opened; true if the link took over (it calls `ready()` or `drop()` later). */
  opened(socket: WebSocketLike, stopConnectTimeout: () => void): boolean;
  /** An inbound message while framed: the payload to deliver, or undefined. */
  receive(data: MessageData): MessageData | undefined;
  /** Writes the oldest queued message (taken out of the queue) while framed. */
  write(socket: WebSocketLike, message: QueuedMessage<Out>): void;
  /** Our close frame is about to go. */
  bye(): void;
  /** The connection is gone (its timers are released). */
  detached(): void;
  /** The client is closed. */
  ended(): void;
}
