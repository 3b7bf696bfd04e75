import type { IncomingMessage } from 'node:http';
import {
  createTetherServer,
  handleProtocols,
  TETHER_PROTOCOL,
  type TetherServerOptions,
  type TetherStats,
} from 'tether-ws/server';
import { describeMessage, errorMessage, type Logger } from './logger.js';
import { redactSessionId } from './redact.js';
import { routePath, type WebSocketHandler } from './websocket.js';

/** Where the exactly-once echo listens, next to the plain echo at `/`. */
export const RELIABLE_PATH = '/reliable';

/** The `/reliable` endpoint: an echo through tether.v1 sessions (docs/protocol.md). */
export interface ReliableEndpoint {
  /** The route handler for {@link RELIABLE_PATH}. */
  readonly handler: WebSocketHandler;
  /** Sessions held, bytes buffered, refusals and ends (for `/healthz` and `/metrics`). */
  readonly stats: TetherStats;
  /** Ends every session with 1001 and releases the adapter's timers (on server shutdown). */
  close(): void;
}

/**
 * The exactly-once echo: every message of a session is sent back through the same session, text as
 * text and binary as binary, so it survives reconnects within the resume window. Logs one line per
 * message (`Data received: …`, as the plain echo does) and per new, resumed, detached and lost
 * session, per protocol error and per refused hello, naming each
 * session by the first characters of its id only (the id is a credential for routing).
 */
export function createReliableEndpoint(log: Logger, options: TetherServerOptions = {}): ReliableEndpoint {
  const tether = createTetherServer(options);
  tether.on('error', (error) => log.error(`[reliable] a session listener failed: ${errorMessage(error)}`));
  tether.on('protocol-error', ({ reason, sessionId }) =>
    log.info(`[reliable] protocol error, closing with 1002: ${reason}`, {
      event: 'protocol-error',
      session: sessionId === undefined ? undefined : redactSessionId(sessionId),
      reason,
    }),
  );
  tether.on('refused', ({ reason, sessionId }) =>
    log.info(`[reliable ${redactSessionId(sessionId)}] hello refused: ${reason}`, {
      event: 'refused',
      session: redactSessionId(sessionId),
      reason,
    }),
  );
  // With a shared store: a session whose server died and whose client never came back.
  tether.on('expired', ({ sessionId, undelivered }) =>
    log.info(
      `[reliable ${redactSessionId(sessionId)}] expired unheld, ${undelivered.length} message(s) not acknowledged`,
      {
        event: 'lost',
        session: redactSessionId(sessionId),
        reason: 'expired',
        undelivered: undelivered.length,
      },
    ),
  );
  tether.on('session', (session) => {
    const shown = redactSessionId(session.id);
    const tag = `[reliable ${shown}]`;
    // With a shared store (REDIS_URL) also a session new to this server, resumed from Redis.
    log.info(`${tag} new session`, { event: 'session', session: shown });
    session.on('message', (data, isBinary) => {
      // The same line as the plain echo's (the tutorial's `Data received: …`), per session.
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      log.info(`${tag} Data received: ${describeMessage(bytes, isBinary)}`, {
        event: 'message',
        session: shown,
        bytes: bytes.length,
        binary: isBinary,
      });
      session.send(data);
    });
    session.on('resume', ({ resent }) =>
      log.info(`${tag} resumed, ${resent} unacknowledged message(s) resent`, {
        event: 'resume',
        session: shown,
        resent,
      }),
    );
    session.on('detach', ({ code }) =>
      log.info(`${tag} connection closed ${code}; resume window started`, {
        event: 'detach',
        session: shown,
        code,
      }),
    );
    session.on('released', ({ reason, unstored }) =>
      log.info(`${tag} released (${reason}), ${unstored.length} message(s) not stored`, {
        event: 'released',
        session: shown,
        reason,
        unstored: unstored.length,
      }),
    );
    session.on('lost', ({ reason, undelivered }) =>
      log.info(`${tag} ended (${reason}), ${undelivered.length} message(s) not acknowledged`, {
        event: 'lost',
        session: shown,
        reason,
        undelivered: undelivered.length,
      }),
    );
  });
  return {
    handler: (socket, req) => tether.handle(socket, req),
    get stats() {
      return tether.stats;
    },
    close: () => tether.close(),
  };
}

/**
 * The dev server's `handleProtocols`: `tether.v1` on {@link RELIABLE_PATH} (none if not offered, and
 * the adapter then closes with 1002). Elsewhere ws's default, the first offered subprotocol, except
 * `tether.v1`: the plain echo must not claim a protocol it does not speak (docs/protocol.md §2).
 */
export function selectSubprotocol(protocols: Set<string>, req: IncomingMessage): string | false {
  if (routePath(req.url) === RELIABLE_PATH) return handleProtocols(protocols, req);
  for (const protocol of protocols) if (protocol !== TETHER_PROTOCOL) return protocol;
  return false;
}
