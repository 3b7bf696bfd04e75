import { ConfigError } from './errors.js';
import { quietLogger } from './logger.js';
import { type ResolvedServerOptions, SETTINGS, type ServerOptions, type SettingName } from './settings.js';

export type { ResolvedServerOptions, ServerOptions } from './settings.js';

const OPTIONS = (Object.keys(SETTINGS) as SettingName[]).filter((name) => SETTINGS[name].option);

/**
 * Checks `options` once against {@link SETTINGS} and fills the defaults (`??`, so an explicit `0`
 * port is kept). `quiet` is applied to the logger here, so the rest of the server reads `logger` only.
 * @throws {ConfigError} code `INVALID_OPTION`, naming the option, the value and what is accepted.
 */
export function normalizeServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('INVALID_OPTION', 'options', options, 'an object or undefined');
  }
  const given = options as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const name of OPTIONS) {
    const { default: fallback, rule } = SETTINGS[name];
    const value = given[name] ?? fallback;
    resolved[name] = value === undefined ? undefined : rule.option(value, name);
  }
  const result = resolved as { -readonly [K in keyof ResolvedServerOptions]: ResolvedServerOptions[K] };
  if (result.quiet) result.logger = quietLogger(result.logger);
  return Object.freeze(result);
}
