import type { SessionStore } from 'tether-ws/server';
import { consoleLogger, type LogFormat, type Logger } from './logger.js';
import { DEFAULT_DEMO_DIR, DEFAULT_DIST_DIR } from './paths.js';
import {
  flag,
  integer,
  isHost,
  list,
  matching,
  oneOf,
  parseHostName,
  parseOrigin,
  type Rule,
} from './validate.js';

/**
 * Every setting of the dev server, once: its `createServer()` option, its environment variable, its
 * default, its rule and one line of documentation. The option and config types, `normalizeServerOptions()`
 * (options.ts), `loadConfig()` (config.ts) and the table in docs/server.md are all derived from it
 * (test/server/settings-doc.test.ts keeps the docs equal to it).
 */
interface Setting<T, Option extends boolean, Env extends string | undefined> {
  /** Whether `createServer()` takes it; `false` for what only `npm start` (main.ts) uses. */
  readonly option: Option;
  /** The environment variable `npm start` reads it from. */
  readonly env: Env;
  readonly default: T;
  /** How the docs show the default, when its value would not say it. */
  readonly shownDefault?: string;
  readonly rule: Rule<T>;
  /** Its line in the docs table. */
  readonly doc: string;
}

function setting<T, const Option extends boolean, const Env extends string | undefined = undefined>(
  definition: Omit<Setting<T, Option, Env>, 'env'> & { env?: Env },
): Setting<T, Option, Env> {
  return { ...definition, env: definition.env as Env };
}

const ms = (what: string) => `a ${what}integer number of milliseconds`;
const NO_LIMIT = 'a non-negative integer (0 means no limit)';
const isNonNegative = (value: number) => value >= 0;
const isPositive = (value: number) => value > 0;
const isFolder = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isLogger = (value: unknown): value is Logger =>
  typeof (value as Logger | null)?.info === 'function' && typeof (value as Logger).error === 'function';
// The adapter checks the store itself (createTetherServer): any object gets through here.
const isStoreLike = (value: unknown): value is SessionStore | undefined => typeof value === 'object';

export const SETTINGS = {
  port: setting({
    option: true,
    env: 'PORT',
    default: 3000,
    // A port has at most 5 digits.
    rule: integer('an integer from 0 to 65535 (0 picks a free port)', (port) => port <= 65535, /^\d{1,5}$/),
    doc: '`0` picks a free port; `listen()` reports the real one',
  }),
  host: setting({
    option: true,
    env: 'HOST',
    default: 'localhost',
    rule: matching(
      'a host name or IP address without scheme or port, such as localhost, 127.0.0.1, 0.0.0.0 or ::1',
      isHost,
    ),
    doc: 'interface to listen on; `0.0.0.0` or `::` is every interface (then list the origins you browse from in `allowedOrigins`)',
  }),
  allowedOrigins: setting({
    option: true,
    env: 'ALLOWED_ORIGINS',
    default: Object.freeze([]) as readonly string[],
    rule: list(
      parseOrigin,
      'an http(s) origin such as https://example.com:8080 (scheme, host and optional port; no path), or null',
      'origins',
    ),
    doc: 'origins, besides the built-in ones (below), whose pages may open a WebSocket; `null` accepts the opaque origin',
  }),
  allowedHosts: setting({
    option: true,
    env: 'ALLOWED_HOSTS',
    default: Object.freeze([]) as readonly string[],
    rule: list(parseHostName, 'a host name such as example.com (no scheme, port or path)', 'host names'),
    doc: 'host names, besides the built-in ones (below), that requests may name in `Host` / `X-Forwarded-Host`',
  }),
  maxPayload: setting({
    option: true,
    env: 'MAX_PAYLOAD',
    default: 1024 * 1024,
    rule: integer('a positive integer number of bytes', isPositive),
    doc: 'largest message in bytes; a bigger one closes that connection with 1009',
  }),
  maxConnections: setting({
    option: true,
    env: 'MAX_CONNECTIONS',
    default: 10_000,
    rule: integer(NO_LIMIT, isNonNegative),
    doc: 'open WebSockets at most; beyond it the upgrade gets HTTP 503 `Retry-After: 5`',
  }),
  messageRate: setting({
    option: true,
    env: 'MESSAGE_RATE',
    default: 200,
    rule: integer(NO_LIMIT, isNonNegative),
    doc: 'messages per second per connection (token bucket); over it the connection is closed 1008 "Message rate limit exceeded"',
  }),
  messageBurst: setting({
    option: true,
    env: 'MESSAGE_BURST',
    default: 2000,
    rule: integer('a positive integer number of messages', isPositive),
    doc: 'the bucket size: a burst allowed above the rate; it must cover what a reconnecting client flushes from its queue',
  }),
  handshakeTimeoutMs: setting({
    option: true,
    env: 'HANDSHAKE_TIMEOUT_MS',
    default: 10_000,
    rule: integer(ms('positive '), isPositive),
    doc: 'time a connection may take to finish its request headers (upgrade included); slower ones get `408 Request Timeout` and are closed (slowloris)',
  }),
  heartbeatIntervalMs: setting({
    option: true,
    env: 'HEARTBEAT_INTERVAL_MS',
    default: 30_000,
    rule: integer(`${ms('non-negative ')} (0 turns it off)`, isNonNegative),
    doc: 'protocol ping interval; a peer that has not answered the previous ping is terminated (1–2 intervals after it went silent); keep it below any proxy idle timeout',
  }),
  shutdownTimeoutMs: setting({
    option: true,
    default: 2000,
    rule: integer(ms('non-negative '), isNonNegative),
    doc: 'how long `close()` waits for the 1001 closing handshakes before it cuts the remaining connections',
  }),
  quiet: setting({
    option: true,
    env: 'LOG',
    default: false,
    rule: flag('quiet', 'info'),
    doc: 'drop the activity log (connections, messages, refusals) and keep only errors; `LOG=quiet` is `true`',
  }),
  logger: setting({
    option: true,
    default: consoleLogger as Logger,
    shownDefault: 'console',
    rule: matching('an object with info() and error() methods', isLogger),
    doc: 'where log lines go; `npm start` passes a pino logger in the `LOG_FORMAT`',
  }),
  logFormat: setting({
    option: false,
    env: 'LOG_FORMAT',
    default: 'text' as LogFormat,
    rule: oneOf<LogFormat>(['text', 'json']),
    doc: '`json`: one pino JSON object per line (`level`, `time`, `pid`, `hostname`, `msg`, plus fields such as `event`, `conn`, `code`, `reason`); `text`: `<ISO time> <message>`, and `Listening on …` stays a plain line on stdout',
  }),
  tetherStore: setting({
    option: true,
    default: undefined as SessionStore | undefined,
    shownDefault: 'memory',
    rule: matching('a session store (createMemoryStore(), createRedisStore())', isStoreLike),
    doc: 'where `/reliable` keeps its tether.v1 sessions; not closed by `close()`',
  }),
  redisUrl: setting({
    option: false,
    env: 'REDIS_URL',
    default: undefined as string | undefined,
    shownDefault: 'unset',
    rule: matching(
      'a redis:// or rediss:// URL',
      (value): value is string => typeof value === 'string' && /^rediss?:\/\/[^\s]+$/.test(value),
    ),
    doc: "`npm start` keeps `/reliable`'s sessions in that Redis (as `tetherStore`), shared by every server given the same URL",
  }),
  demoDir: setting({
    option: true,
    default: DEFAULT_DEMO_DIR,
    shownDefault: "the repository's `demo/`",
    rule: matching('a folder path', isFolder),
    doc: 'folder served at `/` (its `index.html` is the demo page); a missing folder gives 404s',
  }),
  distDir: setting({
    option: true,
    default: DEFAULT_DIST_DIR,
    shownDefault: "the repository's `dist/`",
    rule: matching('a folder path', isFolder),
    doc: "folder served under `/dist/` (the client's builds)",
  }),
};

type Settings = typeof SETTINGS;
export type SettingName = keyof Settings;
type ValueOf<K extends SettingName> = Settings[K]['rule'] extends Rule<infer T> ? T : never;
type OptionName = { [K in SettingName]: Settings[K]['option'] extends true ? K : never }[SettingName];
type EnvSettingName = { [K in SettingName]: Settings[K]['env'] extends string ? K : never }[SettingName];

/** Options of `createServer()`, all optional; see {@link SETTINGS} (and docs/server.md) for each. */
export type ServerOptions = { [K in OptionName]?: ValueOf<K> };
/** {@link ServerOptions} with every default filled in and every value checked. */
export type ResolvedServerOptions = { readonly [K in OptionName]: ValueOf<K> };
/** The settings `npm start` reads from the environment, by name. */
export type ServerConfig = { readonly [K in EnvSettingName]: ValueOf<K> };
/** The environment variables `loadConfig()` reads; all optional. */
export type ServerEnv = Readonly<Partial<Record<NonNullable<Settings[EnvSettingName]['env']>, string>>>;
