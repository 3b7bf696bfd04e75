import type {
  ConnectionState,
  DropReason,
  MessageData,
  SendData,
  SocketBinaryType,
  TetherError,
  UrlProvider,
  WebSocketConstructor,
  WebSocketLike,
} from 'tether-ws';
import { TetherRangeError, TetherTypeError, WebSocketClient } from 'tether-ws';
import type { TetherBinaryType, TetherWebSocketOptions } from './options.js';
import { toClientOptions } from './options.js';

// The event types are written out (as the core's WebSocketLike is) rather than taken from the DOM
// library, so that a project without it (Node) can read these declarations. The DOM's events fit
// them: test/types/websocket.test-d.ts checks that the class is assignable to `typeof WebSocket`.

/** `message`: the DOM's `MessageEvent` where there is one (browsers, Node 20). */
export interface WebSocketMessageEvent extends Event {
  readonly data: MessageData;
}

/** `close`: the DOM's `CloseEvent` where there is one; an `Event` with these fields in Node 20. */
export interface WebSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/**
 * `error`: an `Event` that carries what went wrong as a `TetherError` (branch on `error.code`).
 * The class always sets both fields; they are optional in the type because a plain `Event` can be
 * dispatched as `error` too (a `WebSocket`'s `onerror` takes any `Event`).
 */
export interface WebSocketErrorEvent extends Event {
  readonly error?: TetherError;
  readonly message?: string;
}

/** `drop`: the outbound queue's limits discarded a message (`data`) that was never sent; see `reason`. */
export interface DropEvent extends Event {
  readonly data: SendData;
  readonly reason: DropReason;
}

/** The events of a `WebSocket`, plus `drop`: nothing is discarded without an event. */
export interface TetherWebSocketEventMap {
  open: Event;
  message: WebSocketMessageEvent;
  close: WebSocketCloseEvent;
  error: WebSocketErrorEvent;
  drop: DropEvent;
}

/**
 * The platform's `WebSocket` when this module loads: the one exception to reading the global at
 * each attempt, for a page that later replaces the global with this class (see `capture`).
 */
const PLATFORM = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;

/** `binaryType`'s values: the standard's, then `ws`'s, accepted where there is a `Buffer` (Node). */
const BINARY_TYPES: TetherBinaryType[] = ['blob', 'arraybuffer', 'nodebuffer', 'fragments'];

type Handler<E> = ((event: E) => unknown) | null;

/** The DOM's event classes by type; `Event` with the same fields where the platform lacks one (Node 20 has no `CloseEvent`). */
const EVENT_CLASSES: Record<string, string> = { message: 'MessageEvent', close: 'CloseEvent' };

/**
 * A drop-in `WebSocket` (the WHATWG interface: `readyState` and its constants, `on*` handlers,
 * `addEventListener` with functions or `handleEvent` objects, `MessageEvent` / `CloseEvent`) that
 * is a tether-ws `WebSocketClient` underneath: it reconnects with backoff, queues what is sent
 * while it is not open, and takes every option of the client plus the option names of
 * reconnecting-websocket and partysocket. docs/websocket.md says where it departs from the standard
 * (which is where reconnecting has to) and why.
 *
 * Across a reconnect it behaves like the peers: each connection that closes dispatches `close`
 * (and `readyState` is `CLOSED` until the next attempt starts), each one that opens dispatches
 * `open`. Only `close()` stops it; `reconnect()` starts it again.
 *
 * @example
 * import { WebSocket } from 'tether-ws/websocket';
 * const socket = new WebSocket('wss://example.com/live');
 * socket.onmessage = (event) => render(event.data);
 * socket.send('hello'); // queued while CONNECTING, written before `open` is dispatched
 * @example
 * // Node, or a library that takes a constructor: bind the options in a subclass.
 * import ws from 'ws';
 * class NodeSocket extends WebSocket {
 *   constructor(url, protocols) { super(url, protocols, { WebSocket: ws }); }
 * }
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below only adds typed overloads of the inherited addEventListener/removeEventListener; it declares nothing to initialise.
export class TetherWebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  /** Event handler properties, as on a `WebSocket`; each runs before the `addEventListener` listeners of its event. */
  onopen: Handler<Event> = null;
  onmessage: Handler<WebSocketMessageEvent> = null;
  onclose: Handler<WebSocketCloseEvent> = null;
  onerror: Handler<WebSocketErrorEvent> = null;

  readonly #client: WebSocketClient;
  /** Whether the client was told to connect on its own (toClientOptions defaults it to true; the client validates it). */
  readonly #autoOpen: boolean | undefined;
  #binaryType: TetherBinaryType = 'blob';
  /** The latest socket the client made, for the properties the client does not expose (`extensions`). */
  #socket: (WebSocketLike & { extensions?: string }) | undefined;
  /** The state before the current one: a `close` from `reconnecting` has no connection of its own. */
  #from: ConnectionState = 'idle';

  static {
    // The constants live on the class and the prototype, read-only, as the IDL puts them.
    ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach((name, value) => {
      for (const target of [TetherWebSocket, TetherWebSocket.prototype])
        Object.defineProperty(target, name, { value, enumerable: true });
    });
  }

  /**
   * Connects on the next microtask (unless `startClosed` / `autoOpen: false`), so listeners added
   * right after construction see every event.
   * @param url A string or `URL` (ws, wss, http, https), or a function returning one, sync or
   *   async, called before every attempt.
   * @param protocols Subprotocols offered on every connection.
   * @param options Every `WebSocketClient` option but `codec` and `protocols`, and the peers' names.
   * @throws TetherTypeError / TetherRangeError for a bad URL, protocol, option or `binaryType`, or
   *   when there is no `WebSocket` to build on (pass the `WebSocket` option, e.g. `ws` in Node).
   */
  constructor(url: UrlProvider, protocols?: string | string[] | null, options?: TetherWebSocketOptions) {
    super();
    const settings = toClientOptions(options);
    const global = globalThis as { WebSocket?: WebSocketConstructor; Buffer?: unknown };
    if (typeof (settings.WebSocket ?? global.WebSocket) !== 'function')
      throw new TetherTypeError(
        'option',
        'WebSocket',
        settings.WebSocket,
        'a WebSocket constructor (none is global here)',
      );
    this.binaryType = options?.binaryType ?? 'blob';
    this.#autoOpen = settings.autoOpen;
    const own = this;
    // Made with `new` by the client for every attempt; returning the socket makes it the result.
    // The global `WebSocket` is read here, at each attempt, as the peers and the client do.
    function capture(url: string, protocols: string[]) {
      let Make = settings.WebSocket ?? global.WebSocket;
      // Never a reconnecting socket under this one: a page that made this class (or a peer's) its
      // global `WebSocket`, for code written for the standard, gets the platform's underneath, as
      // found when this module loaded (this class would otherwise build on itself, without end).
      if ((Make?.prototype as { reconnect?: unknown } | undefined)?.reconnect) Make = PLATFORM;
      own.#socket = new (Make as WebSocketConstructor)(url, protocols);
      return own.#socket;
    }
    const client = new WebSocketClient(url, {
      ...settings,
      protocols: protocols ?? [],
      // Always ArrayBuffer underneath: converting to a Blob is synchronous, the other way is not,
      // and a `binaryType` set between two messages must apply to the next one.
      binaryType: 'arraybuffer',
      codec: undefined,
      WebSocket: capture as unknown as WebSocketConstructor,
    });
    this.#client = client;
    // Added first, so each handler runs before the listeners of its event (as with the peers; the
    // standard would place it where it was first set, a difference no known consumer depends on).
    for (const type of ['open', 'message', 'close', 'error'] as const) {
      this.addEventListener(type, (event) => {
        const handler = this[`on${type}`];
        if (typeof handler === 'function') handler.call(this, event as never);
      });
    }
    client.on('state', ({ from }) => {
      this.#from = from;
    });
    client.on('open', () => this.#dispatch('open'));
    client.on('message', (data) => {
      const type = this.#binaryType;
      // Binary data is an ArrayBuffer (the socket's binaryType), maybe of another realm (`ws`
      // under jsdom), so it is told from text by `typeof`, not `instanceof`. The setter lets
      // 'nodebuffer' and 'fragments' in only where there is a `Buffer`.
      const Buffer = global.Buffer as { from(data: ArrayBuffer): unknown };
      this.#dispatch('message', {
        data:
          typeof data === 'string' || type === 'arraybuffer'
            ? data
            : type === 'blob'
              ? new Blob([data])
              : type === 'fragments'
                ? [Buffer.from(data as ArrayBuffer)]
                : Buffer.from(data as ArrayBuffer),
      });
    });
    client.on('close', ({ code, reason, wasClean }) => {
      // close() during a retry wait: the connection's own `close` was dispatched when it dropped.
      if (this.#from !== 'reconnecting') this.#dispatch('close', { code, reason, wasClean });
    });
    client.on('error', (error) => {
      // The last attempt's own `error` and `close` say it failed; the peers add nothing after them
      // (RETRIES_EXHAUSTED stays on `client`). A connect timeout's `message` is theirs, 'TIMEOUT'.
      if (error.code !== 'RETRIES_EXHAUSTED')
        this.#dispatch('error', {
          error,
          message: error.code === 'CONNECT_TIMEOUT' ? 'TIMEOUT' : error.message,
        });
    });
    client.on('drop', (drop) => this.#dispatch('drop', drop));
  }

  /**
   * `CONNECTING` while an attempt is under way (and from construction until the first one starts),
   * `OPEN`, `CLOSING` during a closing handshake, `CLOSED` between a connection's `close` and the
   * next attempt, and after `close()`.
   */
  get readyState(): number {
    const state = this.#client.state;
    if (state === 'idle') return this.#autoOpen ? 0 : 3;
    return state === 'connecting' ? 0 : this.#client.readyState;
  }

  /** The URL of the current or last attempt (`''` before a URL function was first called). */
  get url(): string {
    return this.#client.url;
  }

  /** The subprotocol the server selected on the current or last connection; `''` if none. */
  get protocol(): string {
    return this.#socket?.protocol ?? '';
  }

  /** The extensions the server selected on the current or last connection; `''` if none. */
  get extensions(): string {
    return this.#socket?.extensions ?? '';
  }

  /** Bytes not yet on the network: the socket's own buffer plus the queue. */
  get bufferedAmount(): number {
    return this.#client.bufferedAmount;
  }

  /**
   * How binary messages are delivered from now on, on this connection and the next ones: `Blob`,
   * `ArrayBuffer`, and where there is a `Buffer` (Node), as `ws` delivers them, a `Buffer`
   * (`'nodebuffer'`) or an array of them (`'fragments'`). Typed as the DOM's `BinaryType`, so the
   * class stays assignable to `typeof WebSocket`; it reads back whatever was set.
   * @throws TetherTypeError / TetherRangeError for any other value.
   */
  get binaryType(): SocketBinaryType {
    return this.#binaryType as SocketBinaryType;
  }

  set binaryType(value: TetherBinaryType) {
    const accepted = BINARY_TYPES.slice(0, (globalThis as { Buffer?: unknown }).Buffer ? 4 : 2);
    if (!accepted.includes(value)) {
      const Error_ = typeof value === 'string' ? TetherRangeError : TetherTypeError;
      throw new Error_('argument', 'binaryType', value, `one of ${accepted.join(', ')}`);
    }
    this.#binaryType = value;
  }

  /** Retries since the last stable connection (reconnecting-websocket's `retryCount`). */
  get retryCount(): number {
    return this.#client.attempt;
  }

  /** The `WebSocketClient` underneath, for tether-ws's own events (`reconnecting`, `state`, `drop`...). */
  get client(): WebSocketClient {
    return this.#client;
  }

  /**
   * Writes now when `OPEN`, otherwise queues (in every other state, as the peers do): queued
   * messages are written in order before `open` is dispatched. A full queue dispatches `drop`.
   * @returns `true` if written to the socket now, `false` if queued or dropped.
   * @throws TetherTypeError for data that is not a string, ArrayBuffer, ArrayBufferView or Blob.
   */
  send(data: SendData): boolean {
    return this.#client.send(data);
  }

  /**
   * Closes the connection (its `close` is dispatched once the closing handshake ends) or cancels
   * the pending retry, and stops reconnecting. What is still queued is written before the close
   * frame if a connection is open, else dispatched as `drop` (reason `'closed'`); `reconnect()` keeps it.
   * @param code 1000 or 3000–4999. @default 1000
   * @param reason At most 123 bytes of UTF-8.
   * @throws TetherRangeError / TetherTypeError for another code or a longer reason.
   */
  close(code?: number, reason?: string): void {
    void this.#client.close(code, reason);
  }

  /**
   * Closes the current connection, if any, and connects again with a fresh retry count
   * (reconnecting-websocket's `reconnect()`). Also starts a socket made with `startClosed`.
   */
  reconnect(code?: number, reason?: string): void {
    void this.#client.close(code, reason);
    void this.#client.open();
  }

  #dispatch(type: string, init: object = {}): void {
    const Native = (globalThis as Record<string, unknown>)[EVENT_CLASSES[type] ?? ''] as
      | (new (
          type: string,
          init: object,
        ) => Event)
      | undefined;
    this.dispatchEvent(Native ? new Native(type, init) : Object.assign(new Event(type), init));
  }
}

/** A listener: a function or a `handleEvent` object, as `EventTarget` takes (written out for the same reason as the events). */
type AnyListener = ((event: Event) => unknown) | { handleEvent(event: Event): unknown } | null;
type ListenerOptions =
  | boolean
  | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal };

export interface TetherWebSocket {
  addEventListener<K extends keyof TetherWebSocketEventMap>(
    type: K,
    listener: (this: TetherWebSocket, event: TetherWebSocketEventMap[K]) => unknown,
    options?: ListenerOptions,
  ): void;
  addEventListener(type: string, listener: AnyListener, options?: ListenerOptions): void;
  removeEventListener<K extends keyof TetherWebSocketEventMap>(
    type: K,
    listener: (this: TetherWebSocket, event: TetherWebSocketEventMap[K]) => unknown,
    options?: boolean | { capture?: boolean },
  ): void;
  removeEventListener(type: string, listener: AnyListener, options?: boolean | { capture?: boolean }): void;
}
