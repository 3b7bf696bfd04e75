/**
 * A token bucket: `burst` tokens to start with, refilled at `ratePerSecond`, never above `burst`.
 * Each message takes one. It lets a client send a burst (a reconnecting client flushes its whole
 * queue at once) while holding its long-run rate to `ratePerSecond`. Pure: the clock is passed in.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes one token if there is one; `false` means the caller is over its rate. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
