import { TetherServerError } from './errors.js';
import type {
  ClaimRequest,
  ClaimResult,
  SessionBatch,
  SessionStore,
  StoredPayload,
  StoreStats,
} from './store.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most sessions the store holds; a claim for a new one beyond it answers `full` (the adapter
   * closes that connection with 1013). An integer >= 1, or `Infinity`.
   * @default Infinity
   */
  maxSessions?: number;
  /** The clock, in ms (for tests). @default Date.now */
  now?: () => number;
}

interface Entry {
  owner: string;
  keyHash: string;
  recv: number;
  sent: number;
  acked: number;
  written: number;
  /** Unacknowledged payloads; `pending[head]` has seq `acked + 1`. */
  pending: StoredPayload[];
  head: number;
  expiresAt: number;
}

/** Compact a session's pending array once this many acknowledged payloads sit before its head. */
const COMPACT_AFTER = 1024;

/**
 * The default store: sessions in this process's memory, as the adapter always kept them. Writes
 * are synchronous, so the adapter writes to its connections in the same tick as before. Payloads are
 * kept by reference (no copy). Expiry is checked when a session is read; a session's resume window
 * is enforced by the adapter that holds it.
 *
 * Two adapters given one memory store behave as two nodes sharing a store (any one can resume a
 * session the other held, with fencing), which is how the store's contract is tested without Redis.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const maxSessions = options.maxSessions ?? Number.POSITIVE_INFINITY;
  if (!(maxSessions === Number.POSITIVE_INFINITY || (Number.isInteger(maxSessions) && maxSessions >= 1))) {
    throw new TetherServerError(
      'INVALID_OPTION',
      `Invalid option "maxSessions": got ${String(maxSessions)}; expected an integer >= 1, or Infinity.`,
    );
  }
  return new MemoryStore(maxSessions, options.now ?? Date.now);
}

class MemoryStore implements SessionStore {
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxSessions: number,
    private readonly now: () => number,
  ) {}

  claim({ sid, owner, peerRecv, ttl, keyHash }: ClaimRequest): ClaimResult {
    const entry = this.#live(sid);
    if (entry === undefined) {
      if (this.#entries.size >= this.maxSessions) this.#prune(); // only then: pruning walks them all
      if (this.#entries.size >= this.maxSessions) return { status: 'full' };
      this.#entries.set(sid, {
        owner,
        keyHash,
        recv: 0,
        sent: 0,
        acked: 0,
        written: 0,
        pending: [],
        head: 0,
        expiresAt: this.now() + ttl,
      });
      return { status: 'created' };
    }
    if (entry.keyHash !== '' && entry.keyHash !== keyHash) return { status: 'wrong-key' };
    if (peerRecv < entry.acked || peerRecv > entry.written) return { status: 'refused' };
    dropThrough(entry, peerRecv);
    entry.owner = owner;
    entry.expiresAt = this.now() + ttl;
    // The new owner resends everything pending at once.
    entry.written = entry.sent;
    const { recv, sent, acked, written } = entry;
    return { status: 'resumed', recv, sent, acked, written, pending: entry.pending.slice(entry.head) };
  }

  commit(sid: string, owner: string, batch: SessionBatch): boolean {
    const entry = this.#owned(sid, owner);
    if (entry === undefined) return false;
    entry.recv = Math.max(entry.recv, batch.recv);
    for (const payload of batch.append) entry.pending.push(payload);
    entry.sent += batch.append.length;
    entry.written = Math.max(entry.written, batch.written);
    dropThrough(entry, batch.acked);
    entry.expiresAt = this.now() + batch.ttl;
    return true;
  }

  keepAlive(sid: string, owner: string, ttl: number): boolean {
    const entry = this.#owned(sid, owner);
    if (entry === undefined) return false;
    entry.expiresAt = this.now() + ttl;
    return true;
  }

  remove(sid: string, owner: string): boolean {
    if (this.#owned(sid, owner) === undefined) return false;
    this.#entries.delete(sid);
    return true;
  }

  stats(): StoreStats {
    this.#prune();
    return { sessions: this.#entries.size };
  }

  #owned(sid: string, owner: string): Entry | undefined {
    const entry = this.#live(sid);
    return entry?.owner === owner ? entry : undefined;
  }

  #live(sid: string): Entry | undefined {
    const entry = this.#entries.get(sid);
    if (entry !== undefined && entry.expiresAt <= this.now()) {
      this.#entries.delete(sid);
      return undefined;
    }
    return entry;
  }

  #prune(): void {
    const now = this.now();
    for (const [sid, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(sid);
  }
}

/** A cumulative acknowledgement: drops every pending payload with seq ≤ `seq`. */
function dropThrough(entry: Entry, seq: number): void {
  if (seq <= entry.acked) return;
  entry.head += Math.min(seq, entry.sent) - entry.acked;
  entry.acked = Math.min(seq, entry.sent);
  if (entry.head >= COMPACT_AFTER && entry.head * 2 >= entry.pending.length) {
    entry.pending = entry.pending.slice(entry.head);
    entry.head = 0;
  }
}
