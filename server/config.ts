import { ConfigError } from './errors.js';
import { DEFAULT_SERVER_OPTIONS } from './options.js';
import {
  EXPECTED_BYTES,
  EXPECTED_HOST,
  EXPECTED_ORIGIN,
  EXPECTED_PORT,
  isHost,
  isPort,
  isPositiveInteger,
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
  /** `ALLOWED_ORIGINS`: extra origins, comma-separated. Default none. */
  readonly allowedOrigins: readonly string[];
}

/** The environment variables {@link loadConfig} reads; all optional. */
export type ServerEnv = Readonly<
  Partial<Record<'PORT' | 'HOST' | 'LOG' | 'MAX_PAYLOAD' | 'ALLOWED_ORIGINS', string>>
>;

const LOG_MODES: readonly LogMode[] = ['info', 'quiet'];

/**
 * Reads the dev server's settings from environment variables. An unset or empty variable takes its default.
 * @throws {ConfigError} code `INVALID_ENV`, naming the variable, its value and what is accepted, e.g.
 * `Invalid environment variable PORT: got "80a"; expected an integer from 0 to 65535 (0 picks a free port).`
 * @example const { port, host } = loadConfig(process.env);
 */
export function loadConfig(env: ServerEnv = process.env): ServerConfig {
  const port = readVar(env, 'PORT', DEFAULT_SERVER_OPTIONS.port, (raw) => {
    const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    return isPort(port) ? port : fail('PORT', raw, EXPECTED_PORT);
  });
  const host = readVar(env, 'HOST', DEFAULT_SERVER_OPTIONS.host, (raw) =>
    isHost(raw) ? raw : fail('HOST', raw, EXPECTED_HOST),
  );
  const log = readVar(env, 'LOG', 'info', (raw): LogMode => {
    const mode = LOG_MODES.find((mode) => mode === raw);
    return mode ?? fail('LOG', raw, LOG_MODES.map((mode) => `"${mode}"`).join(' or '));
  });
  const maxPayload = readVar(env, 'MAX_PAYLOAD', DEFAULT_SERVER_OPTIONS.maxPayload, (raw) => {
    const bytes = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    return isPositiveInteger(bytes) ? bytes : fail('MAX_PAYLOAD', raw, EXPECTED_BYTES);
  });
  const allowedOrigins = readVar(env, 'ALLOWED_ORIGINS', [] as string[], (raw) =>
    raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map(
        (item) =>
          parseOrigin(item) ??
          fail('ALLOWED_ORIGINS', raw, `comma-separated origins, each ${EXPECTED_ORIGIN}`),
      ),
  );
  return Object.freeze({ port, host, log, maxPayload, allowedOrigins: Object.freeze(allowedOrigins) });
}

function readVar<T>(env: ServerEnv, name: keyof ServerEnv, fallback: T, parse: (raw: string) => T): T {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : parse(raw);
}

function fail(name: string, raw: string, expected: string): never {
  throw new ConfigError('INVALID_ENV', name, raw, expected);
}
