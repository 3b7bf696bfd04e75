import { Fifo } from './fifo.js';

/** One sent message, kept until the peer acknowledges it. */
export interface Outbound {
  readonly seq: number;
  /** The encoded frame, written again as is on a resend. */
  readonly frame: string | Buffer;
  /** Payload size in bytes (UTF-8 for text), counted against `maxBufferedBytes`. */
  readonly bytes: number;
}

/**
 * The FIFO of unacknowledged messages of one session, in seq order. Acks remove from the front,
 * and what they remove is unreachable from here at once (see Fifo): every byte this buffer keeps
 * alive is one its `bytes` counts.
 */
export class SendBuffer {
  readonly #items = new Fifo<Outbound>();
  #bytes = 0;

  /** Messages held. */
  get count(): number {
    return this.#items.size;
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
    for (let item = this.#items.at(0); item !== undefined && item.seq <= seq; item = this.#items.at(0)) {
      this.#items.shift();
      this.#bytes -= item.bytes;
    }
  }

  /** The messages held, oldest first. */
  entries(): Outbound[] {
    return this.#items.toArray();
  }

  /** Empties the buffer and returns what it held, oldest first. */
  drain(): Outbound[] {
    this.#bytes = 0;
    return this.#items.clear();
  }
}
