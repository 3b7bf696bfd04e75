/**
 * A hand-driven `WebSocket` for unit tests that need what mock-socket lacks: a `bufferedAmount`
 * the test controls, and a count of the listeners the client adds and removes. Nothing happens by
 * itself except the close that follows `close()` (one microtask later, as a browser delivers it
 * asynchronously); the test opens, feeds and drops each socket explicitly.
 */
import type { WebSocketConstructor } from '../../client/index.js';

type Listener = (event: unknown) => void;

export class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = 0;
  /** Set by the test; `send()` adds the size of what it writes, like a real socket. */
  bufferedAmount = 0;
  binaryType = 'blob';
  protocol = '';
  extensions = '';
  /** Everything written, in order. */
  readonly sent: unknown[] = [];
  /** The largest `bufferedAmount` right after any `send()`. */
  peakBuffered = 0;
  readonly closeCalls: Array<{ code: number | undefined; reason: string | undefined }> = [];
  readonly #listeners = new Map<string, Set<Listener>>();
  added = 0;
  removed = 0;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {}

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

  send(data: unknown): void {
    if (this.readyState !== FakeSocket.OPEN) throw new Error(`send() in readyState ${this.readyState}`);
    this.sent.push(data);
    this.bufferedAmount += typeof data === 'string' ? new TextEncoder().encode(data).length : 0;
    this.peakBuffered = Math.max(this.peakBuffered, this.bufferedAmount);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    if (this.readyState >= FakeSocket.CLOSING) return;
    this.readyState = FakeSocket.CLOSING;
    // The closing handshake completes asynchronously, as in a browser.
    Promise.resolve().then(() => this.serverClose(code ?? 1005, reason ?? '', true));
  }

  /** The handshake completed: `open`. */
  serverOpen(): void {
    this.readyState = FakeSocket.OPEN;
    this.#dispatch('open', { type: 'open' });
  }

  serverMessage(data: unknown): void {
    this.#dispatch('message', { type: 'message', data });
  }

  /** The connection ended (1006 by default: dropped without a closing handshake). */
  serverClose(code = 1006, reason = '', wasClean = false): void {
    if (this.readyState === FakeSocket.CLOSED) return;
    this.readyState = FakeSocket.CLOSED;
    this.#dispatch('close', { type: 'close', code, reason, wasClean });
  }

  #dispatch(type: string, event: unknown): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
  }
}

/** A constructor for the client's `WebSocket` option that records every socket it makes. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocket: Recorded as unknown as WebSocketConstructor, sockets };
}
