import { isIP } from 'node:net';
import { ConfigError } from './errors.js';

// The rules of the settings table (settings.ts): each checks a createServer() option and parses an
// environment variable with the same words for what it accepts, so both ways in agree.

/** How one setting is checked, whichever way it comes in. */
export interface Rule<T> {
  /** What is accepted, as the error messages and the docs table say it. */
  readonly expected: string;
  /** The option's value, checked and normalised. @throws {ConfigError} `INVALID_OPTION` */
  readonly option: (value: unknown, name: string) => T;
  /** The variable's text, parsed. @throws {ConfigError} `INVALID_ENV` */
  readonly env: (raw: string, name: string) => T;
}

function rejectOption(name: string, value: unknown, expected: string): never {
  throw new ConfigError('INVALID_OPTION', name, value, expected);
}

function rejectEnv(name: string, raw: string, expected: string): never {
  throw new ConfigError('INVALID_ENV', name, raw, expected);
}

/** A rule from a check (`undefined` = refused) and, when the text needs more than that, a parser. */
function rule<T>(
  expected: string,
  check: (value: unknown) => T | undefined,
  parse: (raw: string) => T | undefined = check,
  expectedEnv = expected,
): Rule<T> {
  return {
    expected,
    option: (value, name) => check(value) ?? rejectOption(name, value, expected),
    env: (raw, name) => parse(raw) ?? rejectEnv(name, raw, expectedEnv),
  };
}

/**
 * An integer setting. From the environment, digits only: `Number()` alone would also take "1e3",
 * " 80" or "0x50".
 */
export function integer(expected: string, valid: (value: number) => boolean, digits = /^\d+$/): Rule<number> {
  const check = (value: unknown) =>
    Number.isSafeInteger(value) && valid(value as number) ? (value as number) : undefined;
  return rule(expected, check, (raw) => (digits.test(raw) ? check(Number(raw)) : undefined));
}

/** One of a few strings. */
export function oneOf<T extends string>(choices: readonly T[]): Rule<T> {
  return rule(choices.map((choice) => `"${choice}"`).join(' or '), (value) =>
    choices.find((choice) => choice === value),
  );
}

/** A list: an array as an option, comma-separated text in the environment (blanks skipped). */
export function list(
  parseItem: (item: unknown) => string | undefined,
  item: string,
  items: string,
): Rule<readonly string[]> {
  const expectedEnv = `comma-separated ${items}, each ${item}`;
  return {
    expected: `a list of ${items} (comma-separated in the environment), each ${item}`,
    option: (value, name) => {
      if (!Array.isArray(value)) return rejectOption(name, value, `an array of ${item}`);
      return Object.freeze(
        value.map(
          (entry: unknown, index) => parseItem(entry) ?? rejectOption(`${name}[${index}]`, entry, item),
        ),
      );
    },
    env: (raw, name) =>
      Object.freeze(
        raw
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== '')
          .map((entry) => parseItem(entry) ?? rejectEnv(name, raw, expectedEnv)),
      ),
  };
}

/** A value checked by `valid` alone; from the environment, the text as is. */
export function matching<T>(expected: string, valid: (value: unknown) => value is T): Rule<T> {
  return rule(expected, (value) => (valid(value) ? value : undefined));
}

/** `true` or `false`; from the environment, the two words given (e.g. `LOG=quiet` for `true`). */
export function flag(whenTrue: string, whenFalse: string): Rule<boolean> {
  return rule(
    'true or false',
    (value) => (typeof value === 'boolean' ? value : undefined),
    (raw) => (raw === whenTrue ? true : raw === whenFalse ? false : undefined),
    `"${whenFalse}" or "${whenTrue}"`,
  );
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

export function isHost(value: unknown): value is string {
  return typeof value === 'string' && (isIP(value) !== 0 || HOST_NAME.test(value));
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
