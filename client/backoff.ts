import type { ResolvedReconnect } from './options.js';

/**
 * The delay before retry number `attempt` (1-based): exponential from `minDelay` by `factor`,
 * capped at `maxDelay`, then reduced by up to `jitter` of itself. The result always lies in
 * `[base * (1 - jitter), base]` where `base = min(maxDelay, minDelay * factor ** (attempt - 1))`.
 * Pure: no timers, randomness injected.
 */
export function backoffDelay(
  attempt: number,
  options: Pick<ResolvedReconnect, 'minDelay' | 'maxDelay' | 'factor' | 'jitter'>,
  random: () => number,
): number {
  const base = Math.min(options.maxDelay, options.minDelay * options.factor ** (attempt - 1));
  const floor = base * (1 - options.jitter);
  // Rounded to whole milliseconds, then clamped: rounding alone could leave [floor, base].
  return Math.min(base, Math.max(Math.ceil(floor), Math.round(base * (1 - options.jitter * random()))));
}
