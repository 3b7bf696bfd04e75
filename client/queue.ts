import type { SendData } from './codec.js';
import { byteLength } from './codec.js';
import { TetherError } from './errors.js';
import type { DEFAULT_OPTIONS } from './options.js';

type QueueLimits = (typeof DEFAULT_OPTIONS)['queue'];

/** One outbound message: what the user passed to `send()`, and its encoded form. */
export interface QueuedMessage<Out> {
  data: Out;
  wire: SendData;
  bytes: number;
}

export type DropReason = 'queue-full' | 'too-large';

/**
 * Bounded FIFO of messages waiting for an open socket. It never drops silently: every eviction
 * or refusal is reported to `onDrop`, and with `overflow: 'throw'` nothing is changed and
 * `push()` throws `QUEUE_FULL`.
 */
export class OutboundQueue<Out> {
  #items: QueuedMessage<Out>[] = [];
  #head = 0;
  /** Bytes currently held. */
  bytes = 0;

  readonly #limits: QueueLimits;
  readonly #onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void;

  constructor(limits: QueueLimits, onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a message at the back. Returns false if the message itself was refused (and reported). */
  push(data: Out, wire: SendData): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const message = { data, wire, bytes: byteLength(wire) };
    const tooLarge = message.bytes > maxBytes || maxMessages === 0;
    const fits = () => this.length < maxMessages && this.bytes + message.bytes <= maxBytes;
    if (overflow === 'throw' && !fits()) {
      throw new TetherError(
        'QUEUE_FULL',
        `Queue full: ${this.length} messages, ${this.bytes} bytes queued; this message of ${message.bytes} bytes ` +
          `would exceed queue.maxMessages (${maxMessages}) or queue.maxBytes (${maxBytes}).`,
        { data },
      );
    }
    if (tooLarge || (overflow === 'drop-newest' && !fits())) {
      this.#onDrop(message, tooLarge ? 'too-large' : 'queue-full');
      return false;
    }
    while (!fits()) this.#onDrop(this.shift() as QueuedMessage<Out>, 'queue-full');
    this.#items.push(message);
    this.bytes += message.bytes;
    return true;
  }

  peek(): QueuedMessage<Out> | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the oldest message. O(1): the array is compacted only now and then. */
  shift(): QueuedMessage<Out> | undefined {
    const message = this.#items[this.#head];
    if (!message) return undefined;
    this.#items[this.#head++] = undefined as never;
    this.bytes -= message.bytes;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return message;
  }
}
