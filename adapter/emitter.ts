export type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A small typed emitter. `on()` returns its own unsubscribe function; `emit()` calls a snapshot of
 * the listeners, so one that unsubscribes (or subscribes) during an emit cannot make another be
 * skipped or called twice. A listener that throws does not stop the others, nor corrupt the state of
 * the emitter's owner, which may be mid-update: the error goes to `onListenerError`.
 */
export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Array<Listener<never>>>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const listeners = this.#listeners.get(event) ?? [];
    // Copy on write: an emit in progress keeps iterating over the array it started with.
    const index = listeners.lastIndexOf(listener);
    if (index !== -1)
      this.#listeners.set(event, [...listeners.slice(0, index), ...listeners.slice(index + 1)]);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  /** Forgets every listener (after the owner's last event). */
  clear(): void {
    this.#listeners.clear();
  }
}
