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

/** Messages and bytes held outside the queue, that count against its limits. */
export interface Held {
  readonly length: number;
  readonly bytes: number;
}

/**
 * Why a message you sent was discarded unwritten: the queue was full, the message alone exceeds
 * `maxBytes`, or `close()` ended the client while it was still queued (no connection was open to
 * write it to, or the connection closed first).
 */
export type DropReason = 'queue-full' | 'too-large' | 'closed';

const NOTHING_HELD: Held = { length: 0, bytes: 0 };

/**
 * Bounded FIFO of the messages not yet written. It never drops silently: every eviction or refusal
 * goes to `onDrop`, and with `overflow: 'throw'` the queue is left unchanged and `push()` throws
 * `QUEUE_FULL`. `held` is what a delivery mode keeps after writing (exactly-once: messages not yet
 * acknowledged): it counts against the limits, so that they bound everything sent and not yet
 * done with, but only unwritten messages are ever evicted.
 */
export class OutboundQueue<Out> {
  /** Slots before `#head` are spent and compacted away in bulk. */
  #items: Array<QueuedMessage<Out> | undefined> = [];
  #head = 0;
  readonly #limits: QueueLimits;
  readonly #onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void;
  readonly #held: Held;
  readonly #watch: (message: QueuedMessage<Out>, entered: boolean) => void;
  /** Bytes currently queued. */
  bytes = 0;

  /** @param watch told of every message entering (`true`) and leaving the queue, in order (DeliveryLayer.queued). */
  constructor(
    limits: QueueLimits,
    onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void,
    held = NOTHING_HELD,
    watch: (message: QueuedMessage<Out>, entered: boolean) => void = () => {},
  ) {
    this.#limits = limits;
    this.#onDrop = onDrop;
    this.#held = held;
    this.#watch = watch;
  }

  /** Messages queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends a message; returns false if the message itself was refused (and reported). */
  push(data: Out, wire: SendData): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const held = this.#held;
    const message = { data, wire, bytes: byteLength(wire) };
    const fits = () =>
      this.length + held.length < maxMessages && this.bytes + held.bytes + message.bytes <= maxBytes;
    if (overflow === 'throw' && !fits()) {
      throw new TetherError('QUEUE_FULL', `Queue full: ${this.length} messages, ${this.bytes} bytes`, {
        data,
      });
    }
    const tooLarge = message.bytes > maxBytes || !maxMessages;
    while (!tooLarge && overflow === 'drop-oldest' && !fits() && this.length)
      this.#onDrop(this.shift() as QueuedMessage<Out>, 'queue-full');
    if (tooLarge || !fits()) {
      this.#onDrop(message, tooLarge ? 'too-large' : 'queue-full');
      return false;
    }
    this.#items.push(message);
    this.bytes += message.bytes;
    this.#watch(message, true);
    return true;
  }

  /** Empties the queue, reporting every message (`close()` found them unwritten). */
  drop(): void {
    while (this.length) this.#onDrop(this.shift() as QueuedMessage<Out>, 'closed');
  }

  /** Removes and returns the oldest message, in O(1): `Array#shift` is O(n) on long arrays. */
  shift(): QueuedMessage<Out> | undefined {
    const message = this.#items[this.#head];
    if (message) {
      this.#items[this.#head++] = undefined;
      this.bytes -= message.bytes;
      this.#watch(message, false);
      if (this.#head > 1023 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
    }
    return message;
  }
}
