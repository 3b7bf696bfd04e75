import type { IncomingMessage } from 'node:http';
import { errorMessage, type Logger } from './logger.js';
import {
  createTetherServer,
  handleProtocols,
  TETHER_PROTOCOL,
  type TetherServerOptions,
} from './tether/index.js';
import { routePath, type WebSocketHandler } from './websocket.js';

/** Where the exactly-once echo listens, next to the plain echo at `/`. */
export const RELIABLE_PATH = '/reliable';

/** The `/reliable` endpoint: an echo through tether.v1 sessions (docs/protocol.md). */
export interface ReliableEndpoint {
  /** The route handler for {@link RELIABLE_PATH}. */
  readonly handler: WebSocketHandler;
  /** Ends every session with 1001 and releases the adapter's timers (on server shutdown). */
  close(): void;
}

/**
 * The exactly-once echo: every message of a session is sent back through the same session, text as
 * text and binary as binary, so it survives reconnects within the resume window. Logs one line per
 * new, resumed, detached and lost session, and per protocol error.
 */
export function createReliableEndpoint(log: Logger, options: TetherServerOptions = {}): ReliableEndpoint {
  const tether = createTetherServer(options);
  tether.on('error', (error) => log.error(`[reliable] a session listener failed: ${errorMessage(error)}`));
  tether.on('protocol-error', ({ reason, sessionId }) =>
    log.info(`[reliable] protocol error, closing with 1002: ${reason}`, {
      event: 'protocol-error',
      session: sessionId,
      reason,
    }),
  );
  tether.on('session', (session) => {
    const tag = `[reliable ${session.id}]`;
    log.info(`${tag} new session`, { event: 'session', session: session.id });
    session.on('message', (data) => session.send(data));
    session.on('resume', ({ resent }) =>
      log.info(`${tag} resumed, ${resent} unacknowledged message(s) resent`, {
        event: 'resume',
        session: session.id,
        resent,
      }),
    );
    session.on('detach', ({ code }) =>
      log.info(`${tag} connection closed ${code}; resume window started`, {
        event: 'detach',
        session: session.id,
        code,
      }),
    );
    session.on('lost', ({ reason, undelivered }) =>
      log.info(`${tag} ended (${reason}), ${undelivered.length} message(s) not acknowledged`, {
        event: 'lost',
        session: session.id,
        reason,
        undelivered: undelivered.length,
      }),
    );
  });
  return {
    handler: (socket, req) => tether.handle(socket, req),
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
