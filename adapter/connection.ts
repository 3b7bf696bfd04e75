import type { RawData, WebSocket } from 'ws';
import { CLOSE_INTERNAL_ERROR, CLOSE_PROTOCOL_ERROR } from '../protocol/close-codes.js';
import { type ClientFrame, PONG, parseClientFrame } from './frames.js';
import { rawDataToBuffer } from './raw-data.js';
import type { Link, Session } from './session.js';

/**
 * A connection the adapter closes while more than this is still queued for writing to it is cut
 * (TCP reset; its client sees 1006 and retries as after any network loss) instead of closed after
 * that backlog. A closing handshake waits behind the backlog for as long as a slow or gone client
 * takes to read it (ws gives up after 30 s), and every queued buffer stays alive meanwhile: the very
 * memory an eviction or an overflow just let go of (issue 12's 40 × 16 × 1 MB run held 434 MiB of
 * RSS that way, 210 MiB with the cut). Under it, the close frame follows the backlog as usual.
 */
export const MAX_BACKLOG_AT_CLOSE = 1024 * 1024;

/**
 * `awaiting-hello`: open, no session yet. `authorizing`: its hello arrived and is being decided on
 * (the `authorize` hook may be async); any frame but ping is then a protocol error. `attached`:
 * carries a session. `closed`: closed by either side (or being closed); frames that still arrive
 * are ignored.
 */
type ConnectionState = 'awaiting-hello' | 'authorizing' | 'attached' | 'closed';

/** A hello as parsed (docs/protocol.md §3). */
export interface Hello {
  readonly sid: string;
  readonly recv: number;
  readonly key?: string;
}

export interface ConnectionHooks {
  /**
   * A valid hello arrived. The adapter decides, now or later, and then calls
   * {@link Connection.attachTo} (before the session writes its welcome), {@link Connection.refuse}
   * or {@link Connection.fail}.
   */
  readonly onHello: (connection: Connection, hello: Hello) => void;
  /** This connection is closing with 1002 for `reason`. */
  readonly onProtocolError: (reason: string, sessionId: string | undefined) => void;
  /** The connection closed, whichever side closed it. */
  readonly onClose: (connection: Connection) => void;
}

/**
 * One WebSocket speaking tether.v1: waits for the hello, then passes the frames of the client to
 * its session. It is the session's {@link Link}. Owns the hello timer and its socket listeners.
 */
export class Connection implements Link {
  #state: ConnectionState = 'awaiting-hello';
  #session: Session | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #onMessage = (raw: RawData, isBinary: boolean) => this.#receive(rawDataToBuffer(raw), isBinary);
  readonly #onClose = (code: number) => this.#closed(code);

  constructor(
    private readonly socket: WebSocket,
    helloTimeout: number,
    private readonly hooks: ConnectionHooks,
  ) {
    // ws emits `error` before closing on a bad frame or an oversize message; unheard, it would end
    // the process. The `close` that follows is where the connection reacts. Kept after detaching,
    // for a late error of a socket that is still closing.
    socket.on('error', absorbError);
    socket.on('message', this.#onMessage);
    socket.on('close', this.#onClose);
    if (helloTimeout > 0) {
      // Runs on past the hello, until the connection is attached: it also bounds `authorize`.
      this.#helloTimer = setTimeout(() => {
        this.#helloTimer = undefined;
        if (this.#state === 'authorizing') this.refuse(CLOSE_INTERNAL_ERROR, 'Authorization timed out');
        else this.#protocolError(`no hello within ${helloTimeout} ms`);
      }, helloTimeout);
    }
  }

  /** Whether the connection is still waiting for a decision on its hello (not closed meanwhile). */
  get authorizing(): boolean {
    return this.#state === 'authorizing';
  }

  /** Called after `onHello`: this connection now carries `session`. */
  attachTo(session: Session): void {
    this.#clearHelloTimer();
    this.#session = session;
    this.#state = 'attached';
  }

  /** The hello was refused (not a protocol error): closes this connection only. */
  refuse(code: number, reason: string): void {
    this.close(code, reason);
  }

  /** The hello broke the protocol: closes with 1002 and reports it. */
  fail(reason: string): void {
    this.#protocolError(reason);
  }

  write(frame: string | Buffer): boolean {
    if (this.#state === 'closed' || this.socket.readyState !== this.socket.OPEN) return false;
    // A string goes as a text frame, a Buffer as a binary one.
    this.socket.send(frame);
    return true;
  }

  together(writes: () => void): void {
    // ws has no public cork: `_socket` is its net.Socket (ws 8). Each frame's write corks it
    // too, and only the outermost uncork() flushes, so the frames leave in one writev.
    const tcp = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (typeof tcp?.cork !== 'function') {
      writes();
      return;
    }
    tcp.cork();
    try {
      writes();
    } finally {
      tcp.uncork();
    }
  }

  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearHelloTimer();
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      if (this.socket.bufferedAmount > MAX_BACKLOG_AT_CLOSE) this.socket.terminate();
      else this.socket.close(code, fitCloseReason(reason));
    }
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    const frame = parseClientFrame(data, isBinary);
    const error = this.#dispatch(frame);
    if (error !== undefined) this.#protocolError(error);
  }

  /** Acts on one frame; returns a protocol error, if any. */
  #dispatch(frame: ClientFrame): string | undefined {
    if (frame.type === 'invalid') return frame.reason;
    if (frame.type === 'ping') {
      this.write(PONG);
      return undefined;
    }
    if (frame.type === 'pong') return undefined;
    const session = this.#session;
    if (frame.type === 'hello') {
      if (this.#state !== 'awaiting-hello') return 'second hello on one connection';
      this.#state = 'authorizing';
      this.hooks.onHello(this, frame);
      return undefined;
    }
    if (this.#state === 'authorizing') return `${frame.type} frame before welcome`;
    if (session === undefined) return `${frame.type} frame before hello`;
    switch (frame.type) {
      case 'message':
        return session.receive(frame.seq, frame.data, frame.isBinary);
      case 'ack':
        return session.ack(frame.seq);
      case 'bye':
        session.bye();
        return undefined;
    }
  }

  #protocolError(reason: string): void {
    if (this.#state === 'closed') return;
    const session = this.#session;
    this.hooks.onProtocolError(reason, session?.id);
    this.close(CLOSE_PROTOCOL_ERROR, reason);
    // Treated as a lost connection: the client may resume on a new one (docs/protocol.md §7).
    session?.detach(this, CLOSE_PROTOCOL_ERROR);
  }

  /** The socket's `close` event: the one place its listeners are removed. */
  #closed(code: number): void {
    this.socket.off('message', this.#onMessage);
    this.socket.off('close', this.#onClose);
    this.#clearHelloTimer();
    const session = this.#session;
    this.#state = 'closed';
    session?.detach(this, code);
    this.hooks.onClose(this);
  }

  #clearHelloTimer(): void {
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
  }
}

function absorbError(): void {}

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5), and ws throws beyond that. */
function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let fitted = reason;
  while (Buffer.byteLength(fitted) > 120) fitted = fitted.slice(0, -1);
  return `${fitted}...`;
}
