import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../client/backoff.js';

const options = { minDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 };

describe('backoffDelay()', () => {
  it('grows by factor from minDelay and caps at maxDelay when random is 0', () => {
    const delays = [1, 2, 3, 4, 5, 6, 30].map((attempt) => backoffDelay(attempt, options, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('removes up to jitter of the delay: random near 1 gives base * (1 - jitter)', () => {
    expect(backoffDelay(1, options, () => 0.999999)).toBe(50);
    expect(backoffDelay(5, options, () => 0.5)).toBe(750);
  });

  it('with jitter 0 ignores random', () => {
    expect(backoffDelay(3, { ...options, jitter: 0 }, () => 0.7)).toBe(400);
  });

  it('with factor 1 keeps a constant delay', () => {
    expect([1, 5, 50].map((a) => backoffDelay(a, { ...options, factor: 1 }, () => 0))).toEqual([
      100, 100, 100,
    ]);
  });

  it('stays finite and capped for huge attempt numbers', () => {
    expect(backoffDelay(10_000, options, () => 0)).toBe(1000);
  });

  it('always lies in [base * (1 - jitter), base] and never above maxDelay, for any random and any bounds', () => {
    const outside: string[] = [];
    const randoms = [0, 0.1, 0.33, 0.5, 0.77, 0.999999];
    const configs = [
      options,
      { minDelay: 100, maxDelay: 10_000, factor: 1.5, jitter: 0.337 },
      { minDelay: 10.5, maxDelay: 10.5, factor: 1, jitter: 0 },
      { minDelay: 0.4, maxDelay: 5, factor: 3, jitter: 0.9 },
    ];
    for (const config of configs) {
      for (let attempt = 1; attempt <= 8; attempt++) {
        const base = Math.min(config.maxDelay, config.minDelay * config.factor ** (attempt - 1));
        for (const r of randoms) {
          const delay = backoffDelay(attempt, config, () => r);
          if (delay < base * (1 - config.jitter) || delay > base || delay > config.maxDelay) {
            outside.push(
              `${JSON.stringify(config)} attempt ${attempt} random ${r}: ${delay} not in [${base * (1 - config.jitter)}, ${base}]`,
            );
          }
        }
      }
    }
    expect(outside).toEqual([]);
  });
});
