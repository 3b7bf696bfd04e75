import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
  CLOSE_TAKEN_OVER,
  CLOSE_TRY_AGAIN_LATER,
  SHUTDOWN_REASON,
} from '../protocol/close-codes.js';
import { Emitter, type Listener } from './emitter.js';
import { TetherServerError } from './errors.js';
import {
  BYE,
  encodeAck,
  encodeBinaryMessage,
  encodeTextMessage,
  encodeWelcome,
  MAX_SEQ,
  payloadOf,
} from './frames.js';
import type { ResolvedTetherOptions } from './options.js';
import { Outbox } from './outbox.js';
import { type Outbound, SendBuffer } from './send-buffer.js';
import type { SessionStore, StoredSession } from './store.js';

/**
 * `attached`: a connection carries the session. `detached`: its connection is gone and the resume
 * window is running. `ended`: discarded (its `lost` event has fired); nothing more happens to it.
 */
export type SessionState = 'attached' | 'detached' | 'ended';

/** attached → attached is a takeover: a new connection resumed the session while the old one was still attached. */
const ALLOWED: Record<SessionState, readonly SessionState[]> = {
  attached: ['attached', 'detached', 'ended'],
  detached: ['attached', 'ended'],
  ended: [],
};

/**
 * Why a session ended. `expired`: no connection resumed it within `resumeWindow` (or
 * `unacknowledgedResumeWindow`). `overflow`: its send buffer went over
 * `maxBufferedMessages`/`maxBufferedBytes` (the connection is closed with 1008). `evicted`: the
 * server reached `maxTotalBufferedBytes` or `maxSessions` and ended it to make room (an attached
 * one gets bye and close 1013). `closed`: the client sent bye, or the server called
 * `session.close()` or `tether.close()`.
 */
export type LostReason = 'expired' | 'overflow' | 'evicted' | 'closed';

/** Payload of a session's `lost` event. */
export interface SessionLost {
  readonly reason: LostReason;
  /**
   * Every message this session sent (or was asked to send) that the client had not acknowledged,
   * oldest first: strings for text, Buffers for binary. The client may have received some of them
   * (an acknowledgement can be lost with its connection), but has not confirmed it.
   */
  readonly undelivered: ReadonlyArray<string | Buffer>;
}

/** What `session.send()` accepts: a string goes as text, anything else as binary. */
export type SendData = string | Buffer | ArrayBuffer | Uint8Array;

/** Events of a {@link TetherSession}. */
export interface SessionEvents {
  /**
   * A message from the client, exactly once and in order: a string for text, a Buffer for binary
   * (so `session.send(data)` echoes it as the same kind). `info.seq` is its sequence number in the
   * session. With a shared store, after a server dies a message not yet stored reaches a handler
   * again on the server that resumes the session: what the handler `send()`s is stored once (with
   * the receive counter), and any other effect should be made idempotent on `(session.id, seq)`.
   */
  message: [data: string | Buffer, isBinary: boolean, info: { readonly seq: number }];
  /** The session ended; the last event it emits. */
  lost: [report: SessionLost];
  /** A new connection resumed the session; `resent` unacknowledged messages were written again. */
  resume: [info: { readonly resent: number }];
  /** The session's connection closed (close `code`, 1006 when abrupt); the resume window started. */
  detach: [info: { readonly code: number }];
  /**
   * This server let go of the session, which lives on in a shared store (another server, or this
   * one on a later hello, resumes it): the last event, instead of `lost`. `unstored`: messages
   * `send()` accepted that are not known to have reached the store; a reply sent while handling a
   * client message is produced again when the client resends that message, any other may be lost.
   */
  released: [info: SessionReleased];
}

/**
 * Why a server let go of a session it held in a shared store. `taken-over`: another connection
 * (on any server) claimed it, and the store refused this server's writes. `store-unavailable`: the
 * store failed or did not answer in time (the connection is closed with 1011). `shutdown`:
 * `tether.close()` with a shared store (close 1001; the client resumes on another server).
 */
export interface SessionReleased {
  readonly reason: 'taken-over' | 'store-unavailable' | 'shutdown';
  readonly unstored: ReadonlyArray<string | Buffer>;
}

/** One client's delivery state, which outlives the connections that carry it. */
export interface TetherSession {
  /** The session id chosen by the client (docs/protocol.md §1). */
  readonly id: string;
  /** See {@link SessionState}. */
  readonly state: SessionState;
  /**
   * Sends `data` to the client, sequenced: written at once while attached, kept while detached, and
   * resent after a resume until the client acknowledges it. If this puts the send buffer over its
   * limit, the session ends before `send()` returns: the client gets bye (`x`) and close 1008, and
   * `lost` fires with reason `'overflow'` (`data` is in its `undelivered`).
   * @throws {TetherServerError} `SESSION_ENDED` once the session has ended; `INVALID_DATA` for
   *   anything but the types of {@link SendData}.
   */
  send(data: SendData): void;
  /**
   * Ends the session now: acknowledges what was received, sends bye (`x`) and closes the connection
   * with 1000, then emits `lost` with reason `'closed'` and the unacknowledged messages. Does nothing
   * once ended.
   */
  close(): void;
  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void;
  off<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): void;
  once<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void;
}

/** The session's view of the connection that carries it (implemented by `Connection`). */
export interface Link {
  /** Writes a frame; returns false, writing nothing, when the socket is no longer open. */
  write(frame: string | Buffer): boolean;
  /** Runs `writes`, handing what they write to the network together (one system call, not one per frame). */
  together(writes: () => void): void;
  /** Closes the connection; it then stops passing frames to the session. */
  close(code: number, reason: string): void;
}

/** Where a session is stored and under which owner token (adapter/store.ts). */
export interface SessionPersistence {
  readonly store: SessionStore;
  readonly owner: string;
  /** Time to live in the store while nobody writes, in ms. */
  readonly ttl: number;
  /** The stored state of a session this server resumes from the store; absent for a new one. */
  readonly stored?: StoredSession;
}

interface SessionHooks {
  /** The session has ended: forget it (called before `lost` is emitted). */
  readonly onEnd: (session: Session, reason: LostReason) => void;
  /** This server let go of the session (called before `released` is emitted). */
  readonly onRelease: (session: Session) => void;
  readonly onListenerError: (error: unknown) => void;
  /** The send buffer grew (`delta` > 0) or shrank by `delta` payload bytes. */
  readonly onBuffered: (delta: number) => void;
  /** `send()` added a message that fits this session's own limits: the server-wide ones are checked here. */
  readonly onGrown: (session: Session) => void;
}

/** See {@link TetherSession}. The methods past `once()` are the adapter's, not the application's. */
export class Session implements TetherSession {
  #state: SessionState = 'detached';
  #link: Link | undefined;
  readonly #events: Emitter<SessionEvents>;
  readonly #buffer = new SendBuffer();
  /** Highest seq assigned to an outbound message. */
  #sent = 0;
  /** Highest seq ever written to a connection: the client cannot acknowledge beyond it. */
  #written = 0;
  /** Highest seq the client acknowledged. */
  #acked = 0;
  /** Highest seq received from the client and delivered. */
  #recv = 0;
  /** Highest client seq acknowledged to the client (an ack frame, or a welcome's recv). */
  #ackSent = 0;
  /** Writes every change to the store before it reaches the connection. */
  readonly #outbox: Outbox;
  readonly #store: SessionStore;
  /** Whether `start()` resumes a session held before (by another server, in a shared store). */
  readonly #resumedFromStore: boolean;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #resumeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Hex SHA-256 of the key given by the hello that created the session, `''` for a keyless one
   * (`allowKeylessClients`): the form a session store persists (adapter/store.ts).
   */
  readonly keyHash: string;
  /** When the session last lost its connection (`performance.now()`), while detached. */
  #detachedAt: number | undefined;

  constructor(
    readonly id: string,
    key: string | undefined,
    private readonly options: ResolvedTetherOptions,
    private readonly hooks: SessionHooks,
    persistence: SessionPersistence,
  ) {
    this.#events = new Emitter(hooks.onListenerError);
    this.keyHash = key === undefined ? '' : hashKey(key);
    const { store, owner, ttl, stored } = persistence;
    this.#store = store;
    this.#resumedFromStore = stored !== undefined;
    if (stored !== undefined) {
      this.#recv = stored.recv;
      this.#sent = stored.sent;
      this.#acked = stored.acked;
      this.#written = stored.written;
      let seq = stored.acked;
      for (const payload of stored.pending) this.#buffer.push(encode(++seq, payload));
    }
    this.#outbox = new Outbox(
      store,
      id,
      owner,
      ttl,
      () => this.#link !== undefined,
      {
        onStored: (entries, recv) => this.#stored(entries, recv),
        onFenced: () => this.release('taken-over'),
        onFull: () => this.evict(),
        onUnavailable: () => this.release('store-unavailable'),
      },
      { recv: this.#recv, sent: this.#sent, acked: this.#acked, written: this.#written },
    );
  }

  get state(): SessionState {
    return this.#state;
  }

  send(data: SendData): void {
    if (this.#state === 'ended') {
      throw new TetherServerError(
        'SESSION_ENDED',
        `Cannot send on session "${this.id}": it has ended (see its "lost" event).`,
      );
    }
    if (this.#sent === MAX_SEQ) {
      // Sequence numbers are exhausted (docs/protocol.md §1): the session cannot go on.
      const unsent = typeof data === 'string' ? data : toBuffer(data);
      this.#sayBye();
      this.#end('overflow', { code: CLOSE_POLICY_VIOLATION, reason: 'Session sequence exhausted' }, unsent);
      return;
    }
    const entry = encode(this.#sent + 1, data);
    this.#sent += 1;
    this.#buffer.push(entry);
    this.hooks.onBuffered(entry.bytes);
    const { maxBufferedMessages, maxBufferedBytes } = this.options;
    if (this.#buffer.count > maxBufferedMessages || this.#buffer.bytes > maxBufferedBytes) {
      this.#sayBye();
      this.#end('overflow', { code: CLOSE_POLICY_VIOLATION, reason: 'Session buffer full' });
      return;
    }
    // May end sessions to stay within the server-wide limit, this one included (`data` is then in
    // its `undelivered`).
    this.hooks.onGrown(this);
    if (this.#hasEnded()) return;
    this.#outbox.append(entry); // written to the connection once stored
  }

  close(): void {
    if (this.#state === 'ended') return;
    this.#sayBye();
    this.#end('closed', { code: CLOSE_NORMAL, reason: 'Session closed' });
  }

  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): void {
    this.#events.off(event, listener);
  }

  once<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void {
    return this.#events.once(event, listener);
  }

  /** Adapter: payload bytes held in the send buffer. */
  get bufferedBytes(): number {
    return this.#buffer.bytes;
  }

  /** Adapter: when the session lost its connection (`performance.now()`), or undefined while attached. */
  get detachedAt(): number | undefined {
    return this.#detachedAt;
  }

  /**
   * Adapter: whether `key` is the one the session was created with (compared in constant time).
   * A keyless session (`allowKeylessClients`) accepts any hello, as before keys existed; a keyed
   * one never accepts a keyless hello.
   */
  ownedBy(key: string | undefined): boolean {
    if (this.keyHash === '') return true;
    if (key === undefined) return false;
    return timingSafeEqual(Buffer.from(this.keyHash, 'hex'), Buffer.from(hashKey(key), 'hex'));
  }

  /** Adapter: ends the session to make room under a server-wide limit (`lost` with reason `'evicted'`). */
  evict(): void {
    if (this.#state === 'ended') return;
    this.#sayBye();
    this.#end('evicted', { code: CLOSE_TRY_AGAIN_LATER, reason: 'Server over its limits, try again later' });
  }

  /** Adapter: the owner token this session writes to its store under. */
  get owner(): string {
    return this.#outbox.token;
  }

  /** Adapter: the stored payloads in the send buffer (counted by `bufferedBytes`). */
  get bufferedCount(): number {
    return this.#buffer.count;
  }

  /**
   * Adapter: the first connection of this session on this server. Writes `welcome`, with
   * `resumed: false` for a new session, or `resumed: true` and the resends for one resumed from a
   * shared store (then call `announceResume()` once listeners had the `session` event).
   */
  start(link: Link): void {
    this.#attach(link, this.#resumedFromStore, false);
  }

  /** Adapter: after `session` was emitted for a session resumed from the store, its `resume` event. */
  announceResume(): void {
    this.#events.emit('resume', { resent: this.#buffer.count });
  }

  /**
   * Adapter: `link` sent a hello for this session with `peerRecv` (its last received seq, an
   * implicit ack). Takes the session over from any connection still attached, writes `welcome` with
   * `resumed: true` and resends what is unacknowledged. Returns a protocol error instead when
   * `peerRecv` is impossible (beyond what was written, or below what was acknowledged).
   */
  resume(link: Link, peerRecv: number): string | undefined {
    // The reason names no number: it would tell a caller what this session has sent.
    if (peerRecv > this.#written || peerRecv < this.#acked) return 'hello recv refused';
    this.#acknowledge(peerRecv);
    this.#attach(link, true);
    return undefined;
  }

  /** Adapter: a message frame arrived on the attached connection. Returns a protocol error for a gap. */
  receive(seq: number, data: string | Buffer, isBinary: boolean): string | undefined {
    if (seq <= this.#recv) return undefined; // a resend that crossed our acknowledgement
    if (seq !== this.#recv + 1) return 'gap in message seq';
    this.#recv = seq;
    // What the handler sends now is stored in one batch with the receive counter (a transactional
    // outbox), and the client is acknowledged once that batch is stored (#stored()).
    this.#outbox.hold();
    this.#outbox.received(seq);
    this.#events.emit('message', data, isBinary, { seq });
    this.#outbox.release();
    return undefined;
  }

  /** Adapter: an ack frame arrived. Returns a protocol error for an ack of a seq never sent. */
  ack(seq: number): string | undefined {
    if (seq > this.#written) return 'ack beyond last sent seq';
    this.#acknowledge(seq);
    return undefined;
  }

  /**
   * Adapter: the client sent bye. Everything received is acknowledged before the session ends and
   * the close frame answers: a client that waits for it (the reference client's `close()`) then
   * reports only what never reached this server (docs/protocol.md, "Ending a session").
   */
  bye(): void {
    this.#flushAck(true);
    this.#end('closed', { code: CLOSE_NORMAL, reason: 'Session closed' });
  }

  /**
   * Adapter: `tether.close()`. Acknowledges what was received, then closes with 1001: a session in
   * a shared store is released (another server resumes it, so only what is stored is
   * acknowledged), any other ends (`lost`, `'closed'`).
   */
  shutdown(): void {
    if (this.#state === 'ended') return;
    this.#flushAck(!this.#store.shared);
    if (this.#store.shared) this.release('shutdown');
    else this.#end('closed', { code: CLOSE_GOING_AWAY, reason: SHUTDOWN_REASON });
  }

  /**
   * Adapter: this server lets go of the session, which stays in the store as last written (see
   * {@link SessionReleased}). Closes the connection (4001, 1011 or 1001) and emits `released`.
   */
  release(reason: SessionReleased['reason']): void {
    if (this.#state === 'ended') return;
    const close = RELEASE_CLOSE[reason];
    this.#stopTimers();
    const unstored = this.#outbox.stop();
    const link = this.#link;
    this.#link = undefined;
    link?.close(close.code, close.reason);
    this.#transition('ended');
    this.#detachedAt = undefined;
    this.hooks.onBuffered(-this.#buffer.bytes);
    this.#buffer.drain();
    this.hooks.onRelease(this);
    this.#events.emit('released', { reason, unstored });
    this.#events.clear();
  }

  /** Adapter: `link` closed (or broke the protocol). Starts the resume window unless another link took over. */
  detach(link: Link, code: number): void {
    if (link !== this.#link || this.#state !== 'attached') return;
    this.#link = undefined;
    this.#clearAckTimer(); // the next welcome carries our recv
    this.#transition('detached');
    this.#detachedAt = performance.now();
    this.#events.emit('detach', { code });
    if (this.#hasEnded()) return; // a listener closed the session
    const window = this.#neverAcknowledged()
      ? Math.min(this.options.unacknowledgedResumeWindow, this.options.resumeWindow)
      : this.options.resumeWindow;
    if (window === 0) {
      this.#expire();
      return;
    }
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      this.#expire();
    }, window);
  }

  /**
   * The resume window passed. In a shared store the session may have moved to another server
   * meanwhile: it is reported `lost` only if the store still names this server as its owner.
   */
  #expire(): void {
    if (!this.#store.shared) {
      this.#end('expired');
      return;
    }
    const owner = this.#outbox.token;
    Promise.resolve()
      .then(() => this.#store.remove(this.id, owner))
      .then(
        (removed) =>
          removed ? this.#end('expired', undefined, undefined, false) : this.release('taken-over'),
        () => this.release('store-unavailable'),
      );
  }

  /**
   * No sign of a working client: it acknowledged none of the messages sent to it, or nothing was
   * exchanged at all. A client that only sends (and was sent nothing) has shown itself by sending.
   */
  #neverAcknowledged(): boolean {
    return this.#acked === 0 && (this.#sent > 0 || this.#recv === 0);
  }

  #attach(link: Link, resumed: boolean, announce = resumed): void {
    const previous = this.#link;
    this.#link = link;
    previous?.close(CLOSE_TAKEN_OVER, 'Session taken over');
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    this.#detachedAt = undefined;
    // The welcome's `recv` acknowledges everything stored so far.
    this.#clearAckTimer();
    const recv = this.#outbox.storedRecv;
    this.#ackSent = recv;
    this.#transition('attached');
    link.write(encodeWelcome({ sid: this.id, recv, resumed, window: this.options.resumeWindow }));
    // Only what is stored: the rest is written when its batch is (#stored()).
    const stored = this.#outbox.storedSent;
    const pending = this.#buffer.entries().filter((entry) => entry.seq <= stored);
    link.together(() => this.#writeAll(pending));
    if (announce) this.#events.emit('resume', { resent: pending.length });
  }

  /**
   * Before the server discards a session on its own: acknowledge what was received (so the client
   * does not report it), then bye, so the client knows at once not to resume (docs/protocol.md §3).
   */
  #sayBye(): void {
    this.#flushAck(true);
    this.#link?.write(BYE);
  }

  /** A batch is stored: its messages go out, and what it covers of the client's is acknowledged. */
  #stored(entries: readonly Outbound[], recv: number): void {
    // A batch from a shared store can carry many messages: one write of them all.
    if (entries.length > 1) this.#link?.together(() => this.#writeAll(entries));
    else this.#writeAll(entries);
    if (recv - this.#ackSent >= this.options.ackBatch) this.#flushAck();
    else if (recv > this.#ackSent)
      this.#ackTimer ??= setTimeout(() => this.#flushAck(), this.options.ackDelay);
  }

  #writeAll(entries: readonly Outbound[]): void {
    for (const entry of entries) this.#write(entry);
  }

  #write(entry: Outbound): void {
    if (this.#link?.write(entry.frame)) this.#written = Math.max(this.#written, entry.seq);
  }

  #acknowledge(seq: number): void {
    if (seq <= this.#acked) return; // stale: a later ack (or hello) already covered it
    this.#acked = seq;
    const before = this.#buffer.bytes;
    this.#buffer.dropThrough(seq);
    this.hooks.onBuffered(this.#buffer.bytes - before);
    this.#outbox.acknowledged(seq);
  }

  /**
   * Acknowledges to the client what is stored (never more: after a crash the rest would be gone).
   * `ending`: the session ends here and nobody will resume it, so everything delivered to the
   * application is acknowledged, stored or not.
   */
  #flushAck(ending = false): void {
    this.#clearAckTimer();
    const recv = ending ? this.#recv : this.#outbox.storedRecv;
    if (recv <= this.#ackSent) return;
    if (this.#link?.write(encodeAck(recv))) this.#ackSent = recv;
  }

  #clearAckTimer(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  /**
   * The one teardown, in this order: stop timers, close the connection, set the state, forget the
   * session, then emit `lost`. The buffer is drained into the report; listeners are dropped last.
   */
  #end(
    reason: LostReason,
    close?: { code: number; reason: string },
    unsent?: string | Buffer,
    forget = true,
  ): void {
    this.#stopTimers();
    this.#outbox.stop(); // what it did not store is in the buffer, so in `undelivered`
    if (forget) this.#forget();
    const link = this.#link;
    this.#link = undefined;
    if (close) link?.close(close.code, close.reason);
    this.#transition('ended');
    this.#detachedAt = undefined;
    this.hooks.onBuffered(-this.#buffer.bytes);
    const undelivered = this.#buffer.drain().map((entry) => payloadOf(entry.frame));
    if (unsent !== undefined) undelivered.push(unsent);
    this.hooks.onEnd(this, reason);
    this.#events.emit('lost', { reason, undelivered });
    this.#events.clear();
  }

  #stopTimers(): void {
    this.#clearAckTimer();
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
  }

  /** Deletes the session from the store (it ended); if the store fails, its time to live does it. */
  #forget(): void {
    const owner = this.#outbox.token;
    try {
      const removed = this.#store.remove(this.id, owner);
      if (removed instanceof Promise) removed.catch(() => {});
    } catch {
      // The same: the store's time to live removes it.
    }
  }

  /** A method, not a field read: TypeScript would keep narrowing `#state` across a listener call. */
  #hasEnded(): boolean {
    return this.#state === 'ended';
  }

  #transition(next: SessionState): void {
    if (!ALLOWED[this.#state].includes(next)) {
      throw new Error(
        `tether-ws internal error: session "${this.id}" cannot go from ${this.#state} to ${next}`,
      );
    }
    this.#state = next;
  }
}

/** Hex SHA-256: what the server keeps of a session key, so a copy of its memory or store is no key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** How each release closes the connection. */
const RELEASE_CLOSE: Record<SessionReleased['reason'], { readonly code: number; readonly reason: string }> = {
  'taken-over': { code: CLOSE_TAKEN_OVER, reason: 'Session taken over' },
  'store-unavailable': { code: CLOSE_INTERNAL_ERROR, reason: 'Session store unavailable' },
  shutdown: { code: CLOSE_GOING_AWAY, reason: SHUTDOWN_REASON },
};

function encode(seq: number, data: SendData): Outbound {
  if (typeof data === 'string') {
    return { seq, frame: encodeTextMessage(seq, data), bytes: Buffer.byteLength(data, 'utf8') };
  }
  const bytes = toBuffer(data);
  return { seq, frame: encodeBinaryMessage(seq, bytes), bytes: bytes.byteLength };
}

/** A Buffer view of binary data (no copy), or the error for a value `send()` does not accept. */
function toBuffer(data: Exclude<SendData, string>): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TetherServerError(
    'INVALID_DATA',
    `session.send(): got ${data === null ? 'null' : typeof data}; expected a string, Buffer, ArrayBuffer or Uint8Array.`,
  );
}
