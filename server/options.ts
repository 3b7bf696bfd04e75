import type { SessionStore } from 'tether-ws/server';
import { ConfigError } from './errors.js';
import { consoleLogger, type Logger, quietLogger } from './logger.js';
import { DEFAULT_DEMO_DIR, DEFAULT_DIST_DIR } from './paths.js';
import {
  EXPECTED_HOST,
  EXPECTED_HOST_NAME,
  EXPECTED_ORIGIN,
  isHost,
  NUMBER_RULES,
  type NumericSetting,
  parseHostName,
  parseOrigin,
} from './validate.js';

/** Options of {@link createServer}. Every field is optional; the defaults suit `npm run demo`. */
export interface ServerOptions {
  /**
   * TCP port to listen on. `0` lets the system pick a free port; `listen()` reports the real one.
   * @default 3000
   */
  port?: number;
  /**
   * Interface to listen on: a host name or IP address. `0.0.0.0` or `::` listens on every interface
   * (then also add the origins you browse from to `allowedOrigins`).
   * @default 'localhost'
   */
  host?: string;
  /**
   * Origins, besides the built-in ones, whose pages may open a WebSocket (e.g. `'https://example.com'`).
   * Always accepted: requests without an `Origin` header (non-browser clients), the server's own origin,
   * http(s) pages on localhost / 127.0.0.1 / [::1] on any port, and pages opened from disk in Chromium
   * (`file://`). Any other origin is refused at the upgrade with HTTP 403, `null` included (any site
   * can send it from a sandboxed iframe; Firefox sends it for pages opened from disk): list `'null'`
   * here to accept it.
   * @default []
   */
  allowedOrigins?: readonly string[];
  /**
   * Host names, besides the built-in ones, that requests may name in `Host` (and, behind a proxy,
   * in `X-Forwarded-Host`). Always accepted: `localhost` and `*.localhost`, any IP address, and
   * `host`. Any other name gets HTTP 403 on every route and upgrade: a page whose own name was
   * made to resolve to this machine (DNS rebinding) cannot read it.
   * @default []
   */
  allowedHosts?: readonly string[];
  /**
   * Largest message accepted, in bytes. A bigger one closes that connection with 1009 (Message Too Big,
   * RFC 6455 §7.4.1); other connections are not affected.
   * @default 1048576 (1 MiB)
   */
  maxPayload?: number;
  /**
   * Interval of the server's WebSocket protocol pings, in milliseconds. A connection that has not
   * answered the previous ping when the next is due is terminated (half-open detection on the server
   * side), so a dead peer is cut 1–2 intervals after it went silent. Browsers and `ws` answer pings by
   * themselves. Keep it below the idle timeout of any proxy in front (nginx `proxy_read_timeout`, 60 s
   * by default). `0` turns it off.
   * @default 30000
   */
  heartbeatIntervalMs?: number;
  /**
   * Most WebSocket connections open at once. An upgrade beyond it is refused with HTTP 503 and
   * `Retry-After: 5`; open connections are not affected. `0` means no limit.
   * @default 10000
   */
  maxConnections?: number;
  /**
   * Long-run messages per second allowed on one connection (a token bucket refilled at this rate).
   * A connection over it is closed with 1008 "Message rate limit exceeded". `0` means no limit.
   * @default 200
   */
  messageRate?: number;
  /**
   * Messages one connection may send in a burst above `messageRate` (the bucket's size). It must
   * cover what a reconnecting client flushes from its queue at once.
   * @default 2000
   */
  messageBurst?: number;
  /**
   * How long a new TCP connection may take to finish its HTTP request headers (an upgrade included),
   * in milliseconds. A slower one (a slowloris, a handshake that never completes, a connection that
   * sends nothing) gets `408 Request Timeout` and is closed, within a quarter of this (at most 1 s)
   * after the deadline. Sets the HTTP server's `headersTimeout` and `requestTimeout`, plus an idle
   * socket timeout of twice this as a backstop; ws clears the socket timeout once the handshake is
   * done, so open WebSockets are not affected.
   * @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * How long `close()` waits for WebSocket clients to answer the 1001 close frame, in milliseconds,
   * before it cuts the remaining connections.
   * @default 2000
   */
  shutdownTimeoutMs?: number;
  /**
   * Where log lines go: one per connection opened or closed and one per message received.
   * @default consoleLogger (stdout / stderr, with timestamps)
   */
  logger?: Logger;
  /**
   * Drop the activity log (connections, messages) and keep only errors. For tests.
   * @default false
   */
  quiet?: boolean;
  /**
   * Where the `/reliable` endpoint keeps its tether.v1 sessions (`createTetherServer({ store })`).
   * `npm start` passes a Redis store when `REDIS_URL` is set. Not closed by `close()`: its owner
   * closes it after.
   * @default the adapter's in-memory store
   */
  tetherStore?: SessionStore;
  /**
   * Folder served at `/` (its `index.html` is the demo page). A missing folder gives 404s, not an error.
   * @default the repository's `demo/` folder
   */
  demoDir?: string;
  /**
   * Folder served under `/dist/` (the client's builds, e.g. `/dist/tether-ws.umd.js`).
   * @default the repository's `dist/` folder
   */
  distDir?: string;
}

/** {@link ServerOptions} with every default filled in and every value checked. */
export interface ResolvedServerOptions {
  readonly port: number;
  readonly host: string;
  readonly allowedOrigins: readonly string[];
  readonly allowedHosts: readonly string[];
  readonly maxPayload: number;
  readonly shutdownTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxConnections: number;
  readonly messageRate: number;
  readonly messageBurst: number;
  readonly handshakeTimeoutMs: number;
  readonly logger: Logger;
  readonly tetherStore: SessionStore | undefined;
  readonly demoDir: string;
  readonly distDir: string;
}

export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  port: 3000,
  host: 'localhost',
  allowedOrigins: Object.freeze([] as string[]),
  allowedHosts: Object.freeze([] as string[]),
  maxPayload: 1024 * 1024,
  shutdownTimeoutMs: 2000,
  heartbeatIntervalMs: 30_000,
  maxConnections: 10_000,
  messageRate: 200,
  messageBurst: 2000,
  handshakeTimeoutMs: 10_000,
  logger: consoleLogger,
  quiet: false,
  demoDir: DEFAULT_DEMO_DIR,
  distDir: DEFAULT_DIST_DIR,
});

/**
 * Checks `options` once and fills the defaults (`??`, so an explicit `0` port is kept).
 * @throws {ConfigError} code `INVALID_OPTION`, naming the option, the value and what is accepted.
 */
export function normalizeServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const d = DEFAULT_SERVER_OPTIONS;
  const number = (name: NumericSetting) => {
    const { valid, expected } = NUMBER_RULES[name];
    return check(name, options[name] ?? d[name], valid, expected);
  };
  const port = number('port');
  const host = check('host', options.host ?? d.host, isHost, EXPECTED_HOST);
  const maxPayload = number('maxPayload');
  const shutdownTimeoutMs = number('shutdownTimeoutMs');
  const heartbeatIntervalMs = number('heartbeatIntervalMs');
  const maxConnections = number('maxConnections');
  const messageRate = number('messageRate');
  const messageBurst = number('messageBurst');
  const handshakeTimeoutMs = number('handshakeTimeoutMs');
  const origins = options.allowedOrigins ?? d.allowedOrigins;
  if (!Array.isArray(origins)) {
    throw new ConfigError('INVALID_OPTION', 'allowedOrigins', origins, `an array of ${EXPECTED_ORIGIN}`);
  }
  const allowedOrigins = origins.map((origin: unknown, index) => {
    const parsed = parseOrigin(origin);
    if (parsed === undefined) {
      throw new ConfigError('INVALID_OPTION', `allowedOrigins[${index}]`, origin, EXPECTED_ORIGIN);
    }
    return parsed;
  });
  const hosts = options.allowedHosts ?? d.allowedHosts;
  if (!Array.isArray(hosts)) {
    throw new ConfigError('INVALID_OPTION', 'allowedHosts', hosts, `an array of ${EXPECTED_HOST_NAME}`);
  }
  const allowedHosts = hosts.map((host: unknown, index) => {
    const parsed = parseHostName(host);
    if (parsed === undefined) {
      throw new ConfigError('INVALID_OPTION', `allowedHosts[${index}]`, host, EXPECTED_HOST_NAME);
    }
    return parsed;
  });
  const baseLogger = options.logger ?? d.logger;
  const demoDir = check('demoDir', options.demoDir ?? d.demoDir, isNonEmptyString, 'a folder path');
  const distDir = check('distDir', options.distDir ?? d.distDir, isNonEmptyString, 'a folder path');
  return Object.freeze({
    port,
    host,
    allowedOrigins: Object.freeze(allowedOrigins),
    allowedHosts: Object.freeze(allowedHosts),
    maxPayload,
    shutdownTimeoutMs,
    heartbeatIntervalMs,
    maxConnections,
    messageRate,
    messageBurst,
    handshakeTimeoutMs,
    logger: (options.quiet ?? d.quiet) ? quietLogger(baseLogger) : baseLogger,
    tetherStore: options.tetherStore,
    demoDir,
    distDir,
  });
}

function check<T>(name: string, value: unknown, valid: (value: unknown) => value is T, expected: string): T {
  if (!valid(value)) throw new ConfigError('INVALID_OPTION', name, value, expected);
  return value;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
