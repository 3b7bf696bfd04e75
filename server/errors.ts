import { describeValue } from '../adapter/describe.js';

/** What kind of setting was wrong: an environment variable or a `createServer()` option. */
export type ConfigErrorCode = 'INVALID_ENV' | 'INVALID_OPTION';

/**
 * A setting of the dev server was invalid. Thrown synchronously, before anything listens.
 * The message names the setting, the value received and what is accepted, e.g.
 * `Invalid environment variable PORT: got "abc"; expected an integer from 0 to 65535 (0 picks a free port).`
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** The environment variable (`PORT`) or option (`maxPayload`) that was wrong. */
  readonly setting: string;
  /** The value received, as given. */
  readonly value: unknown;

  constructor(code: ConfigErrorCode, setting: string, value: unknown, expected: string) {
    const what = code === 'INVALID_ENV' ? `environment variable ${setting}` : `option "${setting}"`;
    super(`Invalid ${what}: got ${describeValue(value)}; expected ${expected}.`);
    this.code = code;
    this.setting = setting;
    this.value = value;
  }
}
