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
import { type Outbound, SendBuffer } from './send-buffer.js';

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
 * Why a session ended. `expired`: no connection resumed it within `resumeWindow`. `overflow`: its
 * send buffer went over `maxBufferedMessages`/`maxBufferedBytes` (the connection is closed with 1008).
 * `closed`: the client sent bye, or the server called `session.close()` or `tether.close()`.
 */
export type LostReason = 'expired' | 'overflow' | 'closed';

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
   * (so `session.send(data)` echoes it as the same kind).
   */
  message: [data: string | Buffer, isBinary: boolean];
  /** The session ended; the last event it emits. */
  lost: [report: SessionLost];
  /** A new connection resumed the session; `resent` unacknowledged messages were written again. */
  resume: [info: { readonly resent: number }];
  /** The session's connection closed (close `code`, 1006 when abrupt); the resume window started. */
  detach: [info: { readonly code: number }];
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
  /** Closes the connection; it then stops passing frames to the session. */
  close(code: number, reason: string): void;
}

/** Close codes (RFC 6455 §7.4.1; 4000-4999 are for applications). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
/** The reason sent with {@link CLOSE_GOING_AWAY} when the adapter closes. */
export const SHUTDOWN_REASON = 'Server shutting down';
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TAKEN_OVER = 4001;

interface SessionHooks {
  /** The session has ended: forget it (called before `lost` is emitted). */
  readonly onEnd: (session: Session) => void;
  readonly onListenerError: (error: unknown) => void;
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
  /** Messages delivered since the last acknowledgement we sent. */
  #unacked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #resumeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: string,
    private readonly options: ResolvedTetherOptions,
    private readonly hooks: SessionHooks,
  ) {
    this.#events = new Emitter(hooks.onListenerError);
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
    const { maxBufferedMessages, maxBufferedBytes } = this.options;
    if (this.#buffer.count > maxBufferedMessages || this.#buffer.bytes > maxBufferedBytes) {
      this.#sayBye();
      this.#end('overflow', { code: CLOSE_POLICY_VIOLATION, reason: 'Session buffer full' });
      return;
    }
    this.#write(entry);
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

  /** Adapter: the first connection of a new session. Writes `welcome` with `resumed: false`. */
  start(link: Link): void {
    this.#attach(link, false);
  }

  /**
   * Adapter: `link` sent a hello for this session with `peerRecv` (its last received seq, an
   * implicit ack). Takes the session over from any connection still attached, writes `welcome` with
   * `resumed: true` and resends what is unacknowledged. Returns a protocol error instead when
   * `peerRecv` is impossible (beyond what was written, or below what was acknowledged).
   */
  resume(link: Link, peerRecv: number): string | undefined {
    if (peerRecv > this.#written || peerRecv < this.#acked) {
      return `hello recv ${peerRecv} outside ${this.#acked}..${this.#written}`;
    }
    this.#acknowledge(peerRecv);
    this.#attach(link, true);
    return undefined;
  }

  /** Adapter: a message frame arrived on the attached connection. Returns a protocol error for a gap. */
  receive(seq: number, data: string | Buffer, isBinary: boolean): string | undefined {
    if (seq <= this.#recv) return undefined; // a resend that crossed our acknowledgement
    if (seq !== this.#recv + 1) return `gap: expected seq ${this.#recv + 1}, got ${seq}`;
    this.#recv = seq;
    this.#unacked += 1;
    this.#events.emit('message', data, isBinary);
    if (this.#hasEnded()) return undefined; // a listener closed the session
    if (this.#unacked >= this.options.ackBatch) this.#flushAck();
    else this.#ackTimer ??= setTimeout(() => this.#flushAck(), this.options.ackDelay);
    return undefined;
  }

  /** Adapter: an ack frame arrived. Returns a protocol error for an ack of a seq never sent. */
  ack(seq: number): string | undefined {
    if (seq > this.#written) return `ack ${seq} beyond last sent seq ${this.#written}`;
    this.#acknowledge(seq);
    return undefined;
  }

  /** Adapter: the client sent bye. */
  bye(): void {
    this.#end('closed', { code: CLOSE_NORMAL, reason: 'Session closed' });
  }

  /** Adapter: `tether.close()`. Acknowledges what was received, then ends the session with 1001. */
  shutdown(): void {
    if (this.#state === 'ended') return;
    this.#flushAck();
    this.#end('closed', { code: CLOSE_GOING_AWAY, reason: SHUTDOWN_REASON });
  }

  /** Adapter: `link` closed (or broke the protocol). Starts the resume window unless another link took over. */
  detach(link: Link, code: number): void {
    if (link !== this.#link || this.#state !== 'attached') return;
    this.#link = undefined;
    this.#clearAckTimer(); // the next welcome carries our recv
    this.#transition('detached');
    this.#events.emit('detach', { code });
    if (this.#hasEnded()) return; // a listener closed the session
    if (this.options.resumeWindow === 0) {
      this.#end('expired');
      return;
    }
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      this.#end('expired');
    }, this.options.resumeWindow);
  }

  #attach(link: Link, resumed: boolean): void {
    const previous = this.#link;
    this.#link = link;
    previous?.close(CLOSE_TAKEN_OVER, 'Session taken over');
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    // The welcome's `recv` acknowledges everything received so far.
    this.#clearAckTimer();
    this.#unacked = 0;
    this.#transition('attached');
    link.write(encodeWelcome({ sid: this.id, recv: this.#recv, resumed, window: this.options.resumeWindow }));
    const pending = this.#buffer.entries();
    for (const entry of pending) this.#write(entry);
    if (resumed) this.#events.emit('resume', { resent: pending.length });
  }

  /**
   * Before the server discards a session on its own: acknowledge what was received (so the client
   * does not report it), then bye, so the client knows at once not to resume (docs/protocol.md §3).
   */
  #sayBye(): void {
    this.#flushAck();
    this.#link?.write(BYE);
  }

  #write(entry: Outbound): void {
    if (this.#link?.write(entry.frame)) this.#written = Math.max(this.#written, entry.seq);
  }

  #acknowledge(seq: number): void {
    if (seq <= this.#acked) return; // stale: a later ack (or hello) already covered it
    this.#acked = seq;
    this.#buffer.dropThrough(seq);
  }

  #flushAck(): void {
    this.#clearAckTimer();
    if (this.#unacked === 0) return;
    if (this.#link?.write(encodeAck(this.#recv))) this.#unacked = 0;
  }

  #clearAckTimer(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  /**
   * The one teardown, in this order: stop timers, close the connection, set the state, forget the
   * session, then emit `lost`. The buffer is drained into the report; listeners are dropped last.
   */
  #end(reason: LostReason, close?: { code: number; reason: string }, unsent?: string | Buffer): void {
    this.#clearAckTimer();
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    const link = this.#link;
    this.#link = undefined;
    if (close) link?.close(close.code, close.reason);
    this.#transition('ended');
    const undelivered = this.#buffer.drain().map((entry) => payloadOf(entry.frame));
    if (unsent !== undefined) undelivered.push(unsent);
    this.hooks.onEnd(this);
    this.#events.emit('lost', { reason, undelivered });
    this.#events.clear();
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
