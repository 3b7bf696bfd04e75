/**
 * Owns things that must be undone: timers, listeners, sockets. Each `add()` returns a function
 * that undoes that one thing early; `dispose()` undoes everything left, newest first, and can be
 * called again safely. Timers use the global `setTimeout` at call time (never a cached copy), so
 * fake timers installed by tests are honoured.
 */
export class Disposables {
  readonly #undo = new Set<() => void>();

  add(dispose: () => void): () => void {
    const once = () => {
      if (this.#undo.delete(once)) dispose();
    };
    this.#undo.add(once);
    return once;
  }

  /** Starts a timer owned by this list. The returned function cancels it. */
  timeout(callback: () => void, ms: number): () => void {
    const cancel = this.add(() => clearTimeout(timer));
    const timer = setTimeout(() => {
      cancel();
      callback();
    }, ms);
    return cancel;
  }

  /** Adds a listener owned by this list. The returned function removes it. */
  listen<E extends Event>(
    target: {
      addEventListener(t: string, l: (e: E) => void): void;
      removeEventListener(t: string, l: (e: E) => void): void;
    },
    type: string,
    listener: (event: E) => void,
  ): () => void {
    target.addEventListener(type, listener);
    return this.add(() => target.removeEventListener(type, listener));
  }

  dispose(): void {
    for (const undo of [...this.#undo].reverse()) undo();
  }
}
