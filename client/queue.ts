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
  /** Sequence number in the exactly-once session, assigned when first written. */
  seq?: number;
}

/** Why the queue discarded a message: it was full, or the message alone exceeds `maxBytes`. */
export type DropReason = 'queue-full' | 'too-large';

/**
 * Bounded FIFO of outbound messages, the single owner of everything sent. In exactly-once mode it
 * also keeps messages that were written but not yet acknowledged (`written`), so they can be resent
 * after a reconnect. It never drops silently: every eviction or refusal goes to `onDrop`, and with
 * `overflow: 'throw'` the queue is left unchanged and `push()` throws `QUEUE_FULL`.
 *
 * ```
 *   spent slots | written, awaiting ack | not yet written
 *               ^ #head                 ^ #sent
 * ```
 */
export class OutboundQueue<Out> {
  /** Slots before `#head` are spent and compacted away in bulk. */
  #items: Array<QueuedMessage<Out> | undefined> = [];
  #head = 0;
  #sent = 0;
  readonly #limits: QueueLimits;
  readonly #onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void;
  /** Bytes currently held. */
  bytes = 0;

  constructor(limits: QueueLimits, onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  /** Messages held: written and awaiting an ack, plus not yet written. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Messages not yet written. */
  get unsent(): number {
    return this.#items.length - this.#sent;
  }

  /** The oldest message not yet written. */
  nextUnsent(): QueuedMessage<Out> | undefined {
    return this.#items[this.#sent];
  }

  /** Marks `nextUnsent()` as written: it stays held until `ack()` covers its `seq`. */
  markWritten(): void {
    this.#sent++;
  }

  /** Releases written messages whose `seq` is at most `seq` (a cumulative acknowledgement). */
  ack(seq: number): void {
    let message = this.#items[this.#head];
    while (message && this.#head < this.#sent && (message.seq as number) <= seq) {
      this.shift();
      message = this.#items[this.#head];
    }
  }

  /** After a resume: written-but-unacknowledged messages are to be written again, in order. */
  rewind(): void {
    this.#sent = this.#head;
  }

  /**
   * Removes and returns every message that was written at least once and not acknowledged (the
   * session that numbered them is gone). They are the oldest ones: seqs are assigned in order.
   */
  takeWritten(): Array<QueuedMessage<Out>> {
    const taken: Array<QueuedMessage<Out>> = [];
    while (this.#items[this.#head]?.seq !== undefined) taken.push(this.shift() as QueuedMessage<Out>);
    return taken;
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
      this.#sent = Math.max(this.#sent, this.#head);
      this.bytes -= message.bytes;
      if (this.#head > 1023 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#sent -= this.#head;
        this.#head = 0;
      }
    }
    return message;
  }
}
