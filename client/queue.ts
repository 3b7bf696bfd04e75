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

/** Why the queue discarded a message: it was full, or the message alone exceeds `maxBytes`. */
export type DropReason = 'queue-full' | 'too-large';

/**
 * Bounded FIFO of messages waiting to be written. It never drops silently: every eviction or
 * refusal goes to `onDrop`, and with `overflow: 'throw'` the queue is left unchanged and `push()`
 * throws `QUEUE_FULL`.
 */
export class OutboundQueue<Out> {
  /** Messages from `#head` on are live; the slots before it are spent and compacted away in bulk. */
  #items: Array<QueuedMessage<Out> | undefined> = [];
  #head = 0;
  readonly #limits: QueueLimits;
  readonly #onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void;
  /** Bytes currently held. */
  bytes = 0;

  constructor(limits: QueueLimits, onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends a message; returns false if the message itself was refused (and reported). */
  push(data: Out, wire: SendData): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const message = { data, wire, bytes: byteLength(wire) };
    const fits = () => this.length < maxMessages && this.bytes + message.bytes <= maxBytes;
    if (overflow === 'throw' && !fits()) {
      throw new TetherError('QUEUE_FULL', `Queue full: ${this.length} messages, ${this.bytes} bytes`, {
        data,
      });
    }
    const tooLarge = message.bytes > maxBytes || !maxMessages;
    if (tooLarge || (overflow === 'drop-newest' && !fits())) {
      this.#onDrop(message, tooLarge ? 'too-large' : 'queue-full');
      return false;
    }
    while (!fits()) this.#onDrop(this.shift() as QueuedMessage<Out>, 'queue-full');
    this.#items.push(message);
    this.bytes += message.bytes;
    return true;
  }

  /** Removes and returns the oldest message, in O(1): `Array#shift` is O(n) on long arrays. */
  shift(): QueuedMessage<Out> | undefined {
    const message = this.#items[this.#head];
    if (message) {
      this.#items[this.#head++] = undefined;
      this.bytes -= message.bytes;
      if (this.#head > 1023 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
    }
    return message;
  }
}
