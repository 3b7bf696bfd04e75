import type { SendData } from './codec.js';
import { byteLength } from './codec.js';
import { TetherError } from './errors.js';
import type { DEFAULT_OPTIONS } from './options.js';

type QueueLimits = (typeof DEFAULT_OPTIONS)['queue'];

/** One outbound message: what the user passed to `send()`, and its encoded form. */
export interface QueuedMessage<Out> {
  data: Out;
  wire: SendData;
  /** Bytes on the wire (UTF-8 for text); counted by the queue when it first needs them. */
  bytes?: number;
}

/** Why the queue discarded a message: it was full, or the message alone exceeds `maxBytes`. */
export type DropReason = 'queue-full' | 'too-large';

/**
 * Messages a delivery mode still holds after writing them (exactly-once: until the server
 * acknowledges them). They count against the queue's limits, but the queue never evicts them: a
 * written message may already have reached the server, so it cannot be taken back.
 */
export interface HeldMessages {
  readonly length: number;
  readonly bytes: number;
}

/**
 * Bounded FIFO of the messages `send()` accepted and nothing has written yet. It never drops
 * silently: every eviction or refusal goes to `onDrop`, and with `overflow: 'throw'` the queue is
 * left unchanged and `push()` throws `QUEUE_FULL`.
 */
export class OutboundQueue<Out> {
  /** Keyed by a running number, so that taking the oldest is O(1) (`Array#shift` is O(n)). */
  readonly #items = new Map<number, QueuedMessage<Out>>();
  #head = 0;
  readonly #limits: QueueLimits;
  readonly #onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void;
  /** Bytes currently queued. */
  bytes = 0;

  constructor(
    limits: QueueLimits,
    onDrop: (message: QueuedMessage<Out>, reason: DropReason) => void,
    /** What the delivery mode holds, if it holds anything (exactly-once). */
    readonly held?: HeldMessages,
  ) {
    this.#limits = limits;
    this.#onDrop = onDrop;
  }

  get length(): number {
    return this.#items.size;
  }

  /**
   * Whether a message written now, bypassing the queue, may be kept by the delivery mode: always
   * when the mode keeps nothing (best-effort), else only within the limits.
   */
  admits(message: QueuedMessage<Out>): boolean {
    return !this.held || this.#fits(message);
  }

  /** Appends a message; returns false if the message itself was refused (and reported). */
  push(message: QueuedMessage<Out>): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const fits = this.#fits(message);
    const bytes = message.bytes as number;
    if (overflow === 'throw' && !fits) {
      const [count, held] = this.total();
      throw new TetherError('QUEUE_FULL', `Queue full: ${count} messages, ${held} bytes`, {
        data: message.data,
      });
    }
    const tooLarge = bytes > maxBytes || !maxMessages;
    if (!tooLarge && overflow === 'drop-oldest') {
      while (this.length > 0 && !this.#fits(message))
        this.#onDrop(this.shift() as QueuedMessage<Out>, 'queue-full');
    }
    if (tooLarge || !this.#fits(message)) {
      this.#onDrop(message, tooLarge ? 'too-large' : 'queue-full');
      return false;
    }
    this.#items.set(this.#head + this.length, message);
    this.bytes += bytes;
    return true;
  }

  /** Removes and returns the oldest message. */
  shift(): QueuedMessage<Out> | undefined {
    const message = this.#items.get(this.#head);
    if (message) {
      this.#items.delete(this.#head++);
      this.bytes -= message.bytes as number;
    }
    return message;
  }

  /** Messages and bytes counted against the limits: these, and those the delivery mode holds. */
  total(): [number, number] {
    return [this.length + (this.held?.length ?? 0), this.bytes + (this.held?.bytes ?? 0)];
  }

  #fits(message: QueuedMessage<Out>): boolean {
    message.bytes ??= byteLength(message.wire);
    const [count, bytes] = this.total();
    return count < this.#limits.maxMessages && bytes + message.bytes <= this.#limits.maxBytes;
  }
}
