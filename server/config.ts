import { ConfigError } from './errors.js';
import type { LogFormat } from './logger.js';
import { DEFAULT_SERVER_OPTIONS } from './options.js';
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

/** `LOG=info` prints a line per connection and per message; `LOG=quiet` prints only errors. */
export type LogMode = 'info' | 'quiet';

/** The dev server's settings as read from the environment by {@link loadConfig}. */
export interface ServerConfig {
  /** `PORT`: 0 to 65535, 0 picks a free port. Default 3000. */
  readonly port: number;
  /** `HOST`: interface to listen on. Default `localhost`. */
  readonly host: string;
  /** `LOG`: `info` or `quiet`. Default `info`. */
  readonly log: LogMode;
  /** `MAX_PAYLOAD`: largest message in bytes. Default 1048576 (1 MiB). */
  readonly maxPayload: number;
  /** `ALLOWED_ORIGINS`: extra origins, comma-separated (`null` accepts the opaque origin). Default none. */
  readonly allowedOrigins: readonly string[];
  /** `ALLOWED_HOSTS`: extra host names for the `Host` check, comma-separated. Default none. */
  readonly allowedHosts: readonly string[];
  /** `LOG_FORMAT`: `text` (human lines) or `json` (one JSON object per line). Default `text`. */
  readonly logFormat: LogFormat;
  /** `HEARTBEAT_INTERVAL_MS`: protocol ping interval, 0 turns it off. Default 30000. */
  readonly heartbeatIntervalMs: number;
  /** `MAX_CONNECTIONS`: open WebSockets at most, 0 for no limit. Default 10000. */
  readonly maxConnections: number;
  /** `MESSAGE_RATE`: messages per second per connection, 0 for no limit. Default 200. */
  readonly messageRate: number;
  /** `MESSAGE_BURST`: messages a connection may send in a burst. Default 2000. */
  readonly messageBurst: number;
  /** `HANDSHAKE_TIMEOUT_MS`: time to finish the request headers of an upgrade. Default 10000. */
  readonly handshakeTimeoutMs: number;
  /**
   * `REDIS_URL` (`redis://` or `rediss://`): keep `/reliable`'s sessions in that Redis, shared by
   * every server given the same URL, instead of in this process. Default unset (memory).
   */
  readonly redisUrl: string | undefined;
}

/** The environment variables {@link loadConfig} reads; all optional. */
export type ServerEnv = Readonly<
  Partial<
    Record<
      | 'PORT'
      | 'HOST'
      | 'LOG'
      | 'LOG_FORMAT'
      | 'MAX_PAYLOAD'
      | 'ALLOWED_ORIGINS'
      | 'ALLOWED_HOSTS'
      | 'HEARTBEAT_INTERVAL_MS'
      | 'MAX_CONNECTIONS'
      | 'MESSAGE_RATE'
      | 'MESSAGE_BURST'
      | 'HANDSHAKE_TIMEOUT_MS'
      | 'REDIS_URL',
      string
    >
  >
>;

const LOG_MODES: readonly LogMode[] = ['info', 'quiet'];
const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/**
 * Reads the dev server's settings from environment variables. An unset or empty variable takes its default.
 * @throws {ConfigError} code `INVALID_ENV`, naming the variable, its value and what is accepted, e.g.
 * `Invalid environment variable PORT: got "80a"; expected an integer from 0 to 65535 (0 picks a free port).`
 * @example const { port, host } = loadConfig(process.env);
 */
export function loadConfig(env: ServerEnv = process.env): ServerConfig {
  const d = DEFAULT_SERVER_OPTIONS;
  // Digits only: `Number()` alone would also take "1e3", " 80" or "0x50". A port has at most 5 of them.
  const integer = (name: keyof ServerEnv, setting: NumericSetting, digits = /^\d+$/) =>
    readVar(env, name, d[setting], (raw) => {
      const value = digits.test(raw) ? Number(raw) : Number.NaN;
      const { valid, expected } = NUMBER_RULES[setting];
      return valid(value) ? value : fail(name, raw, expected);
    });
  const oneOf = <T extends string>(name: keyof ServerEnv, fallback: T, choices: readonly T[]) =>
    readVar(env, name, fallback, (raw) => {
      const choice = choices.find((item) => item === raw);
      return choice ?? fail(name, raw, choices.map((item) => `"${item}"`).join(' or '));
    });
  // A comma-separated list whose items are each parsed (undefined = not accepted); blanks are skipped.
  const list = (name: keyof ServerEnv, parse: (item: string) => string | undefined, expected: string) =>
    readVar(env, name, [] as string[], (raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .map((item) => parse(item) ?? fail(name, raw, expected)),
    );
  const port = integer('PORT', 'port', /^\d{1,5}$/);
  const host = readVar(env, 'HOST', d.host, (raw) => (isHost(raw) ? raw : fail('HOST', raw, EXPECTED_HOST)));
  const log = oneOf<LogMode>('LOG', 'info', LOG_MODES);
  const maxPayload = integer('MAX_PAYLOAD', 'maxPayload');
  const allowedOrigins = list(
    'ALLOWED_ORIGINS',
    parseOrigin,
    `comma-separated origins, each ${EXPECTED_ORIGIN}`,
  );
  const allowedHosts = list(
    'ALLOWED_HOSTS',
    parseHostName,
    `comma-separated host names, each ${EXPECTED_HOST_NAME}`,
  );
  const logFormat = oneOf<LogFormat>('LOG_FORMAT', 'text', LOG_FORMATS);
  return Object.freeze({
    port,
    host,
    log,
    logFormat,
    maxPayload,
    allowedOrigins: Object.freeze(allowedOrigins),
    allowedHosts: Object.freeze(allowedHosts),
    heartbeatIntervalMs: integer('HEARTBEAT_INTERVAL_MS', 'heartbeatIntervalMs'),
    maxConnections: integer('MAX_CONNECTIONS', 'maxConnections'),
    messageRate: integer('MESSAGE_RATE', 'messageRate'),
    messageBurst: integer('MESSAGE_BURST', 'messageBurst'),
    handshakeTimeoutMs: integer('HANDSHAKE_TIMEOUT_MS', 'handshakeTimeoutMs'),
    redisUrl: readVar<string | undefined>(env, 'REDIS_URL', undefined, (raw) =>
      /^rediss?:\/\/[^\s]+$/.test(raw) ? raw : fail('REDIS_URL', raw, 'a redis:// or rediss:// URL'),
    ),
  });
}

function readVar<T>(env: ServerEnv, name: keyof ServerEnv, fallback: T, parse: (raw: string) => T): T {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : parse(raw);
}

function fail(name: string, raw: string, expected: string): never {
  throw new ConfigError('INVALID_ENV', name, raw, expected);
}
