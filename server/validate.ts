import { isIP } from 'node:net';

// Checks shared by the environment parser (config.ts) and the option normaliser (options.ts), so that
// both accept exactly the same values and describe them with the same words.

export const EXPECTED_PORT = 'an integer from 0 to 65535 (0 picks a free port)';
export const EXPECTED_HOST =
  'a host name or IP address without scheme or port, such as localhost, 127.0.0.1, 0.0.0.0 or ::1';
export const EXPECTED_BYTES = 'a positive integer number of bytes';
export const EXPECTED_LIMIT = 'a non-negative integer (0 means no limit)';
export const EXPECTED_MS = 'a non-negative integer number of milliseconds';
export const EXPECTED_ORIGIN =
  'an http(s) origin such as https://example.com:8080 (scheme, host and optional port; no path)';

export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export function isHost(value: unknown): value is string {
  return typeof value === 'string' && (isIP(value) !== 0 || HOST_NAME.test(value));
}

export function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * The origin `value` stands for, in the form browsers send (`https://example.com:8080`, lower case, default
 * port dropped), or `undefined` when `value` is not an origin: a path, query, fragment or credentials make it
 * a URL rather than an origin, and only http(s) origins can be allowed this way.
 */
export function parseOrigin(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
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
