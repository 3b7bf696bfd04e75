/*
 * express-ws adapter: the only file that knows about express-ws. Read this before touching it.
 *
 * express-ws 5.0.2 targets Express 4 and ws 7. On Express 5 with ws 8 its `app.ws()` works, with gaps
 * that are closed here from the outside, without patching express-ws:
 * - It monkeypatches `express.Router` globally, and on Express 5 that patch does not even reach routers
 *   (`router.ws is not a function`, HenningM/express-ws#152): `leaveRouterUntouched`, and only `app.ws()`.
 * - Given no server it creates one and replaces `app.listen`: we pass our own `http.Server`.
 * - An upgrade on a path with no ws route completes the handshake, then closes with 1005: `verifyClient`
 *   refuses it before the handshake with a real HTTP 404. The origin check rides on the same hook.
 * - A handler that throws (sync or async) leaves the socket open and logs nothing: handlers are wrapped
 *   and a throw closes the socket with 1011.
 * - An oversize message (`maxPayload`) emits `error` on the socket, and an `error` event without a
 *   listener ends the process: every socket gets one before any handler runs.
 * - ws re-emits every `error` of the HTTP server (EADDRINUSE from listen, say) on the WebSocketServer, where
 *   nobody listens, so a busy port crashed with an unhandled 'error': the layer listens and forwards it.
 * - It depends on ws 7; package.json `overrides` make it share our ws 8, where text frames arrive as
 *   Buffers (handlers must echo with `{ binary: isBinary }`).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Express, Request } from 'express';
import expressWs from 'express-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { runGuarded } from './guard.js';
import type { RefusalReason } from './metrics.js';

/** A WebSocket route handler. It may be async; a throw or rejection closes the socket with 1011. */
export type WebSocketHandler = (socket: WebSocket, req: Request) => void | Promise<void>;

/** Why an upgrade is refused: the HTTP status and a short text sent as the response body. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly reason: string;
  /** Which rule refused it, for the logs and the `refusals` counters. */
  readonly kind: RefusalReason;
  /** Extra response headers, e.g. `Retry-After` on a 503. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface WebSocketLayerOptions {
  /** Largest message in bytes; a bigger one closes that connection with 1009. */
  readonly maxPayload: number;
  /** Called for each upgrade on a known path; return a refusal to answer with that status instead. */
  readonly checkUpgrade: (req: IncomingMessage) => UpgradeRefusal | undefined;
  /** Told about every refused upgrade (unknown path or `checkUpgrade`). */
  readonly onRefused: (req: IncomingMessage, refusal: UpgradeRefusal) => void;
  /** Told about errors of the HTTP server that ws re-emits (listen errors also reject `listen()`). */
  readonly onServerError: (error: Error) => void;
  /** Told about a handler that threw; the socket is already being closed with 1011. */
  readonly onHandlerError: (error: unknown, req: Request) => void;
  /** Picks the subprotocol from those offered (ws's `handleProtocols`); ws's default picks the first. */
  readonly handleProtocols?: (protocols: Set<string>, req: IncomingMessage) => string | false;
}

export interface WebSocketLayer {
  /** The ws server: its `clients` are the open connections. */
  readonly wss: WebSocketServer;
  /** Adds a WebSocket route for an exact path such as `/` (no parameters or wildcards). */
  route(path: string, handler: WebSocketHandler): void;
}

/** `http://host:port` at the start of a request target in absolute form (`GET http://host/path`). */
const SCHEME_AND_AUTHORITY = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/**
 * The path an upgrade request is routed by: its target up to `?` (scheme and host dropped from the
 * absolute form, which RFC 6455 §4.2.1 allows), taken as is, because that is what Express matches
 * once express-ws hands it the socket: `//x` or `/a/../` is not `/` there, and must not be here either,
 * or the handshake would complete and express-ws close it with 1005. String work only, never `new URL()`:
 * this runs inside ws's `verifyClient` and `handleProtocols`, where a throw (`new URL('//', base)`
 * throws) is an uncaught exception that ends the process.
 */
export function routePath(url = '/'): string {
  return url.replace(SCHEME_AND_AUTHORITY, '').split('?', 1)[0] || '/';
}

/** Adds WebSocket routes to `app`, answering upgrades that reach `httpServer`. */
export function attachWebSockets(
  app: Express,
  httpServer: Server,
  options: WebSocketLayerOptions,
): WebSocketLayer {
  const paths = new Set<string>();

  const instance = expressWs(app, httpServer, {
    leaveRouterUntouched: true,
    wsOptions: {
      maxPayload: options.maxPayload,
      handleProtocols: options.handleProtocols,
      verifyClient: ({ req }, accept) => {
        const refusal = paths.has(routePath(req.url))
          ? options.checkUpgrade(req)
          : ({ status: 404, reason: 'Not Found', kind: 'not-found' } as const);
        if (refusal === undefined) return accept(true);
        options.onRefused(req, refusal);
        accept(false, refusal.status, refusal.reason, refusal.headers as Record<string, string> | undefined);
      },
    },
  });
  const wss = instance.getWss();
  wss.on('error', options.onServerError);

  // Prepended so it is in place before express-ws routes the socket to a handler.
  wss.prependListener('connection', (socket: WebSocket) => {
    // Handlers add their own listeners to log the error; this one only keeps the process alive.
    // ws closes the connection itself (1009 for an oversize message, 1002 for a protocol error).
    socket.on('error', () => {});
  });

  return {
    wss,
    route(path, handler) {
      if (!path.startsWith('/') || /[:*?(){}]/.test(path)) {
        throw new TypeError(
          `WebSocket route must be an exact path such as "/"; got ${JSON.stringify(path)}.`,
        );
      }
      paths.add(path);
      instance.app.ws(path, (socket, req) => {
        runGuarded(
          socket,
          (error) => options.onHandlerError(error, req),
          () => handler(socket, req),
        );
      });
    },
  };
}
