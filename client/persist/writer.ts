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
 *
 * Writes are numbered (the generation, carried on by the next page), and from `hide()` on (the
 * page is going or hidden) every write not yet committed is also kept in the store's synchronous
 * journal (`keep`, localStorage in a browser), rewritten at each change: an IndexedDB transaction
 * started while a tab closes is not sure to commit, the journal is, and the next page applies the
 * writes it holds that its database lacks (record.ts, `readRecords`).
 */
export class Writer {
  #store: PersistStore | undefined;
  readonly #collect: (generation: number) => void;
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
  /** Writes started and not yet committed, oldest first: what the journal holds. */
  readonly #unconfirmed: Array<[generation: number, changes: StoredRecord[]]> = [];
  /** The page is going or hidden: every write is journalled too. */
  #journalling = false;
  /** A journal of ours is in the store, to be removed once its writes are committed. */
  #journalled = false;

  /**
   * @param collect called at each write with its generation, to add the changes found by
   *   comparison (`put()`).
   * @param failed the store failed: from then on nothing is written and nothing held back.
   * @param first the generation of the first write (one more than the last page's).
   */
  constructor(
    store: PersistStore | undefined,
    collect: (generation: number) => void,
    failed: (cause: unknown) => void,
    first = 1,
  ) {
    this.#store = store;
    this.#collect = collect;
    this.#failed = failed;
    this.#next = first;
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
        // While journalling, every change goes at once: the journal must hold it when the task ends.
        if (!this.#inFlight || this.#journalling) this.flush();
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

  /**
   * Resolves once every change made before the call is stored (at once if none is waiting);
   * rejects if the store failed, before or meanwhile.
   */
  flushed(): Promise<void> {
    return new Promise<void>((resolve) => this.gate(resolve)).then(() => {
      if (!this.#store) throw new Error('Storage failed: what was sent is kept in memory only');
    });
  }

  /** Starts a write of what is pending now, even while another one is in flight (IndexedDB keeps their order). */
  flush(): void {
    const store = this.#store;
    if (!store || !this.#dirty) return;
    const generation = this.#next++;
    // What collect() adds is part of this write: dirty is cleared after it.
    this.#collect(generation);
    this.#dirty = false;
    const changes: StoredRecord[] = [...this.#pending];
    this.#pending.clear();
    this.#inFlight++;
    this.#unconfirmed.push([generation, changes]);
    if (this.#journalling) this.#journal();
    store.write(changes).then(
      () => {
        this.#inFlight--;
        this.#unconfirmed.shift(); // IndexedDB commits a page's transactions in order
        if (this.#journalling || this.#unconfirmed.length === 0) this.#journal();
        this.#release(generation);
        if (this.#dirty && !this.#inFlight) this.flush();
      },
      (cause) => this.fail(cause),
    );
  }

  /**
   * The page is going (`pagehide`) or hidden, after which it may be gone without another event:
   * what is waiting is written now, and journalled, and so is every change from now on.
   */
  hide(): void {
    this.#journalling = true;
    const started = this.#unconfirmed.length;
    this.flush(); // journals what it starts
    if (this.#unconfirmed.length === started) this.#journal();
  }

  /** The page is back: the journal goes once the writes it holds are committed. */
  show(): void {
    this.#journalling = false;
    if (this.#unconfirmed.length === 0) this.#journal();
  }

  /**
   * Rewrites the journal with the writes not yet committed, or removes it when there are none.
   * Values go as JSON (`null` deletes): a record JSON cannot hold (binary data) is not journalled,
   * and the journal is then left as it was (docs/persist.md says what that costs).
   */
  #journal(): void {
    const keep = this.#store?.keep;
    if (!keep || (!this.#journalling && !this.#journalled)) return;
    const empty = this.#unconfirmed.length === 0;
    try {
      keep.call(
        this.#store,
        empty ? undefined : JSON.stringify(this.#unconfirmed, (_, value) => binary(value)),
      );
      this.#journalled = !empty;
    } catch {
      // Binary data, or the journal's quota: the IndexedDB write alone carries these changes.
    }
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

/** Throws on what JSON would silently turn into `{}`; passes anything else through. */
function binary(value: unknown): unknown {
  if (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (typeof Blob !== 'undefined' && value instanceof Blob)
  )
    throw new TypeError('binary data is not journalled');
  return value;
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
