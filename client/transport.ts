import type { CloseInfo } from './close.js';
import type { MessageData } from './codec.js';
import type { Connection } from './connection.js';
import type { TetherError } from './errors.js';
import type { ClientEventMap } from './events.js';
import type { SocketBinaryType, WebSocketLike } from './options.js';
import type { HeldMessages, QueuedMessage } from './queue.js';

/**
 * The seams between the layers of a client (docs/architecture.md):
 *
 * ```
 *   WebSocketClient (supervisor: state, retries, queue of unsent messages)
 *        │ subscribes to, writes into
 *   Transport: a Connection, or a delivery mode's layer wrapping one (exactly-once)
 *        │ subscribes to, writes into
 *   Connection (one socket attempt: its listeners and timers)
 * ```
 *
 * Each layer has exactly one subscriber, the layer above, which it tells what happened through a
 * {@link TransportListener}; it never reaches up to change the layer above.
 */

/**
 * What follows a lost connection, when the layer that lost it decides, not the reconnect policy.
 * `'never'`: retrying cannot help (the server cannot speak the delivery mode): stop.
 * `'now'`: the layer's own decision (start a new session), not a failure: reconnect at once, with
 * no backoff and no `shouldReconnect` veto.
 */
export type Retry = 'never' | 'now';

/** What a transport tells its one subscriber, in the order of a connection's life. */
export interface TransportListener {
  /** Ready for messages (best-effort: the socket opened; exactly-once: the server's `welcome`). */
  opened(): void;
  /** An inbound application message (not a pong, not a protocol frame). */
  received(data: MessageData): void;
  /** A failure that does not end the connection by itself (the socket's `error` event). */
  failed(error: TetherError): void;
  /** The socket has room again after `writable()` said no for lack of it. */
  drained(): void;
  /**
   * The connection is gone and everything it owned is released. Said once, and last, with the
   * close, the failure to report as an `error` event if it was one, and a layer's retry decision.
   */
  lost(close: CloseInfo, error?: TetherError, retry?: Retry): void;
}

/** What the supervisor drives: one connection attempt, possibly wrapped by a delivery mode. */
export interface Transport<Out> {
  /** The resolved URL of this attempt (`''` while a URL function is pending). */
  readonly url: string;
  /** The socket, once created. */
  readonly socket: WebSocketLike | undefined;
  /** Resolves the URL and creates the socket; separate from construction so the subscriber holds the transport first. */
  start(): void;
  /** True if a message can be written now; when false only for lack of room, `drained()` follows. */
  writable(): boolean;
  write(message: QueuedMessage<Out>): void;
  /** Starts the closing handshake (bounded by `closeTimeout`); without a socket yet, ends at once. */
  close(code: number, reason: string): void;
  /** Checks liveness now (heartbeat ping), e.g. after the network changed or the page woke up. */
  probe(): void;
}

/** How a layer asks for a connection below it: its subscriber, and what its socket needs. */
export type Dial = (listener: TransportListener, socket?: SocketSettings) => Connection;

/** What a delivery mode changes about the sockets it runs on. */
export interface SocketSettings {
  /** The URL and subprotocols of each new socket, from the resolved URL and the user's subprotocols. */
  target?(url: string, protocols: string[]): [string, string[]];
  /** Overrides the `binaryType` option (a framed protocol reads headers synchronously). */
  binaryType?: SocketBinaryType;
  /**
   * Called when the socket opens, instead of declaring the connection ready: the layer runs its
   * handshake, the connect timeout still running, and calls `ready()` when it completes.
   */
  handshake?(): void;
}

/** What a delivery mode gets from the client it serves: one per client. */
export interface DeliveryHost {
  /** The `binaryType` the user asked for (a mode that reads ArrayBuffers hands on Blobs if so). */
  readonly binaryType: SocketBinaryType;
  /** Emits one of the client's events: a mode's own, such as exactly-once's `session-lost`. */
  emit<K extends keyof ClientEventMap>(type: K, payload: ClientEventMap<unknown, unknown>[K]): void;
}

/** A delivery mode's state within one client (exactly-once: its session). */
export interface DeliveryMode<Out> {
  /** Messages written but still held (counted against the queue limits); absent if it holds none. */
  readonly held?: HeldMessages;
  /** Builds the transport of one attempt around a connection obtained from `dial`. */
  connect(dial: Dial, listener: TransportListener): Transport<Out>;
  /** The client is closed: whatever the mode holds for the next connection ends with it. */
  end(): void;
}

/**
 * A delivery mode other than best-effort, given as the `delivery` option (`exactlyOnce()` from
 * `tether-ws/exactly-once`). The client knows only these interfaces, so a mode's code is in a
 * page's bundle only when the page imports it, and a new mode is one new file.
 */
export interface Delivery {
  /** Creates the mode's state for one client; called once, by its constructor. */
  start<Out>(host: DeliveryHost): DeliveryMode<Out>;
}
