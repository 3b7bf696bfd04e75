import type { CloseInfo } from './close.js';
import { abnormal } from './close.js';
import type { MessageData, SendData } from './codec.js';
import { Disposables } from './disposables.js';
import { TetherError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { Retry, SocketSettings, Transport, TransportListener } from './transport.js';
import type { UrlProvider } from './url.js';
import { resolveUrl } from './url.js';

const OPEN = 1;
/** How often a backed-up socket is checked for room: browsers have no `drain` event. */
const DRAIN_POLL_MS = 5;
const noop = () => {};
type DomWebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

/**
 * `connecting`: URL, socket, and a layer's handshake, under the connect timeout. `open`: messages
 * flow, under the heartbeat. `closing`: our close frame is out, under the close timeout. `ended`:
 * everything released. Each phase owns its timers: entering the next one releases them.
 */
type Phase = 'connecting' | 'open' | 'closing' | 'ended';

/** One connection attempt, as the layer above it (the client, or a delivery mode's layer) drives it. */
export interface Connection extends Transport<unknown> {
  /** The resolved URL (before a delivery mode adds to it). */
  readonly url: string;
  /** Writes one frame as is: an encoded message, a ping, or a delivery mode's own frame. */
  send(data: SendData): void;
  /** The layer's handshake completed: stop the connect timeout, start the heartbeat, say `opened()`. */
  ready(): void;
  /**
   * The one way a connection ends: timers, then listeners, then the socket are released, and only
   * then is the subscriber told `lost(...)`, so nothing of this connection fires into what it does next.
   */
  end(close: CloseInfo, error?: TetherError, retry?: Retry): void;
  /** A timer that dies with this connection (a layer's acknowledgement timer). Returns its cancel function. */
  timeout(callback: () => void, ms: number): () => void;
}

/**
 * One connection attempt: one socket and everything that dies with it (its listeners, the connect
 * timeout, the heartbeat and its evidence, drain polling, the closing-handshake timeout). It knows
 * nothing of retries: it ends once, telling its one subscriber `lost()` with the reason. Nothing
 * happens before `start()`, so the subscriber holds the connection before it can hear from it.
 *
 * A closure rather than a class: its state is local variables, which the minifier shortens, and
 * this is the code every page loads.
 */
export function createConnection(
  target: UrlProvider,
  options: ResolvedOptions<unknown, unknown>,
  listener: TransportListener,
  settings: SocketSettings = {},
): Connection {
  const { heartbeat, highWaterMark } = options;
  let phase: Phase = 'connecting';
  let socket: WebSocket | undefined;
  let url = '';
  /** What lives as long as the connection: the socket, its listeners, a layer's timers. */
  const owned = new Disposables();
  /** The current phase's timers: released when the phase changes. */
  const phaseOwned = new Disposables();
  /** Inbound messages on this connection, and when the last one came: the heartbeat's evidence. */
  let inbound = 0;
  let lastInbound = 0;
  /** A ping is out and its deadline is running: a new check must not push that deadline back. */
  let pingOut = false;
  /** Cancels the heartbeat's pending timer (the idle wait, or the ping's deadline). */
  let cancelBeat = noop;
  let draining = false;

  const enter = (next: Phase) => {
    phaseOwned.dispose();
    phase = next;
  };

  const send = (data: SendData) => {
    // A layer's late acknowledgement must not reach a socket already let go.
    if (phase !== 'ended') socket?.send(data);
  };

  const end = (close: CloseInfo, error?: TetherError, retry?: Retry) => {
    if (phase === 'ended') return;
    enter('ended');
    owned.dispose();
    listener.lost(close, error, retry);
  };

  /** Ends without a closing handshake: a timeout, or a failure before a socket existed. */
  const fail = (error: TetherError, reason = error.message) => end(abnormal(reason), error);

  /** Gives up on the attempt or connection without waiting for the server (the timeouts). */
  const abandon = (code: 'CONNECT_TIMEOUT' | 'HEARTBEAT_TIMEOUT', message: string) =>
    fail(new TetherError(code, `${message}: ${url}`), message);

  /**
   * Application-level liveness check. Schedules a ping for when `interval` has passed with nothing
   * received (messages we send prove nothing: a dead socket swallows them), or pings now when
   * `now` is set (page visible again, network changed). If nothing at all arrives within
   * `timeout` of a ping, the connection is dead: abandon it without waiting for a closing
   * handshake that cannot come. A timer that fires late (the machine slept) finds a long idle
   * time and pings at once, which is how a wake-up is noticed.
   */
  const beat = (now = false): void => {
    if (!heartbeat || phase !== 'open' || pingOut) return;
    cancelBeat();
    const idle = Date.now() - lastInbound;
    if (!now && idle < heartbeat.interval) {
      cancelBeat = phaseOwned.timeout(beat, heartbeat.interval - idle);
      return;
    }
    const seen = inbound;
    send(heartbeat.ping);
    pingOut = true;
    cancelBeat = phaseOwned.timeout(() => {
      pingOut = false;
      if (inbound > seen) beat();
      else abandon('HEARTBEAT_TIMEOUT', `No message within ${heartbeat.timeout} ms of a ping`);
    }, heartbeat.timeout);
  };

  const received = (data: MessageData) => {
    inbound++;
    lastInbound = Date.now();
    if (!heartbeat || !heartbeat.isPong(data)) listener.received(data);
  };

  const createSocket = () => {
    const { WebSocket: Impl, protocols } = options;
    let created: WebSocket;
    try {
      // The option's type is structural (`WebSocketLike`, so that `ws` fits as it is typed); inside,
      // the socket is read through the DOM's `WebSocket` type, which every accepted constructor implements.
      created = new ((Impl ?? globalThis.WebSocket) as unknown as DomWebSocketConstructor)(
        ...(settings.target?.(url, protocols) ?? ([url, protocols] as const)),
      );
    } catch (cause) {
      fail(new TetherError('SOCKET_ERROR', `new WebSocket() threw: ${cause}`, { cause }));
      return;
    }
    created.binaryType = settings.binaryType ?? options.binaryType;
    socket = created;
    // Added first so it runs last: listeners are detached before the socket is let go.
    owned.add(() => release(created));
    owned.listen(created, 'open', () => (settings.handshake ? settings.handshake() : connection.ready()));
    owned.listen<MessageEvent>(created, 'message', (event) => received(event.data));
    owned.listen(created, 'error', (cause) =>
      listener.failed(new TetherError('SOCKET_ERROR', `WebSocket error on ${url}`, { cause })),
    );
    owned.listen<CloseEvent>(created, 'close', ({ code, reason, wasClean }) =>
      end({ code, reason, wasClean }),
    );
  };

  const connection: Connection = {
    get url() {
      return url;
    },
    get socket() {
      return socket;
    },
    send,
    end,
    timeout: (callback, ms) => owned.timeout(callback, ms),
    probe: () => beat(true),
    write: (message) => send(message.wire),

    /** Resolves the URL (a URL function may be async) and creates the socket; the connect timeout covers both. */
    start() {
      const { connectTimeout } = options;
      phaseOwned.timeout(
        () => abandon('CONNECT_TIMEOUT', `No connection after ${connectTimeout} ms`),
        connectTimeout,
      );
      const failed = (cause: unknown) =>
        phase === 'connecting' &&
        fail(new TetherError('URL_FAILED', `The url function failed: ${cause}`, { cause }));
      const create = (given: string | URL) => {
        if (phase !== 'connecting') return;
        try {
          url = resolveUrl(given, 'url()');
        } catch (error) {
          failed(error);
          return;
        }
        createSocket();
      };
      try {
        const given = typeof target === 'function' ? target() : target;
        if (typeof (given as PromiseLike<unknown>).then === 'function')
          (given as PromiseLike<string>).then(create, failed);
        else create(given as string | URL);
      } catch (error) {
        failed(error);
      }
    },

    /** Open and with room below `highWaterMark`. When only room is missing, `drained()` follows once there is. */
    writable() {
      if (phase !== 'open' || socket?.readyState !== OPEN) return false;
      if (!(socket.bufferedAmount > highWaterMark)) return true;
      if (!draining) {
        draining = true;
        phaseOwned.timeout(() => {
          draining = false;
          if (connection.writable()) listener.drained();
        }, DRAIN_POLL_MS);
      }
      return false;
    },

    ready() {
      if (phase !== 'connecting') return;
      enter('open');
      lastInbound = Date.now();
      beat();
      listener.opened();
    },

    close(code, reason) {
      if (!socket) {
        end({ code, reason, wasClean: true });
        return;
      }
      enter('closing'); // no heartbeat pings during the closing handshake
      phaseOwned.timeout(() => end(abnormal('Closing handshake timed out')), options.closeTimeout);
      socket.close(code, reason);
    },
  };
  return connection;
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
