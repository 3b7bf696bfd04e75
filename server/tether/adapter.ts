import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CLOSE_INTERNAL_ERROR, CLOSE_PROTOCOL_ERROR, Connection, type Hello } from './connection.js';
import { Emitter, type Listener } from './emitter.js';
import { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
import { normalizeTetherOptions, type ResolvedTetherOptions, type TetherServerOptions } from './options.js';
import { type RefusalReason, SessionRegistry, type TetherStats } from './registry.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  CLOSE_TRY_AGAIN_LATER,
  Session,
  SHUTDOWN_REASON,
  type TetherSession,
} from './session.js';
import { SessionRateLimiter } from './session-rate.js';

/**
 * How each refusal closes the caller's connection. The reasons say nothing about the session: a
 * wrong key and a refusal by `authorize` read the same.
 */
const REFUSALS: Record<RefusalReason, { readonly code: number; readonly reason: string }> = {
  unauthorized: { code: CLOSE_POLICY_VIOLATION, reason: 'Session refused' },
  'wrong-key': { code: CLOSE_POLICY_VIOLATION, reason: 'Session refused' },
  'authorize-failed': { code: CLOSE_INTERNAL_ERROR, reason: 'Internal error' },
  'max-sessions': { code: CLOSE_TRY_AGAIN_LATER, reason: 'Server busy, try again later' },
  'session-rate': { code: CLOSE_TRY_AGAIN_LATER, reason: 'Too many new sessions, try again later' },
};

/** Events of a {@link TetherServer}. */
export interface TetherServerEvents {
  /** A client started a new session (not emitted when a session is resumed). Its welcome is already sent. */
  session: [session: TetherSession];
  /** A connection broke the protocol and is being closed with 1002; for logs. */
  'protocol-error': [info: { readonly reason: string; readonly sessionId: string | undefined }];
  /** A hello was refused (by `authorize`, a wrong key or a limit) and its connection closed; for logs. */
  refused: [info: { readonly reason: RefusalReason; readonly sessionId: string }];
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
  /** Sessions held, bytes buffered, hellos refused and sessions ended by reason (for metrics). */
  readonly stats: TetherStats;
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
  readonly #sessions: SessionRegistry;
  readonly #sessionRate: SessionRateLimiter;
  /** Connections that have not sent their hello yet (attached ones are reached through their session). */
  readonly #pending = new Set<Connection>();
  readonly #events: Emitter<TetherServerEvents>;
  #closed = false;
  #reportingError = false;

  constructor(readonly options: ResolvedTetherOptions) {
    this.#events = new Emitter((error) => this.#reportListenerError(error));
    this.#sessions = new SessionRegistry(options.maxSessions, options.maxTotalBufferedBytes);
    this.#sessionRate = new SessionRateLimiter(options.sessionRate, options.sessionBurst);
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  get stats(): TetherStats {
    return this.#sessions.stats();
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
    const connection = new Connection(socket, this.options.helloTimeout, {
      onHello: (conn, hello) => this.#hello(conn, hello, request),
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
    for (const session of this.#sessions.values()) session.shutdown();
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

  /**
   * A hello arrived (docs/protocol.md §4): checks what the wire says, asks `authorize`, then admits.
   * Nothing happens to a held session until every check has passed.
   */
  #hello(connection: Connection, hello: Hello, request: IncomingMessage | undefined): void {
    // With a request, its URL must name the same session: a load balancer routed on it, and an
    // application may have checked it. Leaving it out is no way around either.
    if (request !== undefined && sessionIdFromUrl(request.url) !== hello.sid) {
      connection.fail(`hello sid differs from ${SESSION_PARAM}`);
      return;
    }
    if (hello.key === undefined && !this.options.allowKeylessClients) {
      connection.fail('hello has no key');
      return;
    }
    const authorize = this.options.authorize;
    if (authorize === undefined) {
      this.#admit(connection, hello, request);
      return;
    }
    const decide = (allowed: unknown) => {
      if (!connection.authorizing || this.#closed) return; // closed (or timed out) meanwhile
      if (allowed === true) this.#admit(connection, hello, request);
      else this.#refuse(connection, 'unauthorized', hello.sid);
    };
    const failed = (error: unknown) => {
      if (connection.authorizing) this.#refuse(connection, 'authorize-failed', hello.sid);
      this.#reportListenerError(error);
    };
    try {
      const answer = authorize({
        sid: hello.sid,
        request,
        held: this.#sessions.get(hello.sid) !== undefined,
      });
      if (answer instanceof Promise) answer.then(decide, failed);
      else decide(answer);
    } catch (error) {
      failed(error);
    }
  }

  /** Resumes session `sid` on `connection` if the key is its own, or starts it within the limits. */
  #admit(connection: Connection, hello: Hello, request: IncomingMessage | undefined): void {
    const { sid, key, recv } = hello;
    const existing = this.#sessions.get(sid);
    if (existing) {
      if (!existing.ownedBy(key)) {
        this.#refuse(connection, 'wrong-key', sid);
        return;
      }
      this.#pending.delete(connection);
      // On a refused hello (an impossible recv) `resume()` leaves the session as it was; closing
      // this connection then does not detach it, as it was never the session's link.
      connection.attachTo(existing);
      const error = existing.resume(connection, recv);
      if (error !== undefined) connection.fail(error);
      return;
    }
    if (!this.#sessionRate.take(request?.socket.remoteAddress ?? 'unknown')) {
      this.#refuse(connection, 'session-rate', sid);
      return;
    }
    if (!this.#sessions.makeRoom()) {
      this.#refuse(connection, 'max-sessions', sid);
      return;
    }
    this.#pending.delete(connection);
    // A new session: the hello's recv refers to a session this server does not hold, and is ignored.
    const registry = this.#sessions;
    const session: Session = new Session(sid, key, this.options, {
      onEnd: (ended, reason) => registry.ended(ended, reason),
      onListenerError: (error) => this.#reportListenerError(error),
      onBuffered: (delta) => registry.buffered(delta),
      onGrown: () => registry.enforceTotal(),
    });
    registry.add(session);
    connection.attachTo(session);
    session.start(connection);
    this.#events.emit('session', session);
  }

  #refuse(connection: Connection, reason: RefusalReason, sessionId: string): void {
    this.#sessions.refused(reason);
    const { code, reason: text } = REFUSALS[reason];
    connection.refuse(code, text);
    this.#events.emit('refused', { reason, sessionId });
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
