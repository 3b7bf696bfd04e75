import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TRY_AGAIN_LATER,
  SHUTDOWN_REASON,
} from '../protocol/close-codes.js';
import { Connection, type Hello } from './connection.js';
import { Emitter, type Listener } from './emitter.js';
import { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
import { checkHandleArguments } from './handle-arguments.js';
import { normalizeTetherOptions, type ResolvedTetherOptions, type TetherServerOptions } from './options.js';
import { type RefusalReason, SessionRegistry, type TetherStats } from './registry.js';
import { hashKey, Session, type TetherSession } from './session.js';
import { SessionRateLimiter } from './session-rate.js';
import type { ClaimResult, SessionStore } from './store.js';

/**
 * How long past its resume window a session stays in the store after its server stopped writing
 * (it died, or lost the store), in ms. Servers renew the sessions they hold at half this interval.
 */
export const STORE_LEASE_MS = 10_000;

/** Most sessions one look at the store reports (every STORE_LEASE_MS / 2). */
const REAP_BATCH = 100;

/**
 * How each refusal closes the caller's connection. The reasons say nothing about the session: a
 * wrong key and a refusal by `authorize` read the same.
 */
const REFUSALS: Record<RefusalReason, { readonly code: number; readonly reason: string }> = {
  unauthorized: { code: CLOSE_POLICY_VIOLATION, reason: 'Session refused' },
  'wrong-key': { code: CLOSE_POLICY_VIOLATION, reason: 'Session refused' },
  'authorize-failed': { code: CLOSE_INTERNAL_ERROR, reason: 'Internal error' },
  'max-sessions': { code: CLOSE_TRY_AGAIN_LATER, reason: 'Server busy, try again later' },
  'store-unavailable': { code: CLOSE_TRY_AGAIN_LATER, reason: 'Session store unavailable' },
  'session-rate': { code: CLOSE_TRY_AGAIN_LATER, reason: 'Too many new sessions, try again later' },
};

/** Events of a {@link TetherServer}. */
export interface TetherServerEvents {
  /**
   * This server started holding a session: a new one, or, with a shared store, one another server
   * held (its `resume` event follows). Not emitted when a session this server holds is resumed.
   * Its welcome is already sent.
   */
  session: [session: TetherSession];
  /**
   * With a shared store: a session expired there while no server held it (its server died, and its
   * client did not come back within the window). Reported once, by one of the servers sharing the
   * store, with the messages its client never acknowledged: the `lost` `'expired'` of a session
   * this server never held (counted in `stats.ended.expired`).
   */
  expired: [info: { readonly sessionId: string; readonly undelivered: ReadonlyArray<string | Buffer> }];
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
  /** The options in effect, defaults filled in (`store`: the memory store unless one was given). */
  readonly options: ResolvedTetherOptions;
  /**
   * Closes every connection with 1001 "Server shutting down" and releases every timer. With the
   * memory store it ends every session (each reports `lost` with reason `'closed'` and its
   * unacknowledged messages), and clients that reconnect to a new server get `resumed: false`;
   * with a shared store it releases them (`released`, `'shutdown'`): they stay in the store, and
   * their clients resume on another server. Idempotent. The store itself is not closed.
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
  readonly #store: SessionStore;
  /** Time to live of a session in the store while its server stops writing. */
  readonly #ttl: number;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly options: ResolvedTetherOptions) {
    this.#events = new Emitter((error) => this.#reportListenerError(error));
    this.#store = options.store;
    this.#ttl = options.resumeWindow + STORE_LEASE_MS;
    this.#sessions = new SessionRegistry(options.maxSessions, options.maxTotalBufferedBytes);
    this.#sessionRate = new SessionRateLimiter(options.sessionRate, options.sessionBurst);
    // A shared store may hold sessions of servers that died: look for expired ones from the start.
    if (this.#store.shared) this.#startLeaseTimer();
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  get stats(): TetherStats {
    return this.#sessions.stats();
  }

  handle(socket: WebSocket, request?: IncomingMessage): void {
    checkHandleArguments(socket, request);
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
    clearInterval(this.#keepAliveTimer);
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

  /**
   * Resumes session `sid` on `connection` if the key is its own, or starts it within the limits. A
   * session this server holds in a store of its own resumes at once; otherwise the store is asked
   * (`claim`), which for a shared store answers later: the connection waits (any frame but ping is
   * then a protocol error), and the welcome follows the answer.
   */
  #admit(connection: Connection, hello: Hello, request: IncomingMessage | undefined): void {
    const { sid, key, recv } = hello;
    const existing = this.#sessions.get(sid);
    if (existing && !this.#store.shared) {
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
    // Refused before the store is asked when this server could not hold one more session: a claim
    // would first take the session from the server holding it (fencing it), for nothing.
    if (existing === undefined && !this.#sessions.canMakeRoom()) {
      this.#refuse(connection, 'max-sessions', sid);
      return;
    }
    const owner = randomUUID();
    const keyHash = key === undefined ? '' : hashKey(key);
    let claim: ClaimResult | Promise<ClaimResult>;
    try {
      claim = this.#store.claim({ sid, owner, peerRecv: recv, ttl: this.#ttl, keyHash });
    } catch {
      this.#refuse(connection, 'store-unavailable', sid);
      return;
    }
    if (!(claim instanceof Promise)) {
      this.#claimed(connection, hello, request, owner, claim);
      return;
    }
    claim.then(
      (result) => this.#claimed(connection, hello, request, owner, result),
      () => {
        // Nothing is held for this connection: its client retries 1013, then resumes from the store.
        if (connection.authorizing && !this.#closed) this.#refuse(connection, 'store-unavailable', sid);
      },
    );
  }

  /** The store answered the claim of `connection`'s hello. */
  #claimed(
    connection: Connection,
    hello: Hello,
    request: IncomingMessage | undefined,
    owner: string,
    result: ClaimResult,
  ): void {
    const { sid, key } = hello;
    // Gone meanwhile (closed, or timed out): whatever the claim did waits in the store for the next.
    if (!connection.authorizing || this.#closed) {
      if (result.status === 'created') this.#unclaim(sid, owner);
      return;
    }
    switch (result.status) {
      case 'refused':
        connection.fail('hello recv refused');
        return;
      case 'wrong-key':
        this.#refuse(connection, 'wrong-key', sid);
        return;
      case 'full':
        this.#refuse(connection, 'max-sessions', sid);
        return;
    }
    // Creating sessions is rate-limited, not resuming them: a server's clients moving to another
    // server after it died are all resumes.
    if (result.status === 'created' && !this.#sessionRate.take(request?.socket.remoteAddress ?? 'unknown')) {
      this.#unclaim(sid, owner);
      this.#refuse(connection, 'session-rate', sid);
      return;
    }
    // A copy this server still holds is stale now: the claim fenced it.
    this.#sessions.get(sid)?.release('taken-over');
    if (!this.#sessions.makeRoom()) {
      if (result.status === 'created') this.#unclaim(sid, owner);
      this.#refuse(connection, 'max-sessions', sid);
      return;
    }
    this.#pending.delete(connection);
    // A new session: the hello's recv refers to a session the store does not hold, and is ignored.
    const stored = result.status === 'resumed' ? result : undefined;
    const registry = this.#sessions;
    const session: Session = new Session(
      sid,
      key,
      this.options,
      {
        onEnd: (ended, reason) => registry.ended(ended, reason),
        onRelease: (released) => registry.released(released),
        onListenerError: (error) => this.#reportListenerError(error),
        onBuffered: (delta) => registry.buffered(delta),
        onGrown: () => registry.enforceTotal(),
      },
      { store: this.#store, owner, ttl: this.#ttl, stored },
    );
    registry.add(session);
    if (stored) registry.buffered(session.bufferedBytes);
    this.#startLeaseTimer();
    connection.attachTo(session);
    session.start(connection);
    this.#events.emit('session', session);
    if (stored) session.announceResume();
  }

  /** Undoes a claim that created a session nobody will use (if the store fails, it expires there). */
  #unclaim(sid: string, owner: string): void {
    Promise.resolve()
      .then(() => this.#store.remove(sid, owner))
      .catch(() => {});
  }

  /**
   * Renews the attached sessions in the store (a detached one runs out with its window) and
   * reports sessions that expired there unheld, from the first session on (or at once, with a
   * shared store). Unref'd: an adapter must not keep Node alive by itself.
   */
  #startLeaseTimer(): void {
    this.#keepAliveTimer ??= setInterval(() => {
      this.#keepAlive();
      this.#reap();
    }, STORE_LEASE_MS / 2).unref();
  }

  /** Takes over and reports (`expired`) sessions that expired in a shared store while nobody held them. */
  #reap(): void {
    const store = this.#store;
    if (!store.shared || store.reap === undefined || this.#closed) return;
    Promise.resolve()
      .then(() => store.reap?.(REAP_BATCH))
      .then(
        (reaped) => {
          for (const { sid, undelivered } of reaped ?? []) {
            this.#sessions.reaped();
            this.#events.emit('expired', { sessionId: sid, undelivered: [...undelivered] });
          }
        },
        () => {}, // the store is unavailable: the next round looks again
      );
  }

  /** Renews every attached session in the store; one the store no longer names this server for is released. */
  #keepAlive(): void {
    for (const session of this.#sessions.values()) {
      if (session.state !== 'attached') continue;
      Promise.resolve()
        .then(() => this.#store.keepAlive(session.id, session.owner, this.#ttl))
        .then(
          (owned) => {
            if (!owned) session.release('taken-over');
          },
          () => {}, // the next write finds out, and closes with 1011
        );
    }
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
