import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CLOSE_PROTOCOL_ERROR, Connection } from './connection.js';
import { Emitter, type Listener } from './emitter.js';
import { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
import { normalizeTetherOptions, type ResolvedTetherOptions, type TetherServerOptions } from './options.js';
import { CLOSE_GOING_AWAY, Session, SHUTDOWN_REASON, type TetherSession } from './session.js';

/** Events of a {@link TetherServer}. */
export interface TetherServerEvents {
  /** A client started a new session (not emitted when a session is resumed). Its welcome is already sent. */
  session: [session: TetherSession];
  /** A connection broke the protocol and is being closed with 1002; for logs. */
  'protocol-error': [info: { readonly reason: string; readonly sessionId: string | undefined }];
  /**
   * A listener of this server or of one of its sessions threw. Without a listener for `error` the
   * error is rethrown asynchronously, as an unhandled exception (like Node's `EventEmitter`).
   */
  error: [error: unknown];
}

/** The server side of tether.v1, built by {@link createTetherServer}. */
export interface TetherServer {
  /**
   * Takes over a connection whose negotiated subprotocol is `tether.v1`: waits for its hello, then
   * resumes the session named there or starts a new one (`session` event). Call it from the
   * `connection` event of a ws server or from an express-ws route; `request` (the upgrade request)
   * is used to check the `tether_sid` query parameter against the hello.
   *
   * - A socket whose `protocol` is not `tether.v1` is closed with 1002 "tether.v1 not negotiated"
   *   (serve plain clients elsewhere, or test `socket.protocol === TETHER_PROTOCOL` first).
   * - After `close()`, the socket is closed with 1001 "Server shutting down".
   * - A socket that is no longer open is ignored.
   */
  handle(socket: WebSocket, request?: IncomingMessage): void;
  /** Sessions held: attached to a connection, or detached within their resume window. */
  readonly sessions: number;
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedTetherOptions;
  /**
   * Ends every session (each reports `lost` with reason `'closed'` and its unacknowledged
   * messages), closes every connection with 1001 "Server shutting down", and releases every timer.
   * Clients that reconnect to a new server get `resumed: false`. Idempotent.
   */
  close(): void;
  on<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): () => void;
  off<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): void;
  once<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): () => void;
}

/**
 * Creates the server side of the tether.v1 resume protocol (docs/protocol.md): exactly-once, in-order
 * delivery in both directions across reconnects shorter than `resumeWindow`.
 * @throws {TetherServerError} `INVALID_OPTION` for an invalid option.
 * @example
 * import { WebSocketServer } from 'ws';
 * import { createTetherServer, handleProtocols } from 'tether-ws/server';
 *
 * const tether = createTetherServer({ resumeWindow: 30_000 });
 * const wss = new WebSocketServer({ port: 8080, handleProtocols });
 * wss.on('connection', (socket, request) => tether.handle(socket, request));
 * tether.on('session', (session) => {
 *   session.on('message', (data) => session.send(data)); // echo, text as text, binary as binary
 *   session.on('lost', ({ reason, undelivered }) => console.log(session.id, reason, undelivered.length));
 * });
 */
export function createTetherServer(options: TetherServerOptions = {}): TetherServer {
  return new Adapter(normalizeTetherOptions(options));
}

class Adapter implements TetherServer {
  readonly #sessions = new Map<string, Session>();
  /** Connections that have not sent their hello yet (attached ones are reached through their session). */
  readonly #pending = new Set<Connection>();
  readonly #events: Emitter<TetherServerEvents>;
  #closed = false;
  #reportingError = false;

  constructor(readonly options: ResolvedTetherOptions) {
    this.#events = new Emitter((error) => this.#reportListenerError(error));
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  handle(socket: WebSocket, request?: IncomingMessage): void {
    if (socket.readyState !== socket.OPEN) return;
    if (this.#closed) {
      socket.close(CLOSE_GOING_AWAY, SHUTDOWN_REASON);
      return;
    }
    if (socket.protocol !== TETHER_PROTOCOL) {
      this.#events.emit('protocol-error', { reason: 'tether.v1 not negotiated', sessionId: undefined });
      socket.close(CLOSE_PROTOCOL_ERROR, 'tether.v1 not negotiated');
      return;
    }
    const querySid = sessionIdFromUrl(request?.url);
    const connection = new Connection(socket, this.options.helloTimeout, {
      onHello: (conn, hello) => {
        if (querySid !== undefined && querySid !== hello.sid) {
          return `hello sid differs from ${SESSION_PARAM}`;
        }
        this.#pending.delete(conn);
        return this.#attach(conn, hello.sid, hello.recv);
      },
      onProtocolError: (reason, sessionId) => this.#events.emit('protocol-error', { reason, sessionId }),
      onClose: (conn) => this.#pending.delete(conn),
    });
    this.#pending.add(connection);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const connection of this.#pending) connection.close(CLOSE_GOING_AWAY, SHUTDOWN_REASON);
    this.#pending.clear();
    // Each session removes itself from the map as it ends: iterate over a copy.
    for (const session of [...this.#sessions.values()]) session.shutdown();
  }

  on<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): void {
    this.#events.off(event, listener);
  }

  once<K extends keyof TetherServerEvents>(event: K, listener: Listener<TetherServerEvents[K]>): () => void {
    return this.#events.once(event, listener);
  }

  /** Resumes session `sid` on `connection`, or starts it (docs/protocol.md §4). */
  #attach(connection: Connection, sid: string, peerRecv: number): string | undefined {
    const existing = this.#sessions.get(sid);
    if (existing) {
      // On a refused hello (an impossible recv) `resume()` leaves the session as it was; closing
      // this connection then does not detach it, as it was never the session's link.
      connection.attachTo(existing);
      return existing.resume(connection, peerRecv);
    }
    // A new session: the hello's recv refers to a session this server does not hold, and is ignored.
    const session: Session = new Session(sid, this.options, {
      onEnd: (ended) => {
        if (this.#sessions.get(ended.id) === ended) this.#sessions.delete(ended.id);
      },
      onListenerError: (error) => this.#reportListenerError(error),
    });
    this.#sessions.set(sid, session);
    connection.attachTo(session);
    session.start(connection);
    this.#events.emit('session', session);
    return undefined;
  }

  #reportListenerError(error: unknown): void {
    // An `error` listener that throws is rethrown too, not reported to itself again.
    if (!this.#reportingError && this.#events.listenerCount('error') > 0) {
      this.#reportingError = true;
      try {
        this.#events.emit('error', error);
      } finally {
        this.#reportingError = false;
      }
      return;
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** The `tether_sid` query parameter of an upgrade request's URL, if any. */
function sessionIdFromUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url, 'http://localhost').searchParams.get(SESSION_PARAM) ?? undefined;
  } catch {
    return undefined; // ws accepted the request line; an unparsable URL just carries no sid
  }
}
