import type { Delivery } from './delivery.js';
import { invalid } from './errors.js';

/** The longest delay `setTimeout` honours; a larger one fires at once. */
const MAX_TIMER = 2_147_483_647;
/**
 * The rules of the numeric options, keyed by each option's full path (`heartbeat.timeout`, not
 * `timeout`), so that a new option in another group never inherits a rule by sharing a leaf name.
 * Unlisted: a number from 0 to the longest timer delay. `max: Infinity` only for options that are
 * not timer delays.
 */
const NUMBERS: Record<string, { min?: 1; max?: number; integer?: true }> = {
  connectTimeout: { min: 1 },
  closeTimeout: { min: 1 },
  highWaterMark: { max: Number.POSITIVE_INFINITY },
  'reconnect.factor': { min: 1 },
  'reconnect.jitter': { max: 1 },
  'reconnect.maxRetries': { max: Number.POSITIVE_INFINITY, integer: true },
  'queue.maxMessages': { max: Number.POSITIVE_INFINITY, integer: true },
  'queue.maxBytes': { max: Number.POSITIVE_INFINITY },
  'heartbeat.interval': { min: 1 },
  'heartbeat.timeout': { min: 1 },
};
const CHOICES: Record<string, readonly string[]> = {
  binaryType: ['blob', 'arraybuffer'],
  'queue.overflow': ['drop-oldest', 'drop-newest', 'throw'],
};

/** Checks one value against the kind of its default and the rules of its full path `name`. */
export function check(name: string, value: unknown, fallback: unknown): unknown {
  const kind = typeof fallback;
  if (kind === 'number') {
    const { min = 0, max = MAX_TIMER, integer } = NUMBERS[name] ?? {};
    const expected = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
    if (typeof value !== 'number' || Number.isNaN(value)) throw invalid('option', name, value, expected);
    if (value < min || value > max || (integer && value !== max && !Number.isInteger(value))) {
      throw invalid('option', name, value, expected, true);
    }
  } else if (name === 'delivery') {
    // A mode is an object made by its own entry point (exactlyOnce()), so its code is opt-in.
    // `typeof object` first: a function could carry a `layer` too, and it is no mode.
    const mode = typeof value === 'object' ? (value as Partial<Delivery> | null) : undefined;
    if (value !== 'best-effort' && typeof mode?.layer !== 'function') {
      throw invalid('option', name, value, '"best-effort" or exactlyOnce() from "tether-ws/exactly-once"');
    }
  } else if (CHOICES[name] && !CHOICES[name].includes(value as string)) {
    const expected = `one of ${CHOICES[name].map((c) => `"${c}"`).join(', ')}`;
    throw invalid('option', name, value, expected, typeof value === 'string');
  } else if (kind !== 'string' && kind !== 'object' && typeof value !== kind) {
    throw invalid('option', name, value, kind === 'function' ? 'a function' : 'true or false');
  }
  return value;
}
