import { isIP } from 'node:net';

// Checks shared by the environment parser (config.ts) and the option normaliser (options.ts), so that
// both accept exactly the same values and describe them with the same words.

const EXPECTED_PORT = 'an integer from 0 to 65535 (0 picks a free port)';
export const EXPECTED_HOST =
  'a host name or IP address without scheme or port, such as localhost, 127.0.0.1, 0.0.0.0 or ::1';
const EXPECTED_LIMIT = 'a non-negative integer (0 means no limit)';
const EXPECTED_MS = 'a non-negative integer number of milliseconds';
export const EXPECTED_ORIGIN =
  'an http(s) origin such as https://example.com:8080 (scheme, host and optional port; no path), or null';
export const EXPECTED_HOST_NAME = 'a host name such as example.com (no scheme, port or path)';

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export function isHost(value: unknown): value is string {
  return typeof value === 'string' && (isIP(value) !== 0 || HOST_NAME.test(value));
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * The origin `value` stands for, in the form browsers send (`https://example.com:8080`, lower case, default
 * port dropped), or `undefined` when `value` is not an origin: a path, query, fragment or credentials make it
 * a URL rather than an origin, and only http(s) origins can be allowed this way.
 */
export function parseOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === 'null') return value; // the opaque origin (sandboxed frames, Firefox file pages)
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  const http = url.protocol === 'http:' || url.protocol === 'https:';
  return bare && http && !value.endsWith('/') ? url.origin : undefined;
}

/** A host name for `allowedHosts`, lower case, or undefined when it is not one. */
export function parseHostName(value: unknown): string | undefined {
  return typeof value === 'string' && HOST_NAME.test(value) ? value.toLowerCase() : undefined;
}

/** What a numeric setting accepts, and the words that say so. */
interface NumberRule {
  readonly valid: (value: unknown) => value is number;
  readonly expected: string;
}

/**
 * The numeric settings, keyed by their `createServer()` option name. `loadConfig()` applies the same
 * rule to the matching environment variable once it has turned the digits into a number.
 */
export const NUMBER_RULES = {
  port: { valid: isPort, expected: EXPECTED_PORT },
  maxPayload: { valid: isPositiveInteger, expected: 'a positive integer number of bytes' },
  shutdownTimeoutMs: { valid: isNonNegativeInteger, expected: EXPECTED_MS },
  heartbeatIntervalMs: { valid: isNonNegativeInteger, expected: `${EXPECTED_MS} (0 turns it off)` },
  maxConnections: { valid: isNonNegativeInteger, expected: EXPECTED_LIMIT },
  messageRate: { valid: isNonNegativeInteger, expected: EXPECTED_LIMIT },
  messageBurst: { valid: isPositiveInteger, expected: 'a positive integer number of messages' },
  handshakeTimeoutMs: { valid: isPositiveInteger, expected: 'a positive integer number of milliseconds' },
} as const satisfies Record<string, NumberRule>;

export type NumericSetting = keyof typeof NUMBER_RULES;
