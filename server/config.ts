import { SETTINGS, type ServerConfig, type ServerEnv, type SettingName } from './settings.js';

export type { ServerConfig, ServerEnv } from './settings.js';

/**
 * Reads the dev server's settings from environment variables ({@link SETTINGS}: each with a variable,
 * under its option's name). An unset or empty variable takes its default.
 * @throws {ConfigError} code `INVALID_ENV`, naming the variable, its value and what is accepted, e.g.
 * `Invalid environment variable PORT: got "80a"; expected an integer from 0 to 65535 (0 picks a free port).`
 * @example const { port, host } = loadConfig(process.env);
 */
export function loadConfig(env: ServerEnv = process.env): ServerConfig {
  const config: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const { env: variable, default: fallback, rule } = SETTINGS[name];
    if (variable === undefined) continue;
    const raw = env[variable as keyof ServerEnv];
    config[name] = raw === undefined || raw === '' ? fallback : rule.env(raw, variable);
  }
  return Object.freeze(config) as ServerConfig;
}
