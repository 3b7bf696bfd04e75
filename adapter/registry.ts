import type { LostReason, Session } from './session.js';

/** Why the adapter refused a hello (`tether.stats.refused`); the caller's connection alone is closed. */
export type RefusalReason =
  /** `authorize` did not answer `true` (close 1008). */
  | 'unauthorized'
  /** The hello's key is not the one the held session was created with (close 1008). */
  | 'wrong-key'
  /** `authorize` threw, rejected or did not answer within `helloTimeout` (close 1011). */
  | 'authorize-failed'
  /** `maxSessions` are held and none is detached, or the store's own limit is reached (close 1013). */
  | 'max-sessions'
  /** The session store failed or did not answer in time (close 1013). */
  | 'store-unavailable'
  /** The caller's address created sessions faster than `sessionRate` (close 1013). */
  | 'session-rate';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'unauthorized',
  'wrong-key',
  'authorize-failed',
  'max-sessions',
  'store-unavailable',
  'session-rate',
];
export const LOST_REASONS: readonly LostReason[] = ['expired', 'overflow', 'evicted', 'closed'];

/** What a {@link TetherServer} holds and has refused, for `/healthz` and `/metrics`. */
export interface TetherStats {
  /** Sessions held, attached or detached. */
  readonly sessions: number;
  /** Payload bytes in every session's send buffer. */
  readonly bufferedBytes: number;
  /** Hellos refused since the server was created, by reason. */
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /**
   * Sessions ended since the server was created, by the reason of their `lost` event (`expired`
   * also counts the sessions this server reported with its `expired` event).
   */
  readonly ended: Readonly<Record<LostReason, number>>;
}

/**
 * The sessions one adapter holds, and the server-wide limits on them: how many (`maxSessions`) and
 * how many bytes they buffer together (`maxTotalBufferedBytes`). The one place that decides which
 * session makes room when a limit is reached.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  readonly #refused = counters(REFUSAL_REASONS);
  readonly #ended = counters(LOST_REASONS);
  #bufferedBytes = 0;
  #evicting = false;

  constructor(
    private readonly maxSessions: number,
    private readonly maxTotalBufferedBytes: number,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  get(sid: string): Session | undefined {
    return this.#sessions.get(sid);
  }

  values(): Session[] {
    return [...this.#sessions.values()];
  }

  /**
   * Makes room for one more session: ends the longest-detached one if `maxSessions` are held.
   * Returns false, ending nothing, when every held session is attached.
   */
  makeRoom(): boolean {
    if (this.#sessions.size < this.maxSessions) return true;
    const victim = this.#longestDetached(() => true);
    victim?.evict();
    return this.#sessions.size < this.maxSessions;
  }

  /** Whether `makeRoom()` would succeed: fewer than `maxSessions` are held, or one is detached. */
  canMakeRoom(): boolean {
    return this.#sessions.size < this.maxSessions || this.#longestDetached(() => true) !== undefined;
  }

  add(session: Session): void {
    this.#sessions.set(session.id, session);
  }

  /** The session ended (before its `lost` is emitted). */
  ended(session: Session, reason: LostReason): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    this.#ended[reason] += 1;
  }

  /** This server let go of a session that lives on in a shared store (not an end: not counted). */
  released(session: Session): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
  }

  /** A session that expired in a shared store while no server held it was reported here. */
  reaped(): void {
    this.#ended.expired += 1;
  }

  refused(reason: RefusalReason): void {
    this.#refused[reason] += 1;
  }

  /** A session's send buffer changed by `delta` bytes. */
  buffered(delta: number): void {
    this.#bufferedBytes += delta;
  }

  /**
   * A send made the total go over `maxTotalBufferedBytes`: end sessions until it fits. Detached
   * ones go first (their client may never come back), longest detached first; then attached ones,
   * largest buffer first (the clients reading least). Only sessions holding bytes help.
   */
  enforceTotal(): void {
    if (this.#evicting) return; // a `lost` listener that sends while we evict: the loop below goes on
    this.#evicting = true;
    try {
      while (this.#bufferedBytes > this.maxTotalBufferedBytes) {
        const victim =
          this.#longestDetached((session) => session.bufferedBytes > 0) ?? this.#largestAttached();
        if (victim === undefined) return;
        victim.evict();
      }
    } finally {
      this.#evicting = false;
    }
  }

  stats(): TetherStats {
    return {
      sessions: this.#sessions.size,
      bufferedBytes: this.#bufferedBytes,
      refused: { ...this.#refused },
      ended: { ...this.#ended },
    };
  }

  #longestDetached(eligible: (session: Session) => boolean): Session | undefined {
    let victim: Session | undefined;
    for (const session of this.#sessions.values()) {
      const since = session.detachedAt;
      if (since === undefined || !eligible(session)) continue;
      if (victim === undefined || since < (victim.detachedAt as number)) victim = session;
    }
    return victim;
  }

  #largestAttached(): Session | undefined {
    let victim: Session | undefined;
    for (const session of this.#sessions.values()) {
      if (session.state !== 'attached' || session.bufferedBytes === 0) continue;
      if (victim === undefined || session.bufferedBytes > victim.bufferedBytes) victim = session;
    }
    return victim;
  }
}

function counters<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
