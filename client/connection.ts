import type { CloseInfo } from './close.js';
import { closeInfo } from './close.js';
import type { MessageData } from './codec.js';
import { Disposables } from './disposables.js';
import type { MessageInfo } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { QueuedMessage } from './queue.js';

/**
 * What a connection reads of the client's options. A delivery layer passes its own copy (its
 * subprotocol offered first, say).
 */
export type ConnectionOptions = Pick<
  ResolvedOptions<unknown, unknown>,
  'WebSocket' | 'protocols' | 'binaryType' | 'heartbeat' | 'highWaterMark' | 'closeTimeout'
>;

/** What a connection reports to its owner (the client, or a delivery layer in between). */
export interface ConnectionEvents {
  /** The socket opened. */
  open(): void;
  /** An inbound message (heartbeat answers are not), with its place in a session if a layer numbers them. */
  message(data: MessageData, info?: MessageInfo): void;
  /** The socket reported an error; the connection may still live, `close` says when it does not. */
  error(cause: unknown): void;
  /**
   * The connection is over: the socket closed, the closing handshake timed out, or (`dead`) nothing
   * at all arrived within `heartbeat.timeout` of a ping. Release it.
   */
  close(close: CloseInfo, dead?: boolean): void;
  /** The socket has room again after `writable()` found it backed up. */
  drain(): void;
}

/** One socket and everything that dies with it. It knows nothing of retries. */
export interface Connection<Out> {
  readonly socket: WebSocket;
  /** Writes one message. */
  send(message: QueuedMessage<Out>): void;
  /**
   * True if the socket is open and not above `highWaterMark` (then `drain` follows when it is);
   * with `all`, true while the socket is open.
   */
  writable(all?: boolean): boolean;
  /**
   * The heartbeat: without `now`, starts it (the connection is open for the application); with
   * `now`, pings at once if it runs (network changed, page visible again).
   */
  heartbeat(now?: boolean): void;
  /** Starts the closing handshake: no more pings, the `close` event within `closeTimeout`. */
  close(code: number, reason: string): void;
  /** Lets go of the socket, its listeners and timers. */
  dispose(): void;
}

/** Opens one connection; a delivery layer wraps it by passing its own URL, options and events. */
export type Connect<Out> = (
  url: string,
  options: ConnectionOptions,
  events: ConnectionEvents,
) => Connection<Out>;

/**
 * The option's public type is structural (`WebSocketLike`, so that `ws` fits as it is typed); inside,
 * the socket is read through the DOM's `WebSocket` type, which every accepted constructor implements.
 */
type DomWebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

const OPEN = 1;
/** How often a backed-up socket is checked for room: browsers have no `drain` event. */
const DRAIN_POLL_MS = 5;
const noop = () => {};

/**
 * Creates the socket of one attempt (`new WebSocket()` may throw: the caller reports it) and owns
 * it: listeners, the heartbeat and its evidence, drain polling, the closing-handshake timeout.
 */
export function connect<Out>(
  url: string,
  options: ConnectionOptions,
  events: ConnectionEvents,
): Connection<Out> {
  const Impl = (options.WebSocket ?? globalThis.WebSocket) as unknown as DomWebSocketConstructor;
  const socket = new Impl(url, options.protocols);
  socket.binaryType = options.binaryType;
  const own = new Disposables();
  const { heartbeat, highWaterMark } = options;
  /** Inbound messages, and when the last one came: the heartbeat's evidence. */
  let inbound = 0;
  let lastInbound = 0;
  /** Checking: `heartbeat()` started it and `close()` did not stop it. */
  let watching = false;
  /** A ping is out and its deadline is running: a new check must not push that deadline back. */
  let awaitingPong = false;
  let stopHeartbeat = noop;
  let draining = false;
  // Added first so it runs last: listeners are detached before the socket is let go.
  own.add(() => release(socket));
  own.listen(socket, 'open', events.open);
  own.listen<MessageEvent>(socket, 'message', ({ data }) => {
    inbound++;
    lastInbound = Date.now();
    if (heartbeat === false || !heartbeat.isPong(data)) events.message(data);
  });
  own.listen(socket, 'error', events.error);
  own.listen<CloseEvent>(socket, 'close', ({ code, reason, wasClean }) =>
    events.close({ code, reason, wasClean }),
  );

  /**
   * Application-level liveness check. Schedules a ping for when `interval` has passed with nothing
   * received (messages we send prove nothing: a dead socket swallows them), or pings now when
   * `now` is set. If nothing at all arrives within `timeout` of a ping, the connection is dead:
   * it is reported lost without waiting for a closing handshake that cannot come. A timer that
   * fires late (the machine slept) finds a long idle time and pings at once, which is how a
   * wake-up is noticed.
   */
  const check = (now?: boolean): void => {
    if (!heartbeat || !watching || awaitingPong) return;
    stopHeartbeat();
    const idle = Date.now() - lastInbound;
    if (!now && idle < heartbeat.interval) {
      stopHeartbeat = own.timeout(check, heartbeat.interval - idle);
      return;
    }
    const seen = inbound;
    socket.send(heartbeat.ping);
    awaitingPong = true;
    stopHeartbeat = own.timeout(() => {
      awaitingPong = false;
      if (inbound > seen) check();
      else events.close(closeInfo(`No message within ${heartbeat.timeout} ms of a ping`), true);
    }, heartbeat.timeout);
  };

  return {
    socket,
    send: (message) => socket.send(message.wire),
    writable: (all) => {
      if (socket.readyState !== OPEN) return false;
      if (all || !(socket.bufferedAmount > highWaterMark)) return true;
      if (!draining) {
        draining = true;
        own.timeout(() => {
          draining = false;
          events.drain();
        }, DRAIN_POLL_MS);
      }
      return false;
    },
    heartbeat: (now) => {
      if (!now) {
        lastInbound = Date.now();
        watching = true;
      }
      check(now);
    },
    close: (code, reason) => {
      watching = false;
      stopHeartbeat();
      own.timeout(() => events.close(closeInfo('Closing handshake timed out')), options.closeTimeout);
      socket.close(code, reason);
    },
    dispose: () => own.dispose(),
  };
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
