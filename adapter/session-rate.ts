/**
 * How fast each remote address may create sessions: a token bucket per address (`sessionBurst`
 * tokens, refilled at `sessionRate` per second). Buckets that have refilled are forgotten, so the
 * map holds only addresses that created sessions recently.
 */
export class SessionRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #perMs: number;

  constructor(
    ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.#perMs = ratePerSecond / 1000;
  }

  /** Takes one token for `address`; false when it is over its rate. Always true with rate 0 (no limit). */
  take(address: string, now: number = performance.now()): boolean {
    if (this.#perMs === 0) return true;
    this.#forgetRefilled(now);
    const bucket = this.#buckets.get(address) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(address, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** A full bucket says nothing a new one would not: once the map is large, drop those. */
  #forgetRefilled(now: number): void {
    if (this.#buckets.size < 1024) return;
    for (const [address, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.burst) this.#buckets.delete(address);
    }
  }
}
