import type { TetherError } from './errors.js';

/** One pending promise of `open()` or `close()`: resolved without an error, rejected with one. */
export type Waiter = (error?: TetherError) => void;

const noop = () => {};

/**
 * A promise settled by the next {@link settle} of `waiters`. Its rejection is marked handled here:
 * `open()` is often called without awaiting it, and a client that gives up reports that as an
 * `error` event already; an unhandled rejection would crash Node on top.
 */
export function waitOn(waiters: Waiter[]): Promise<void> {
  const promise = new Promise<void>((resolve, reject) =>
    waiters.push((error) => (error ? reject(error) : resolve())),
  );
  promise.catch(noop);
  return promise;
}

/** Settles the waiters taken earlier (`waiters.splice(0)`): resolves them, or rejects them with `error`. */
export function settle(waiters: Waiter[], error?: TetherError): void {
  for (const waiter of waiters) waiter(error);
}
