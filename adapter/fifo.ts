/**
 * Fewest dead slots before the backing array is compacted: below this, copying the live items
 * costs more than the empty slots (8 bytes each) it would free.
 */
const COMPACT_MIN = 32;

/**
 * A first-in first-out list with O(1) `shift()`, for what a peer makes the adapter hold until it
 * acknowledges (a session's unacknowledged messages). `shift()` blanks the slot it takes from at
 * once, so an item is unreachable from here as soon as it leaves: a head index that only moved
 * would keep every passed item alive, outside every limit, until the next compaction (issue 23).
 * The empty slots themselves are dropped once they are at least half the array (amortised O(1)).
 */
export class Fifo<T> {
  #slots: Array<T | undefined> = [];
  #head = 0;

  /** Items held. */
  get size(): number {
    return this.#slots.length - this.#head;
  }

  push(item: T): void {
    this.#slots.push(item);
  }

  /** The item `index` places from the front (0: the oldest), or undefined past the end. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#slots[this.#head + index];
  }

  /** Removes and returns the oldest item; its slot no longer references it. */
  shift(): T | undefined {
    if (this.#head >= this.#slots.length) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head += 1;
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_MIN && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The items held, oldest first (a copy). */
  toArray(): T[] {
    return this.#slots.slice(this.#head) as T[];
  }

  /** Empties the list and returns what it held, oldest first. */
  clear(): T[] {
    const items = this.toArray();
    this.#slots = [];
    this.#head = 0;
    return items;
  }
}
