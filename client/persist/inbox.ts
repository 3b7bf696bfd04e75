import type { MessageData, MessageInfo } from 'tether-ws';
import type { StoredInbound } from './record.js';
import type { Writer } from './writer.js';

type Deliver = (data: MessageData, info?: MessageInfo) => void;

/**
 * Messages from the server between their arrival and their `message` listeners (docs/persist.md,
 * "The inbox"). Each is stored under a key of its own in the write of its task, together with the
 * received count that covers it; it reaches the listeners once that write is committed (and its
 * acknowledgement goes on the wire only then, see Writer.gate); once they ran, its record is
 * deleted in the next write. So a page that goes away between two of those steps leaves the
 * message in the store, and the next page delivers it: `redelivered` unless the last page left by
 * `pagehide`, whose write holds every deletion (a crash may come after the listeners and before
 * the deletion is stored: then the message may have been handled, and says so).
 */
export class Inbox {
  readonly #writer: Writer;
  readonly #nextKey: () => number;
  /** What the last page left, in seq order, to deliver before anything new. */
  #restored: Array<{ key: number; data: MessageData; info: MessageInfo }> = [];
  /** Held back while the page is going (see pause). */
  #paused: Array<() => void> | undefined;

  constructor(writer: Writer, nextKey: () => number) {
    this.#writer = writer;
    this.#nextKey = nextKey;
  }

  /** A message from the server: stored, then delivered once stored, then marked handled. */
  receive(data: MessageData, info: MessageInfo | undefined, deliver: Deliver): void {
    const writer = this.#writer;
    if (!info || !writer.storing) {
      deliver(data, info);
      return;
    }
    const key = this.#nextKey();
    writer.put(key, { in: data, seq: info.seq } satisfies StoredInbound);
    writer.gate(() => this.#handle(key, data, info, deliver));
  }

  /** Takes what the last page stored and did not mark handled, to deliver at the first connection. */
  restore(stored: Array<StoredInbound & { key: number }>, sessionId = '', redelivered = true): void {
    this.#restored = stored.map(({ key, in: data, seq }) => ({
      key,
      data,
      info: { seq, sessionId, redelivered },
    }));
  }

  /** Delivers what the last page left, in order, once. */
  deliverRestored(deliver: Deliver): void {
    for (const { key, data, info } of this.#restored.splice(0)) this.#handle(key, data, info, deliver);
  }

  /**
   * The page is going (`pagehide`): nothing more reaches the listeners, since what the page does
   * from now on may not be stored (its last write and journal say it left with everything it
   * delivered marked handled). What arrives is left stored, for the next page.
   */
  pause(): void {
    this.#paused ??= [];
  }

  /** The page is back (`pageshow` from the back/forward cache): what was held back is delivered. */
  resume(): void {
    const paused = this.#paused ?? [];
    this.#paused = undefined;
    for (const handle of paused) handle();
  }

  #handle(key: number, data: MessageData, info: MessageInfo, deliver: Deliver): void {
    if (this.#paused) {
      this.#paused.push(() => this.#handle(key, data, info, deliver));
      return;
    }
    deliver(data, info);
    this.#writer.put(key, undefined);
  }
}
