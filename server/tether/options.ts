import { TetherServerError } from './errors.js';

/** Options of {@link createTetherServer}. Every field is optional; the defaults are in {@link DEFAULT_TETHER_OPTIONS}. */
export interface TetherServerOptions {
  /**
   * How long a session whose connection dropped is kept for its client to resume, in ms. When it
   * passes, the session is discarded and its unacknowledged messages are reported (`lost`,
   * reason `'expired'`). Sent to clients in `welcome.window`. `0`: a session ends with its connection.
   * @default 60000
   */
  resumeWindow?: number;
  /**
   * Most unacknowledged messages a session may hold (sent while the client is away, or not yet
   * acknowledged). One more ends the session: `lost` with reason `'overflow'`, close 1008.
   * An integer >= 1, or `Infinity`.
   * @default 10000
   */
  maxBufferedMessages?: number;
  /**
   * Most payload bytes (UTF-8 for text) of unacknowledged messages a session may hold; beyond it the
   * session ends as for `maxBufferedMessages`. An integer >= 1, or `Infinity`.
   * @default 16777216 (16 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Acknowledge at once when this many received messages are unacknowledged.
   * @default 32
   */
  ackBatch?: number;
  /**
   * Otherwise acknowledge this many ms after the first unacknowledged message.
   * @default 20
   */
  ackDelay?: number;
  /**
   * A connection that has not sent its `hello` within this many ms is closed with 1002.
   * `0` waits forever.
   * @default 10000
   */
  helloTimeout?: number;
}

export type ResolvedTetherOptions = Readonly<Required<TetherServerOptions>>;

/** The defaults, in one place (docs/protocol.md §8 lists the same values). */
export const DEFAULT_TETHER_OPTIONS: ResolvedTetherOptions = Object.freeze({
  resumeWindow: 60_000,
  maxBufferedMessages: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  ackBatch: 32,
  ackDelay: 20,
  helloTimeout: 10_000,
});

/** The longest delay `setTimeout` honours; a longer one fires at once (Node warns and uses 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

type Rule = { readonly min: number; readonly max: number; readonly infinite: boolean };

const RULES: Record<keyof TetherServerOptions, Rule> = {
  resumeWindow: { min: 0, max: MAX_TIMER_MS, infinite: false },
  maxBufferedMessages: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  maxBufferedBytes: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  ackBatch: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: false },
  ackDelay: { min: 0, max: MAX_TIMER_MS, infinite: false },
  helloTimeout: { min: 0, max: MAX_TIMER_MS, infinite: false },
};

/**
 * Checks `input` once and fills the defaults (with `??`: an explicit `0` is kept, `undefined` means
 * the default). Returns a frozen object; the rest of the adapter reads only that.
 * @throws {TetherServerError} `INVALID_OPTION` for an unknown option, a wrong type or a value out of range.
 */
export function normalizeTetherOptions(input: TetherServerOptions = {}): ResolvedTetherOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TetherServerError(
      'INVALID_OPTION',
      `Invalid options: got ${describe(input)}; expected an object or undefined.`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(RULES, key)) {
      throw new TetherServerError(
        'INVALID_OPTION',
        `Unknown option "${key}"; expected one of ${Object.keys(RULES).join(', ')}.`,
      );
    }
  }
  const resolved = { ...DEFAULT_TETHER_OPTIONS };
  for (const key of Object.keys(RULES) as Array<keyof TetherServerOptions>) {
    const value = input[key] ?? DEFAULT_TETHER_OPTIONS[key];
    resolved[key] = check(key, value, RULES[key]);
  }
  return Object.freeze(resolved);
}

function check(key: string, value: unknown, rule: Rule): number {
  if (rule.infinite && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max) {
    return value;
  }
  let expected = `an integer from ${rule.min} to ${rule.max}`;
  if (rule.infinite) expected = `an integer >= ${rule.min}, or Infinity`;
  else if (rule.max === Number.MAX_SAFE_INTEGER) expected = `an integer >= ${rule.min}`;
  throw new TetherServerError(
    'INVALID_OPTION',
    `Invalid option "${key}": got ${describe(value)}; expected ${expected}.`,
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
