/** One sent message, kept until the peer acknowledges it. */
export interface Outbound {
  readonly seq: number;
  /** The encoded frame, written again as is on a resend. */
  readonly frame: string | Buffer;
  /** Payload size in bytes (UTF-8 for text), counted against `maxBufferedBytes`. */
  readonly bytes: number;
}

/** Compact the backing array once this many acknowledged entries sit before the head. */
const COMPACT_AFTER = 1024;

/**
 * The FIFO of unacknowledged messages of one session, in seq order. Acks remove from the front;
 * the head index makes that O(1) per message instead of `Array.shift()`'s O(n).
 */
export class SendBuffer {
  #items: Outbound[] = [];
  #head = 0;
  #bytes = 0;

  /** Messages held. */
  get count(): number {
    return this.#items.length - this.#head;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  push(item: Outbound): void {
    this.#items.push(item);
    this.#bytes += item.bytes;
  }

  /** Drops every message with seq ≤ `seq` (a cumulative acknowledgement). */
  dropThrough(seq: number): void {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (item === undefined || item.seq > seq) break;
      this.#bytes -= item.bytes;
      this.#head += 1;
    }
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The messages held, oldest first. */
  entries(): Outbound[] {
    return this.#items.slice(this.#head);
  }

  /** Empties the buffer and returns what it held, oldest first. */
  drain(): Outbound[] {
    const items = this.entries();
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return items;
  }
}
