import { ConfigError } from './errors.js';
import { consoleLogger, type Logger, quietLogger } from './logger.js';
import { DEFAULT_DEMO_DIR, DEFAULT_DIST_DIR } from './paths.js';
import {
  EXPECTED_BYTES,
  EXPECTED_HOST,
  EXPECTED_MS,
  EXPECTED_ORIGIN,
  EXPECTED_PORT,
  isHost,
  isNonNegativeInteger,
  isPort,
  isPositiveInteger,
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
   * http(s) pages on localhost / 127.0.0.1 / [::1] on any port, and pages opened from disk. Any other
   * origin is refused at the upgrade with HTTP 403.
   * @default []
   */
  allowedOrigins?: readonly string[];
  /**
   * Largest message accepted, in bytes. A bigger one closes that connection with 1009 (Message Too Big,
   * RFC 6455 §7.4.1); other connections are not affected.
   * @default 1048576 (1 MiB)
   */
  maxPayload?: number;
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
  readonly maxPayload: number;
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
  readonly demoDir: string;
  readonly distDir: string;
}

export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  port: 3000,
  host: 'localhost',
  allowedOrigins: Object.freeze([] as string[]),
  maxPayload: 1024 * 1024,
  shutdownTimeoutMs: 2000,
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
  const port = check('port', options.port ?? d.port, isPort, EXPECTED_PORT);
  const host = check('host', options.host ?? d.host, isHost, EXPECTED_HOST);
  const maxPayload = check(
    'maxPayload',
    options.maxPayload ?? d.maxPayload,
    isPositiveInteger,
    EXPECTED_BYTES,
  );
  const shutdownTimeoutMs = check(
    'shutdownTimeoutMs',
    options.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    isNonNegativeInteger,
    EXPECTED_MS,
  );
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
  const baseLogger = options.logger ?? d.logger;
  const demoDir = check('demoDir', options.demoDir ?? d.demoDir, isNonEmptyString, 'a folder path');
  const distDir = check('distDir', options.distDir ?? d.distDir, isNonEmptyString, 'a folder path');
  return Object.freeze({
    port,
    host,
    allowedOrigins: Object.freeze(allowedOrigins),
    maxPayload,
    shutdownTimeoutMs,
    logger: (options.quiet ?? d.quiet) ? quietLogger(baseLogger) : baseLogger,
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
