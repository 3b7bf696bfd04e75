type Target<E> = {
  addEventListener(type: string, listener: (event: E) => void): void;
  removeEventListener(type: string, listener: (event: E) => void): void;
};

/**
 * Owns things that must be undone: timers, listeners, sockets. Each `add()` returns a function
 * that undoes that one thing early; `dispose()` undoes everything left, newest first, and may be
 * called again. Timers use the global `setTimeout` at call time (never a cached copy), so fake
 * timers installed by tests are honoured.
 */
export class Disposables {
  #undo: Array<() => void> = [];

  add(dispose: () => void): () => void {
    const once = () => {
      const index = this.#undo.indexOf(once);
      if (index >= 0) {
        this.#undo.splice(index, 1);
        dispose();
      }
    };
    this.#undo.push(once);
    return once;
  }

  /** Starts a timer owned by this list. The returned function cancels it. */
  timeout(callback: () => void, ms: number): () => void {
    const timer = setTimeout(() => {
      cancel();
      callback();
    }, ms);
    const cancel = this.add(() => clearTimeout(timer));
    return cancel;
  }

  /** Adds an event listener owned by this list. The returned function removes it. */
  listen<E = Event>(target: Target<E>, type: string, listener: (event: E) => void): () => void {
    target.addEventListener(type, listener);
    return this.add(() => target.removeEventListener(type, listener));
  }

  dispose(): void {
    // Each undo removes itself from the list, so this ends; newest first.
    for (let undo = this.#undo.at(-1); undo; undo = this.#undo.at(-1)) undo();
  }
}
