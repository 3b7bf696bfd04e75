import { payloadOf } from './frames.js';
import type { Outbound } from './send-buffer.js';
import type { CommitResult, SessionStore } from './store.js';

/** What the outbox tells its session. */
export interface OutboxHooks {
  /**
   * A batch is in the store: `entries` may now be written to the connection, and every client
   * message up to `recv` may now be acknowledged. Called in commit order.
   */
  readonly onStored: (entries: readonly Outbound[], recv: number) => void;
  /** The store refused a write: another owner holds the session now. Nothing more is written. */
  readonly onFenced: () => void;
  /**
   * The store refused a write that would go over its own limit on buffered bytes (shared by every
   * server using it). Nothing more is written.
   */
  readonly onFull: () => void;
  /** The store failed (or did not answer in time). Nothing more is written. */
  readonly onUnavailable: (error: unknown) => void;
}

/**
 * The write-ahead side of one session: every change (messages to send, the receive counter, the
 * client's acknowledgements) goes to the store first, and reaches the connection only once stored
 * (a transactional outbox: what the application's handler sent in reply is stored in the same
 * batch as the receive counter that covers the message it handled).
 *
 * One batch is in flight at a time; whatever happens meanwhile waits in the next one, so a busy
 * session costs one store call per round trip, not one per message. A store that answers
 * synchronously (the memory store) is written to at once, with no tick in between: the adapter then
 * behaves as if there were no store. `hold()` keeps changes back while a handler runs, so that its
 * replies and the receive counter go in one batch.
 */
export class Outbox {
  #staged: Outbound[] = [];
  #recv: number;
  #acked: number;
  /** Highest seq written to a connection, or about to be (staged while attached). */
  #written: number;
  #storedRecv: number;
  #storedSent: number;
  #dirty = false;
  /** The batch the store has not answered yet, if any. */
  #inFlight: Outbound[] | undefined;
  #holds = 0;
  #stopped = false;

  constructor(
    private readonly store: SessionStore,
    private readonly sid: string,
    private readonly owner: string,
    private readonly ttl: number,
    private readonly isAttached: () => boolean,
    private readonly hooks: OutboxHooks,
    stored: {
      readonly recv: number;
      readonly sent: number;
      readonly acked: number;
      readonly written: number;
    },
  ) {
    this.#recv = stored.recv;
    this.#storedSent = stored.sent;
    this.#storedRecv = stored.recv;
    this.#acked = stored.acked;
    this.#written = stored.written;
  }

  /** The owner token this outbox writes under. */
  get token(): string {
    return this.owner;
  }

  /** Highest client seq whose message (and the replies it caused) is in the store. */
  get storedRecv(): number {
    return this.#storedRecv;
  }

  /** Highest server seq in the store: a message beyond it must not be written yet. */
  get storedSent(): number {
    return this.#storedSent;
  }

  /** A new outbound message, in seq order. */
  append(entry: Outbound): void {
    this.#staged.push(entry);
    this.#changed();
  }

  /** The client's message `seq` was delivered to the application. */
  received(seq: number): void {
    this.#recv = seq;
    this.#changed();
  }

  /** The client acknowledged every message up to `seq`. */
  acknowledged(seq: number): void {
    this.#acked = Math.max(this.#acked, seq);
    this.#changed();
  }

  /** Keeps changes back until the matching `release()`, e.g. while a message handler runs. */
  hold(): void {
    this.#holds += 1;
  }

  release(): void {
    this.#holds -= 1;
    this.#flush();
  }

  /**
   * The session ends or leaves this node: nothing more is written. Returns the payloads handed to
   * `append()` that are not known to be stored (staged, or in a batch still in flight).
   */
  stop(): Array<string | Buffer> {
    this.#stopped = true;
    // A batch in flight may or may not be applied: it is not known to be stored.
    const unstored = [...(this.#inFlight ?? []), ...this.#staged].map((entry) => payloadOf(entry.frame));
    this.#staged = [];
    return unstored;
  }

  #changed(): void {
    this.#dirty = true;
    this.#flush();
  }

  #flush(): void {
    if (this.#stopped || this.#inFlight !== undefined || this.#holds > 0 || !this.#dirty) return;
    const entries = this.#staged;
    this.#staged = [];
    this.#dirty = false;
    const last = entries.at(-1);
    // Written right after it is stored, if attached: a client may acknowledge up to it, so the
    // store must never believe less (a resume would be refused); believing more is harmless.
    if (last !== undefined && this.isAttached()) this.#written = Math.max(this.#written, last.seq);
    const recv = this.#recv;
    let result: CommitResult | Promise<CommitResult>;
    try {
      result = this.store.commit(this.sid, this.owner, {
        recv,
        acked: this.#acked,
        written: this.#written,
        append: entries.map((entry) => payloadOf(entry.frame)),
        ttl: this.ttl,
      });
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (!(result instanceof Promise)) {
      this.#settled(result, entries, recv);
      return;
    }
    this.#inFlight = entries;
    result.then(
      (outcome) => {
        this.#inFlight = undefined;
        this.#settled(outcome, entries, recv);
        this.#flush(); // what arrived meanwhile
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        this.#staged = [...entries, ...this.#staged]; // not stored: reported by stop()
        this.#fail(error);
      },
    );
  }

  #settled(outcome: CommitResult, entries: Outbound[], recv: number): void {
    if (this.#stopped) return;
    if (outcome !== 'stored') {
      this.#staged = [...entries, ...this.#staged];
      this.#stopped = true;
      if (outcome === 'full') this.hooks.onFull();
      else this.hooks.onFenced();
      return;
    }
    this.#storedRecv = recv;
    const last = entries.at(-1);
    if (last !== undefined) this.#storedSent = last.seq;
    this.hooks.onStored(entries, recv);
  }

  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.hooks.onUnavailable(error);
  }
}
