import type { QueuedMessage } from 'tether-ws';

/**
 * The messages written in the current session and not yet acknowledged, oldest first: they are
 * resent after a resume, and reported as `undelivered` when the session is lost. `length` and
 * `bytes` count against the client's queue limits (the client reads them, see OutboundQueue).
 * Their numbers are consecutive and the last one is the session's `sent`, so none is stored.
 */
export class Unacked<Out> {
  messages: Array<QueuedMessage<Out>> = [];
  length = 0;
  bytes = 0;

  add(message: QueuedMessage<Out>): void {
    this.length = this.messages.push(message);
    this.bytes += message.bytes;
  }

  /**
   * Lets go of the messages numbered up to `seq` (a cumulative acknowledgement; `sent` is the
   * number of the newest), or of all of them, and returns them. One splice per acknowledgement:
   * `shift` is O(n) on long arrays.
   */
  release(seq = 0, sent = seq): Array<QueuedMessage<Out>> {
    const released = this.messages.splice(0, Math.max(0, this.length - (sent - seq)));
    this.length -= released.length;
    for (const message of released) this.bytes -= message.bytes;
    return released;
  }
}
