import type { PersistStore, StoredRecord } from './store.js';

/**
 * Puts a client's changes into its store as soon as the platform allows, and holds back the frames
 * that depend on them until they are stored (write-ahead).
 *
 * Changes made in one task go in one `write()` (queued for the end of the task). While a write is
 * in flight, new changes wait and go in the next one: one transaction per commit rather than per
 * message. `pagehide` and a page turning hidden (after which a mobile browser may discard it
 * without another event) start the waiting write at once.
 *
 * A frame given to `gate()` goes out once every change made before it is stored: a message is on
 * the wire only if the next page knows it (with its seq), and an acknowledgement only if the next
 * page will not ask for what it acknowledges again.
 */
export class Writer {
  #store: PersistStore | undefined;
  readonly #collect: () => void;
  readonly #failed: (cause: unknown) => void;
  readonly #pending = new Map<number, unknown>();
  /** Something changed that `collect` will turn into records at the next write. */
  #dirty = false;
  #scheduled = false;
  #inFlight = 0;
  /** The generation the pending changes will be written as; each write is one generation. */
  #next = 1;
  /** Frames waiting for a generation to be stored, oldest first. */
  #frames: Array<[generation: number, send: () => void]> = [];

  /**
   * @param collect called at each write, to add the changes found by comparison (`put()`).
   * @param failed the store failed: from then on nothing is written and nothing held back.
   */
  constructor(store: PersistStore | undefined, collect: () => void, failed: (cause: unknown) => void) {
    this.#store = store;
    this.#collect = collect;
    this.#failed = failed;
  }

  /** False once the store failed (or there never was one): the client then runs in memory. */
  get storing(): boolean {
    return this.#store !== undefined;
  }

  /** Records `value` under `key` (undefined deletes it) in the next write. */
  put(key: number, value: unknown): void {
    if (!this.#store) return;
    this.#pending.set(key, value);
    this.touch();
  }

  /** Something changed that `collect` will find. */
  touch(): void {
    if (!this.#store) return;
    this.#dirty = true;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        if (!this.#inFlight) this.flush();
      });
    }
  }

  /** Sends now, or once what changed before it is stored. */
  gate(send: () => void): void {
    const frames = this.#frames;
    if (!this.#store || (!this.#dirty && !this.#inFlight && frames.length === 0)) {
      send();
      return;
    }
    const generation = Math.max(this.#dirty ? this.#next : this.#next - 1, frames.at(-1)?.[0] ?? 0);
    frames.push([generation, send]);
  }

  /** Starts a write of what is pending now, even while another one is in flight (IndexedDB keeps their order). */
  flush(): void {
    const store = this.#store;
    if (!store || !this.#dirty) return;
    this.#dirty = false;
    this.#collect();
    const changes: StoredRecord[] = [...this.#pending];
    this.#pending.clear();
    const generation = this.#next++;
    this.#inFlight++;
    store.write(changes).then(
      () => {
        this.#inFlight--;
        this.#release(generation);
        if (this.#dirty && !this.#inFlight) this.flush();
      },
      (cause) => this.fail(cause),
    );
  }

  /** Sends every frame held back now, stored or not (the session is ending). */
  release(): void {
    this.#release(Number.POSITIVE_INFINITY);
  }

  /** Gives up storing: sends every frame held back, writes nothing more. */
  fail(cause: unknown): void {
    if (!this.#store) return;
    this.#store = undefined;
    this.#pending.clear();
    this.release();
    this.#failed(cause);
  }

  /** Sends the frames held back for this generation or an older one, in order. */
  #release(generation: number): void {
    const frames = this.#frames;
    while (frames.length > 0 && (frames[0] as [number, () => void])[0] <= generation)
      (frames.shift() as [number, () => void])[1]();
  }
}

/**
 * `socket` as a layer above the store sees it: its `send` waits for what changed before to be
 * stored (`writer.gate()`), unless `ungated()` (the session is ending). A frame held back past its
 * socket's end is not lost: the message is resent on resume.
 */
export function gatedSocket(socket: WebSocket, writer: Writer, ungated: () => boolean): WebSocket {
  return {
    get protocol() {
      return socket.protocol;
    },
    get readyState() {
      return socket.readyState;
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    send(frame: Parameters<WebSocket['send']>[0]) {
      if (ungated()) socket.send(frame);
      else writer.gate(() => socket.readyState === 1 && socket.send(frame));
    },
  } as WebSocket;
}
