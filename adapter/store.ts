/**
 * Where tether.v1 sessions live (docs/protocol.md §9). The adapter keeps every session it holds in
 * memory, and writes each change to its store *before* anything leaves for the client: the store is
 * the truth, the adapter's copy a cache of it. The default {@link createMemoryStore} keeps sessions
 * in this process (today's behaviour); a shared store (tether-ws/server/redis) lets any node resume
 * any session.
 *
 * Ownership is fenced: every claim names a new owner token, and every later write carries it; the
 * store refuses (returns `false`) a write whose token is no longer the owner's, so a node that lost
 * a session to another can never advance it again.
 *
 * A method may answer synchronously (the memory store does, so the adapter works as before, without
 * a tick per message) or with a promise. A rejected promise or a throw means "the store is
 * unavailable": the adapter then acknowledges nothing more and closes the connection (1011 or 1013),
 * and the client resumes from what is stored.
 */

import { TetherServerError } from './errors.js';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** A message payload as stored: a string for a text message, a Buffer for a binary one. */
export type StoredPayload = string | Buffer;

/** A connection's hello asks to hold session `sid` (docs/protocol.md §4). */
export interface ClaimRequest {
  readonly sid: string;
  /** The new owner token; every later write for this hold carries it. Unique per claim. */
  readonly owner: string;
  /** The hello's `recv`: the client's last received seq, an implicit acknowledgement. */
  readonly peerRecv: number;
  /** How long the store keeps the session if its owner stops writing, in ms. */
  readonly ttl: number;
  /**
   * Hex SHA-256 of the hello's session key (docs/protocol.md), `''` for a keyless hello. A new
   * session keeps it; a held one is resumed only by a hello with the same key, unless it was
   * created keyless.
   */
  readonly keyHash: string;
}

/** The state of a session as stored. */
export interface StoredSession {
  /** Highest client seq received, delivered and stored. */
  readonly recv: number;
  /** Highest server seq stored. */
  readonly sent: number;
  /** Highest server seq the client acknowledged (after the hello's implicit ack). */
  readonly acked: number;
  /** Highest server seq ever written to a connection: the client cannot acknowledge beyond it. */
  readonly written: number;
  /** The unacknowledged messages, seq `acked + 1` onwards, in order. */
  readonly pending: readonly StoredPayload[];
}

/**
 * `created`: the store held no session `sid`; a new one (counters at 0) now belongs to the claimer.
 * `resumed`: it did; ownership moved to the claimer, and the hello's `recv` was applied as an ack.
 * `refused`: the hello's `recv` is impossible (below `acked` or beyond `written`): nothing changed.
 * `wrong-key`: the session was created with another key: nothing changed.
 * `full`: a new session would go over the store's session limit: nothing changed.
 */
export type ClaimResult =
  | { readonly status: 'created' }
  | ({ readonly status: 'resumed' } & StoredSession)
  | { readonly status: 'refused' }
  | { readonly status: 'wrong-key' }
  | { readonly status: 'full' };

/**
 * What a session did since its last commit, applied atomically: the receive counter moves together
 * with the messages the application sent (a transactional outbox), so a crash either keeps both or
 * neither.
 */
export interface SessionBatch {
  /** New highest client seq received (unchanged if equal to the stored one). */
  readonly recv: number;
  /** New highest server seq acknowledged by the client: stored messages up to it are dropped. */
  readonly acked: number;
  /** New highest server seq written to a connection. */
  readonly written: number;
  /** New outbound messages, numbered from the stored `sent + 1` on. */
  readonly append: readonly StoredPayload[];
  /** How long the store keeps the session from now if its owner stops writing, in ms. */
  readonly ttl: number;
}

/**
 * `stored`: the batch is applied. `fenced`: another owner holds the session now; nothing was
 * written. `full`: the batch would take the payload bytes buffered across the store over its
 * `maxTotalBufferedBytes`; nothing was written (the adapter ends the session, `lost` `'evicted'`).
 */
export type CommitResult = 'stored' | 'fenced' | 'full';

/** Store-wide figures, for health checks and metrics. */
export interface StoreStats {
  /** Sessions held in the store (every node's, for a shared store). */
  readonly sessions: number;
  /** Payload bytes of the unacknowledged messages of those sessions. */
  readonly bufferedBytes: number;
}

/** A session that expired in a shared store while no server held it, as `reap()` hands it over. */
export interface ReapedSession {
  readonly sid: string;
  /** Its unacknowledged messages, oldest first. */
  readonly undelivered: readonly StoredPayload[];
}

/** See the file's comment. */
export interface SessionStore {
  /** Whether other servers may hold this store's sessions (the memory store: false). */
  readonly shared: boolean;
  /** Takes ownership of a session for a new connection; see {@link ClaimResult}. */
  claim(request: ClaimRequest): Awaitable<ClaimResult>;
  /** Applies `batch`, whole and atomically, if `owner` still owns `sid`; see {@link CommitResult}. */
  commit(sid: string, owner: string, batch: SessionBatch): Awaitable<CommitResult>;
  /** Extends the session's time to live (an attached session with no traffic); `false` if no longer owned. */
  keepAlive(sid: string, owner: string, ttl: number): Awaitable<boolean>;
  /** Deletes the session if `owner` still owns it (`false` otherwise: another node holds it now). */
  remove(sid: string, owner: string): Awaitable<boolean>;
  /** Store-wide figures. */
  stats(): Awaitable<StoreStats>;
  /**
   * A shared store: hands over (once, to one caller) up to `limit` sessions that expired while no
   * server held them, deleting them, so that the caller reports them (the adapter's `expired`
   * event). Optional: a store that is not shared has none.
   */
  reap?(limit: number): Awaitable<readonly ReapedSession[]>;
}

const STORE_METHODS = ['claim', 'commit', 'keepAlive', 'remove', 'stats'] as const;

/**
 * The `store` option as given: undefined (the default memory store), or a {@link SessionStore}.
 * @throws {TetherServerError} `INVALID_OPTION` for anything else.
 */
export function checkStore(store: unknown): SessionStore | undefined {
  if (store === undefined) return undefined;
  const missing =
    typeof store === 'object' && store !== null
      ? STORE_METHODS.filter((name) => typeof (store as Record<string, unknown>)[name] !== 'function')
      : STORE_METHODS;
  if (missing.length === 0 && typeof (store as { shared?: unknown }).shared === 'boolean') {
    return store as SessionStore;
  }
  const got = store === null ? 'null' : typeof store === 'object' ? 'an object' : typeof store;
  throw new TetherServerError(
    'INVALID_OPTION',
    `Invalid option "store": got ${got}${missing.length < STORE_METHODS.length ? ` without ${missing.join(', ') || 'a boolean "shared"'}` : ''}; expected a session store such as createMemoryStore() or createRedisStore() (tether-ws/server/redis).`,
  );
}
