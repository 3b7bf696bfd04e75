import { TetherServerError } from './errors.js';
import { Fifo } from './fifo.js';
import type {
  ClaimRequest,
  ClaimResult,
  CommitResult,
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
  /**
   * Most payload bytes buffered across the store's sessions (their unacknowledged messages); a
   * batch that would go over it is refused (`full`: the adapter ends that session, `lost`
   * `'evicted'`). An integer >= 0, or `Infinity`. One adapter's own `maxTotalBufferedBytes` already
   * bounds its memory; this bounds what adapters sharing one store hold together.
   * @default Infinity
   */
  maxTotalBufferedBytes?: number;
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
  /**
   * Unacknowledged payloads with their sizes, the first one seq `acked + 1`; an acknowledged one
   * is unreachable from here at once (see Fifo).
   */
  pending: Fifo<Pending>;
  /** Payload bytes in `pending`. */
  bytes: number;
  expiresAt: number;
}

interface Pending {
  readonly payload: StoredPayload;
  readonly size: number;
}

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
  const maxTotalBufferedBytes = options.maxTotalBufferedBytes ?? Number.POSITIVE_INFINITY;
  if (
    !(
      maxTotalBufferedBytes === Number.POSITIVE_INFINITY ||
      (Number.isInteger(maxTotalBufferedBytes) && maxTotalBufferedBytes >= 0)
    )
  ) {
    throw new TetherServerError(
      'INVALID_OPTION',
      `Invalid option "maxTotalBufferedBytes": got ${String(maxTotalBufferedBytes)}; expected an integer >= 0, or Infinity.`,
    );
  }
  return new MemoryStore(maxSessions, maxTotalBufferedBytes, options.now ?? Date.now);
}

class MemoryStore implements SessionStore {
  readonly shared = false;
  readonly #entries = new Map<string, Entry>();
  #bufferedBytes = 0;

  constructor(
    private readonly maxSessions: number,
    private readonly maxTotalBufferedBytes: number,
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
        pending: new Fifo<Pending>(),
        bytes: 0,
        expiresAt: this.now() + ttl,
      });
      return { status: 'created' };
    }
    if (entry.keyHash !== '' && entry.keyHash !== keyHash) return { status: 'wrong-key' };
    if (peerRecv < entry.acked || peerRecv > entry.written) return { status: 'refused' };
    this.#dropThrough(entry, peerRecv);
    entry.owner = owner;
    entry.expiresAt = this.now() + ttl;
    // The new owner resends everything pending at once.
    entry.written = entry.sent;
    const { recv, sent, acked, written } = entry;
    const pending = entry.pending.toArray().map((item) => item.payload);
    return { status: 'resumed', recv, sent, acked, written, pending };
  }

  commit(sid: string, owner: string, batch: SessionBatch): CommitResult {
    const entry = this.#owned(sid, owner);
    if (entry === undefined) return 'fenced';
    const sizes = batch.append.map(sizeOf);
    if (Number.isFinite(this.maxTotalBufferedBytes)) {
      const before = entry.bytes;
      const after = before + sum(sizes) - this.#ackedBytes(entry, batch.acked, sizes);
      if (after > before && this.#bufferedBytes + after - before > this.maxTotalBufferedBytes) {
        if (this.#prune() === 0 || this.#bufferedBytes + after - before > this.maxTotalBufferedBytes) {
          return 'full';
        }
      }
    }
    entry.recv = Math.max(entry.recv, batch.recv);
    for (let i = 0; i < sizes.length; i++) {
      entry.pending.push({ payload: batch.append[i] as StoredPayload, size: sizes[i] as number });
    }
    entry.sent += batch.append.length;
    entry.bytes += sum(sizes);
    this.#bufferedBytes += sum(sizes);
    entry.written = Math.max(entry.written, batch.written);
    this.#dropThrough(entry, batch.acked);
    entry.expiresAt = this.now() + batch.ttl;
    return 'stored';
  }

  keepAlive(sid: string, owner: string, ttl: number): boolean {
    const entry = this.#owned(sid, owner);
    if (entry === undefined) return false;
    entry.expiresAt = this.now() + ttl;
    return true;
  }

  remove(sid: string, owner: string): boolean {
    const entry = this.#owned(sid, owner);
    if (entry === undefined) return false;
    this.#delete(sid, entry);
    return true;
  }

  stats(): StoreStats {
    this.#prune();
    return { sessions: this.#entries.size, bufferedBytes: this.#bufferedBytes };
  }

  #owned(sid: string, owner: string): Entry | undefined {
    const entry = this.#live(sid);
    return entry?.owner === owner ? entry : undefined;
  }

  #live(sid: string): Entry | undefined {
    const entry = this.#entries.get(sid);
    if (entry !== undefined && entry.expiresAt <= this.now()) {
      this.#delete(sid, entry);
      return undefined;
    }
    return entry;
  }

  /** Forgets every expired session; returns how many. */
  #prune(): number {
    const now = this.now();
    let pruned = 0;
    for (const [sid, entry] of this.#entries) {
      if (entry.expiresAt > now) continue;
      this.#delete(sid, entry);
      pruned += 1;
    }
    return pruned;
  }

  #delete(sid: string, entry: Entry): void {
    this.#entries.delete(sid);
    this.#bufferedBytes -= entry.bytes;
  }

  /** Bytes an acknowledgement up to `seq` drops, counting `appended` (sizes) as already pushed. */
  #ackedBytes(entry: Entry, seq: number, appended: readonly number[]): number {
    let bytes = 0;
    const stored = entry.sent - entry.acked;
    for (let n = 0; n < Math.min(seq, entry.sent + appended.length) - entry.acked; n++) {
      bytes += n < stored ? (entry.pending.at(n)?.size as number) : (appended[n - stored] as number);
    }
    return bytes;
  }

  /** A cumulative acknowledgement: drops every pending payload with seq ≤ `seq`. */
  #dropThrough(entry: Entry, seq: number): void {
    if (seq <= entry.acked) return;
    const count = Math.min(seq, entry.sent) - entry.acked;
    let dropped = 0;
    for (let n = 0; n < count; n++) dropped += entry.pending.shift()?.size as number;
    entry.bytes -= dropped;
    this.#bufferedBytes -= dropped;
    entry.acked += count;
  }
}

/** Payload bytes, as the adapter counts them (UTF-8 for text). */
function sizeOf(payload: StoredPayload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
