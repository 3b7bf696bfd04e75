import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { WebSocketServer } from 'ws';
import { SHUTDOWN_REASON } from '../protocol/close-codes.js';
import { createEchoHandler } from './echo.js';
import { healthHandler, metricsHandler } from './health.js';
import { areHostsAllowed, type HostPolicy, requestHosts } from './host.js';
import { checkCapacity, policeConnections } from './limits.js';
import { errorMessage } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { normalizeServerOptions, type ServerOptions } from './options.js';
import { isOriginAllowed } from './origin.js';
import { redactUrl } from './redact.js';
import { createReliableEndpoint, RELIABLE_PATH, selectSubprotocol } from './reliable.js';
import { closeHttpServer, closeWebSockets } from './shutdown.js';
import { attachWebSockets } from './websocket.js';

export type { LogFields, LogFormat, Logger } from './logger.js';
export type { MetricsSnapshot, RefusalReason, ServerMetrics } from './metrics.js';
export type { ServerOptions } from './options.js';

/** The dev server built by {@link createServer}. Nothing listens until `listen()`. */
export interface DevServer {
  /** The Express app, with every route in place. */
  readonly app: Express;
  /** The HTTP server the app and the WebSocket endpoint share. */
  readonly httpServer: Server;
  /** The ws server behind the WebSocket endpoint; `wss.clients` are the open connections. */
  readonly wss: WebSocketServer;
  /** The counters behind `/healthz` and `/metrics` (`metrics.snapshot()`, `metrics.registry`). */
  readonly metrics: ServerMetrics;
  /**
   * Starts listening on `options.host`/`options.port`. Resolves with the URL to open (with the real port
   * when `port` is 0; `localhost` stands in for the wildcard hosts `0.0.0.0` and `::`).
   * Rejects with the listen error (e.g. `EADDRINUSE`) in its `cause`, or when called more than once.
   */
  listen(): Promise<{ url: string }>;
  /**
   * Shuts down: refuses new upgrades (503), closes every WebSocket with 1001 "Server shutting down",
   * waits up to `shutdownTimeoutMs` for them and terminates the rest, then closes the HTTP server and
   * its connections. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Builds the dev server: the demo page at `/`, the client's builds under `/dist/`, `GET /healthz` (JSON),
 * `GET /metrics` (Prometheus text), a WebSocket echo endpoint at `/` (and its exactly-once twin at
 * `/reliable`, speaking tether.v1, see docs/protocol.md) behind the limits of
 * {@link ServerOptions} (connections, message rate, payload size, handshake time, protocol heartbeat).
 * @throws {ConfigError} for an invalid option.
 * @example
 * const server = createServer({ port: 0, host: '127.0.0.1', quiet: true });
 * const { url } = await server.listen();
 * await server.close();
 */
export function createServer(options: ServerOptions = {}): DevServer {
  const config = normalizeServerOptions(options);
  const log = config.logger;
  let ownOrigin: string | undefined;
  let listening: Promise<{ url: string }> | undefined;
  let closing: Promise<void> | undefined;

  const app = express();
  app.disable('x-powered-by');
  const httpServer = createHttpServer(
    {
      // Slowloris defence: a request (an upgrade included) must finish its headers within the timeout,
      // or Node answers 408 and closes. Node checks these deadlines only every
      // `connectionsCheckingInterval` (30 s by default), so the check runs often enough to matter.
      headersTimeout: config.handshakeTimeoutMs,
      requestTimeout: config.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.handshakeTimeoutMs / 4)),
    },
    app,
  );
  // Backstop behind the 408: an HTTP connection idle for twice the timeout is destroyed. ws calls
  // `socket.setTimeout(0)` once a handshake completes, so open WebSockets are exempt.
  httpServer.setTimeout(config.handshakeTimeoutMs * 2);

  const reliable = createReliableEndpoint(log, config.tetherStore ? { store: config.tetherStore } : {});
  // Read only when the metrics are collected, by which time `wss` exists.
  const metrics = new ServerMetrics(
    () => wss.clients.size,
    () => reliable.stats,
  );
  const hostPolicy: HostPolicy = { listenHost: config.host, allowedHosts: config.allowedHosts };
  const hostAllowed = (req: IncomingMessage) => areHostsAllowed(requestHosts(req.headers), hostPolicy);
  const { wss, route } = attachWebSockets(app, httpServer, {
    maxPayload: config.maxPayload,
    checkUpgrade: (req) => {
      if (closing) return { status: 503, reason: SHUTDOWN_REASON, kind: 'shutting-down' };
      if (!hostAllowed(req)) return { status: 403, reason: HOST_REFUSED, kind: 'host' };
      const origin = req.headers.origin;
      const allowed = isOriginAllowed(origin, { ownOrigin, allowedOrigins: config.allowedOrigins });
      if (!allowed) return { status: 403, reason: 'Origin not allowed', kind: 'origin' };
      return checkCapacity(wss.clients.size, config.maxConnections);
    },
    onRefused: (req, refusal) => {
      metrics.refused(refusal.kind);
      log.info(`[upgrade] refused ${refusal.status} ${describeUpgrade(req)}: ${refusal.reason}`, {
        event: 'refused',
        reason: refusal.kind,
        status: refusal.status,
        url: redactUrl(req.url),
        host: req.headers.host,
        origin: req.headers.origin,
        remote: req.socket.remoteAddress,
      });
    },
    // Before listening, listen() rejects with the error and the caller reports it.
    onServerError: (error) => httpServer.listening && log.error(`[server] ${errorMessage(error)}`),
    onHandlerError: (error) => log.error(`[ws] handler failed, closing with 1011: ${errorMessage(error)}`),
    handleProtocols: selectSubprotocol,
  });

  const stopPolicing = policeConnections(wss, config, metrics, log);
  // First of all HTTP routes: a request naming a host we do not know is answered by nothing else.
  app.use((req, res, next) => {
    if (hostAllowed(req)) return next();
    metrics.refused('host');
    log.info(`[http] refused 403 ${req.method} ${JSON.stringify(redactUrl(req.url))}: ${HOST_REFUSED}`, {
      event: 'refused',
      reason: 'host',
      status: 403,
      host: req.headers.host,
    });
    res.status(403).type('text/plain').send(HOST_REFUSED);
  });

  route(
    '/',
    createEchoHandler(log, (bytes) => metrics.sent(bytes)),
  );
  route(RELIABLE_PATH, reliable.handler);
  app.get('/healthz', healthHandler(metrics));
  app.get('/metrics', metricsHandler(metrics));
  app.use(express.static(config.demoDir));
  app.use('/dist', express.static(config.distDir));
  app.use(notFound);
  app.use(serverError((line) => log.error(line)));

  function listen(): Promise<{ url: string }> {
    if (listening || closing) {
      return Promise.reject(
        new Error('listen() can be called once per server, before close(); create a new one.'),
      );
    }
    listening = new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
        reject(new Error(`Cannot listen on ${config.host}:${config.port}: ${code}.`, { cause: error }));
      };
      httpServer.once('error', onError);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', onError);
        const address = httpServer.address();
        const port = typeof address === 'object' && address !== null ? address.port : config.port;
        const url = `http://${hostForUrl(config.host)}:${port}`;
        ownOrigin = new URL(url).origin;
        resolve({ url });
      });
    });
    return listening;
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      // A close() that races a pending listen() waits for it, so the port is not left bound.
      await listening?.catch(() => undefined);
      stopPolicing();
      reliable.close();
      const stopped = closeHttpServer(httpServer);
      const terminated = await closeWebSockets(wss.clients, config.shutdownTimeoutMs);
      if (terminated > 0)
        log.info(`[server] terminated ${terminated} WebSocket(s) that did not close in time`);
      wss.close();
      await stopped;
    })();
    return closing;
  }

  return { app, httpServer, wss, metrics, listen, close };
}

/** IPv6 literals go in brackets; the wildcard hosts cannot be browsed to reliably, so say localhost. */
function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function describeUpgrade(req: IncomingMessage): string {
  const origin = req.headers.origin === undefined ? 'no origin' : `origin ${req.headers.origin}`;
  return `${JSON.stringify(redactUrl(req.url))} (${origin}, from ${req.socket.remoteAddress ?? 'unknown address'})`;
}

const HOST_REFUSED = 'Host not allowed';

const notFound: RequestHandler = (req, res) => {
  res.status(404).type('text/plain').send(`Not found: ${req.method} ${req.path}`);
};

// Last, with four parameters: Express recognises error handlers by their arity. In Express 5 a
// rejected async handler lands here too.
function serverError(logError: (line: string) => void): ErrorRequestHandler {
  return (error, req, res, next) => {
    // Client errors raised by middleware (e.g. 400 for a malformed URL in express.static) keep their status.
    const status: unknown = error?.status ?? error?.statusCode;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    if (!clientError) logError(`[http] ${req.method} ${req.originalUrl} failed: ${errorMessage(error)}`);
    if (res.headersSent) return next(error);
    res
      .status(clientError ? status : 500)
      .type('text/plain')
      .send(clientError ? String(error.message) : 'Internal server error');
  };
}
