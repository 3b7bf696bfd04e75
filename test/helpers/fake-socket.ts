/**
 * The one `WebSocket` double of the unit tests. It behaves as a browser's socket does where the
 * client can tell: `readyState` moves CONNECTING > OPEN > CLOSING > CLOSED, `send()` throws while
 * CONNECTING and counts what it writes in `bufferedAmount` (a number the test may also set),
 * `close()` checks its code and reason as a browser does, a close started while CONNECTING ends in
 * `error` then `close` 1006 (wasClean false), inbound bytes follow `binaryType`, and every listener
 * added or removed is counted.
 *
 * A `FakeSocket` built by `fakeWebSocket()` is hand-driven: nothing happens by itself except the
 * end of a closing handshake the client started (one microtask later, as a browser delivers it
 * asynchronously); the test calls `serverOpen()`, `serverMessage()`, `serverClose()`. Built by the
 * fake network (fake-network.ts), the same class is driven by a fake server instead.
 */
import type { WebSocketConstructor } from '../../client/index.js';

type Listener = (event: unknown) => void;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The size `send()` adds to `bufferedAmount`: UTF-8 bytes of text, byte length of binary data. */
export function byteLength(data: unknown): number {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}

/** A copy of the bytes of an ArrayBuffer or a view on one (what travels on the wire). */
export function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> {
  const view = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  return new Uint8Array(view);
}

export class FakeSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  readyState = CONNECTING;
  /** Bytes written and not yet on the network. `send()` adds to it; the test (or the network) lowers it. */
  bufferedAmount = 0;
  binaryType: 'blob' | 'arraybuffer' = 'blob';
  protocol = '';
  extensions = '';
  readonly url: string;
  /** Everything written while OPEN, in order. */
  readonly sent: unknown[] = [];
  /** The largest `bufferedAmount` right after any `send()`. */
  peakBuffered = 0;
  readonly closeCalls: Array<{ code: number | undefined; reason: string | undefined }> = [];
  readonly #listeners = new Map<string, Set<Listener>>();
  added = 0;
  removed = 0;

  constructor(
    url: string | URL,
    readonly protocols?: string | string[],
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      throw new DOMException(
        `The URL's scheme must be either 'ws' or 'wss'. '${parsed.protocol}' is not allowed.`,
        'SyntaxError',
      );
    }
    this.url = parsed.href;
  }

  /** The subprotocols offered, as a list. */
  get offered(): string[] {
    if (this.protocols === undefined) return [];
    return typeof this.protocols === 'string' ? [this.protocols] : [...this.protocols];
  }

  addEventListener(type: string, listener: Listener): void {
    const set = this.#listeners.get(type) ?? new Set();
    if (!set.has(listener)) this.added += 1;
    set.add(listener);
    this.#listeners.set(type, set);
  }

  removeEventListener(type: string, listener: Listener): void {
    if (this.#listeners.get(type)?.delete(listener)) this.removed += 1;
  }

  /** Listeners still attached, per event type (types with none are left out). */
  listenerCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [type, set] of this.#listeners) if (set.size > 0) counts[type] = set.size;
    return counts;
  }

  /**
   * As a browser: throws while CONNECTING; once the closing handshake started, the data is
   * discarded but still counted in `bufferedAmount`.
   */
  send(data: unknown): void {
    if (this.readyState === CONNECTING) {
      throw new DOMException(
        "Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.",
        'InvalidStateError',
      );
    }
    const size = byteLength(data);
    this.bufferedAmount += size;
    this.peakBuffered = Math.max(this.peakBuffered, this.bufferedAmount);
    if (this.readyState !== OPEN) return;
    this.sent.push(data);
    this.transmit(data, size);
  }

  /** As a browser: the code is 1000 or 3000-4999, the reason at most 123 bytes of UTF-8. */
  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(
        `Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
        'InvalidAccessError',
      );
    }
    if (reason !== undefined && byteLength(reason) > 123) {
      throw new DOMException(
        "Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.",
        'SyntaxError',
      );
    }
    this.closeCalls.push({ code, reason });
    if (this.readyState >= CLOSING) return;
    const wasConnecting = this.readyState === CONNECTING;
    this.readyState = CLOSING;
    if (wasConnecting) this.abortHandshake();
    else this.startClosingHandshake(code, reason);
  }

  /** The handshake completed: `open` (with the subprotocol the server chose). */
  serverOpen(protocol = this.protocol): void {
    if (this.readyState !== CONNECTING) throw new Error(`serverOpen() in readyState ${this.readyState}`);
    this.protocol = protocol;
    this.readyState = OPEN;
    this.#dispatch('open', { type: 'open', target: this });
  }

  /**
   * A message from the server: text as a string, bytes (an ArrayBuffer or a view) as `binaryType`
   * says, a Blob or an ArrayBuffer. Delivered while OPEN or CLOSING, as a browser does; lost once
   * CLOSED.
   */
  serverMessage(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState === CONNECTING) throw new Error('serverMessage() before the socket opened');
    if (this.readyState === CLOSED) return;
    let payload: unknown = data;
    if (typeof data !== 'string') {
      if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) {
        throw new TypeError('serverMessage() takes a string, an ArrayBuffer or a typed array');
      }
      const bytes = bytesOf(data);
      payload = this.binaryType === 'arraybuffer' ? bytes.buffer : new Blob([bytes]);
    }
    this.#dispatch('message', { type: 'message', target: this, data: payload });
  }

  /** The connection ended (1006 by default: dropped without a closing handshake). */
  serverClose(code = 1006, reason = '', wasClean = false): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#dispatch('close', { type: 'close', target: this, code, reason, wasClean });
  }

  /** The connection failed: `error`, then `close` 1006 (not clean), as a browser reports it. */
  serverFail(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#dispatch('error', { type: 'error', target: this });
    this.#dispatch('close', { type: 'close', target: this, code: 1006, reason: '', wasClean: false });
  }

  /** Carries written data to the peer. A hand-driven socket keeps it in `sent` only. */
  protected transmit(_data: unknown, _size: number): void {}

  /** `close()` while CONNECTING fails the connection (one microtask later when hand-driven). */
  protected abortHandshake(): void {
    queueMicrotask(() => this.serverFail());
  }

  /** `close()` while OPEN: the peer answers the close frame (one microtask later when hand-driven). */
  protected startClosingHandshake(code: number | undefined, reason: string | undefined): void {
    queueMicrotask(() => this.serverClose(code ?? 1005, reason ?? '', true));
  }

  #dispatch(type: string, event: unknown): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
  }
}

/** A constructor for the client's `WebSocket` option whose hand-driven sockets are recorded. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: Recorded as unknown as WebSocketConstructor, sockets };
}
