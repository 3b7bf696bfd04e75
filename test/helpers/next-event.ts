/**
 * Waiting helpers for tests: wait for an event, or for a condition, with a bound and a failure
 * message that says what was awaited. They replace `setTimeout(done, 100)`-style sleeps.
 *
 * Timers are read from the global scope at call time, so they follow `vi.useFakeTimers()`: under
 * fake timers the timeout fires only when fake time is advanced.
 */

type Listener = (...args: unknown[]) => void;

/** A Node `EventEmitter` (ws's `WebSocket`, `net.Socket`, the fault proxy...). */
export interface NodeEmitterLike {
  on(event: string, listener: Listener): unknown;
  off?(event: string, listener: Listener): unknown;
  removeListener?(event: string, listener: Listener): unknown;
}

/** An emitter whose `on()` returns its own unsubscribe function (the tether-ws client, nanoevents). */
export interface SubscribableLike {
  // biome-ignore lint/suspicious/noExplicitAny: accepts typed emitters whose listeners take one payload.
  on(event: any, listener: (payload: any) => void): () => void;
}

/** A DOM `EventTarget` (a browser `WebSocket`, `AbortSignal`). */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

export type EmitterLike = NodeEmitterLike | SubscribableLike | EventTargetLike;

export interface WaitForOptions<T> {
  /** How long to wait before rejecting, in milliseconds. */
  timeoutMs: number;
  /** Resolve only on an emission for which this returns true; others are ignored. */
  filter?: (value: T, ...rest: unknown[]) => boolean;
  /**
   * Events that end the wait with a rejection, e.g. `['close']` while waiting for `'open'`, so a
   * test fails at once with the cause instead of at the timeout.
   */
  failOn?: readonly string[];
  /** Names the emitter in failure messages, e.g. `'client'` gives `... waiting for "open" on client`. */
  label?: string;
}

/**
 * Resolves with the first argument of the next `event` emitted by `source` (that passes `filter`),
 * and removes its listeners and its timer whichever way it ends.
 *
 * Rejects with `Timed out after 2000 ms waiting for "open" on client` when nothing arrives in time,
 * or `Got "close" while waiting for "open" on client` for an event listed in `failOn`.
 *
 * @example
 * const code = await waitFor<number>(ws, 'close', { timeoutMs: 2000 });
 * await waitFor(client, 'state', { timeoutMs: 2000, filter: (s: { to: string }) => s.to === 'open' });
 */
export async function waitFor<T = unknown>(
  source: EmitterLike,
  event: string,
  options: WaitForOptions<T>,
): Promise<T> {
  const args = await waitForArgs(source, event, options);
  return args[0] as T;
}

/** Like {@link waitFor}, but resolves with every argument of the emission (ws's `close` has `(code, reason)`). */
export function waitForArgs<T = unknown>(
  source: EmitterLike,
  event: string,
  options: WaitForOptions<T>,
): Promise<unknown[]> {
  const { timeoutMs, filter, failOn = [], label } = options;
  const where = label === undefined ? '' : ` on ${label}`;
  return new Promise((resolve, reject) => {
    const unsubscribers: Array<() => void> = [];
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribers) unsubscribe();
      unsubscribers.length = 0;
      settle();
    };
    const timer = setTimeout(() => {
      const which = filter ? ` matching the filter` : '';
      finish(() =>
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for "${event}"${which}${where}`)),
      );
    }, timeoutMs);

    unsubscribers.push(
      subscribe(source, event, (...args) => {
        if (filter && !filter(args[0] as T, ...args.slice(1))) return;
        finish(() => resolve(args));
      }),
    );
    for (const other of failOn) {
      unsubscribers.push(
        subscribe(source, other, (...args) => {
          const detail = args[0] instanceof Error ? `: ${args[0].message}` : '';
          const error = new Error(`Got "${other}"${detail} while waiting for "${event}"${where}`, {
            cause: args[0],
          });
          finish(() => reject(error));
        }),
      );
    }
  });
}

/** Adds `listener` for `event` on any supported emitter and returns the function that removes it. */
function subscribe(source: EmitterLike, event: string, listener: Listener): () => void {
  if (!('on' in source) && 'addEventListener' in source) {
    source.addEventListener(event, listener);
    return () => source.removeEventListener(event, listener);
  }
  if (!('on' in source)) throw new TypeError('waitFor(): the source has neither on() nor addEventListener()');
  // A Node EventEmitter's on() returns the emitter; an unsubscribe-style on() returns a function.
  const result = (source as NodeEmitterLike).on(event, listener);
  if (typeof result === 'function') return result as () => void;
  const node = source as NodeEmitterLike;
  const remove = node.off ?? node.removeListener;
  if (!remove) throw new TypeError('waitFor(): the source has on() but neither off() nor removeListener()');
  return () => remove.call(node, event, listener);
}

export interface WaitUntilOptions {
  /** How long to keep polling before rejecting, in milliseconds. */
  timeoutMs: number;
  /** Pause between two checks, in milliseconds. @default 10 */
  intervalMs?: number;
  /** What was awaited, in words: the failure reads `MESSAGE (not met within 2000 ms)`. */
  message: string;
}

/**
 * Polls `predicate` until it returns a truthy value (awaited if it is a promise) and resolves with
 * that value. A predicate that throws counts as "not yet"; the last error becomes the failure's
 * `cause`. Prefer {@link waitFor} when an event exists: polling is for state with no event, such
 * as a counter.
 *
 * @example
 * await waitUntil(() => proxy.connections === 0, { timeoutMs: 2000, message: 'proxy connections to drain' });
 */
export async function waitUntil<T>(
  predicate: () => T | Promise<T>,
  options: WaitUntilOptions,
): Promise<NonNullable<T>> {
  const { timeoutMs, intervalMs = 10, message } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      throw new Error(`${message} (not met within ${timeoutMs} ms)`, { cause: lastError });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
  }
}
