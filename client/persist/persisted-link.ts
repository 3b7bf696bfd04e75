import type { Delivery, DeliveryHost, DeliveryLink, MessageData, QueuedMessage, SendData } from 'tether-ws';
import { TetherError } from 'tether-ws';
import { FORMAT_VERSION, HEADER_KEY, type StoredOutbox, type StoredSession } from './record.js';
import type { PersistStore } from './store.js';
import { Writer } from './writer.js';

/*
 * Here be dragons, in this one file: the client's queue has no hook for persistence, so the link
 * wraps `push` and `shift` of the one queue instance it is handed (`host.queue()`). No prototype
 * and no global is touched, and the core pays nothing for a feature it does not carry. The queue
 * is a FIFO (push at the end, shift at the front), so an array of keys beside it follows it exactly.
 */

type Session = Omit<StoredSession, 'at'>;
const SESSION_FIELDS = ['id', 'key', 'sent', 'received', 'acknowledged', 'peerAcked'] as const;

/** What a link that can be resumed from storage exposes (exactly-once's does). */
interface Resumable<Out> {
  session?: Session;
  held: { messages?: Array<QueuedMessage<Out>>; add?(message: QueuedMessage<Out>): void };
}

const NOTHING_HELD = { length: 0, bytes: 0 };

const failure = (what: string, cause: unknown) =>
  new TetherError('PERSIST_FAILED', `Storage failed (${what}), going on in memory: ${cause}`, { cause });

/** Bytes on the wire, as the queue counts them (UTF-8 for text). */
const bytesOf = (wire: SendData): number =>
  typeof wire === 'string'
    ? new TextEncoder().encode(wire).length
    : ((wire as Blob).size ?? (wire as ArrayBuffer).byteLength);

/**
 * A delivery link that keeps the client's queue (and, around exactly-once, its session and the
 * messages written and not yet acknowledged) in a store, so that the next page with that store
 * carries on where this one stopped.
 */
export class PersistedLink<Out> implements DeliveryLink<Out> {
  readonly #host: DeliveryHost<Out>;
  readonly #inner: (DeliveryLink<Out> & Resumable<Out>) | undefined;
  readonly #writer: Writer;
  #loaded: StoredOutbox<Out> | undefined;
  readonly #loadError: unknown;
  #nextKey = HEADER_KEY + 1;
  /** The store key of each message in the queue, in the queue's order. */
  readonly #keys: number[] = [];
  /** The key of each message the inner link holds (taken out of the queue, or restored). */
  readonly #keyOf = new WeakMap<QueuedMessage<Out>, number>();
  /** Keys stored as held, and keys written since the last store write: to find the released ones. */
  #stored = new Set<number>();
  readonly #written = new Set<number>();
  #header = '';
  #restored = false;
  #watching = false;
  #socket: WebSocket | undefined;
  #gatedSocket: WebSocket | undefined;
  #ungated = false;

  constructor(
    host: DeliveryHost<Out>,
    store: PersistStore,
    loaded: StoredOutbox<Out> | Error,
    mode?: Delivery,
  ) {
    this.#host = host;
    // What the inner link reports may follow a change no call of ours saw (the resume window
    // expired on a timer: the session reset, its held messages handed back): store it then too.
    const reporting: DeliveryHost<Out> = {
      ...host,
      emit: (type, payload) => {
        this.#writer.touch();
        host.emit(type, payload);
      },
    };
    this.#inner = mode?.link(reporting) as (DeliveryLink<Out> & Resumable<Out>) | undefined;
    const usable = !(loaded instanceof Error) && !loaded.newer;
    this.#loaded = usable ? loaded : undefined;
    this.#loadError = usable
      ? undefined
      : loaded instanceof Error
        ? loaded
        : `a newer format (${loaded.newer})`;
    this.#writer = new Writer(
      usable ? store : undefined,
      () => this.#collect(),
      (cause) => host.emit('error', failure('write', cause)),
    );
    // The client creates its queue after its link: restoring waits for the end of the constructor,
    // and then the listeners added right after it hear what restoring reports.
    queueMicrotask(() => this.#restore());
  }

  get held() {
    return this.#inner?.held ?? NOTHING_HELD;
  }

  get framed(): boolean {
    return !!this.#inner?.framed;
  }

  target(url: string, protocols: string[]): [string, string[]] {
    this.#restore(); // the URL carries the session id: the stored one
    this.#watchPage();
    return this.#inner ? this.#inner.target(url, protocols) : [url, protocols];
  }

  opened(socket: WebSocket, stopConnectTimeout: () => void): boolean {
    this.#writer.touch();
    return !!this.#inner?.opened(this.#gated(socket), stopConnectTimeout);
  }

  receive(data: MessageData): MessageData | undefined {
    this.#writer.touch(); // before any acknowledgement it sends
    return this.#inner?.receive(data);
  }

  write(socket: WebSocket, message: QueuedMessage<Out>): void {
    const inner = this.#inner as DeliveryLink<Out> & Resumable<Out>;
    this.#writer.touch(); // before the frame, so that it waits for the message's record
    inner.write(this.#gated(socket), message);
    const key = this.#keyOf.get(message);
    if (key !== undefined && inner.session) {
      this.#written.add(key);
      this.#writer.put(key, record(message.data, message.wire, inner.session.sent));
    }
  }

  bye(): void {
    // The session ends: what is held back goes now, before our bye and the close frame.
    this.#ungated = true;
    this.#writer.release();
    this.#inner?.bye();
    this.#ungated = false;
  }

  detached(): void {
    this.#writer.touch();
    this.#inner?.detached();
  }

  ended(): void {
    this.#writer.touch();
    this.#inner?.ended();
  }

  /**
   * `pagehide`, and the page turning hidden (a mobile browser may discard it after that without
   * another event), start the waiting write at once instead of after the one in flight. Held in
   * the client's watchers: from the first connection after each open() until it is closed.
   */
  #watchPage(): void {
    const scope = globalThis as Partial<Window & typeof globalThis>;
    if (this.#watching || typeof scope.addEventListener !== 'function') return;
    this.#watching = true;
    const watchers = this.#host.watchers;
    const flush = () => this.#writer.flush();
    watchers.listen(scope as Window, 'pagehide', flush);
    watchers.listen(
      scope as Window,
      'visibilitychange',
      () => scope.document?.visibilityState === 'hidden' && flush(),
    );
    watchers.add(() => {
      this.#watching = false;
    });
  }

  /** The socket as the inner link sees it: its `send` waits for the store (see Writer.gate). */
  #gated(socket: WebSocket): WebSocket {
    if (this.#socket !== socket) {
      this.#socket = socket;
      const link = this;
      this.#gatedSocket = {
        get protocol() {
          return socket.protocol;
        },
        get readyState() {
          return socket.readyState;
        },
        send(frame: SendData) {
          if (link.#ungated) socket.send(frame);
          // A frame held back past its socket's end is not lost: the message is resent on resume.
          else link.#writer.gate(() => socket.readyState === 1 && socket.send(frame));
        },
      } as WebSocket;
    }
    return this.#gatedSocket as WebSocket;
  }

  /**
   * Puts back what the last page left (its session into the inner link, its written messages into
   * the link's held ones, the others at the front of the queue), then starts mirroring the queue.
   */
  #restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    const host = this.#host;
    const queue = host.queue();
    const push = queue.push.bind(queue);
    const shift = queue.shift.bind(queue);
    // Sent before this ran: newer than the stored ones, they go after them.
    const newer: Array<QueuedMessage<Out>> = [];
    for (let message = shift(); message; message = shift()) newer.push(message);
    this.#mirror(queue, push, shift);
    const loaded = this.#loaded;
    this.#loaded = undefined;
    if (this.#loadError) host.emit('error', failure('load', this.#loadError));
    if (loaded) {
      if (loaded.skipped) host.emit('error', failure('read', `${loaded.skipped} records not of this format`));
      this.#nextKey = loaded.nextKey;
      const inner = this.#inner;
      const session = inner?.session;
      const stored = session && loaded.session;
      if (stored)
        for (const field of SESSION_FIELDS) (session as Record<string, unknown>)[field] = stored[field];
      for (const { key, data, wire, seq } of loaded.messages) {
        if (stored && seq !== undefined && inner?.held.add) {
          // Written in the stored session: held by the link, resent after the resume.
          const message = { data: data as Out, wire, bytes: bytesOf(wire) };
          inner.held.add(message);
          this.#keyOf.set(message, key);
          this.#stored.add(key);
        } else if (push(data as Out, wire)) {
          this.#keys.push(key);
          // No session to resume it in: sent afresh, so stored as never written.
          if (seq !== undefined) this.#writer.put(key, record(data, wire));
        } else {
          this.#writer.put(key, undefined); // refused by the queue's limits, and reported as `drop`
        }
      }
    }
    for (const { data, wire } of newer) queue.push(data, wire);
    this.#writer.touch();
  }

  /** From now on every message the queue takes is stored, and deleted when it leaves the queue. */
  #mirror(
    queue: ReturnType<DeliveryHost<Out>['queue']>,
    push: (data: Out, wire: SendData) => boolean,
    shift: () => QueuedMessage<Out> | undefined,
  ): void {
    queue.push = (data, wire) => {
      const key = this.#nextKey++;
      // Evictions inside push() go through the wrapped shift below, before this key is added.
      const kept = push(data, wire);
      if (kept) {
        this.#keys.push(key);
        this.#writer.put(key, record(data, wire));
      }
      return kept;
    };
    queue.shift = () => {
      const message = shift();
      if (message) {
        const key = this.#keys.shift() as number;
        // Written now (exactly-once keeps it, see write()) or gone: deleted unless write() says otherwise.
        this.#keyOf.set(message, key);
        this.#writer.put(key, undefined);
      }
      return message;
    };
  }

  /** At each store write: the header if the session changed, and deletions of released messages. */
  #collect(): void {
    const inner = this.#inner;
    const session = inner?.session;
    const fields = session && Object.fromEntries(SESSION_FIELDS.map((field) => [field, session[field]]));
    const header = JSON.stringify(fields ?? null);
    if (header !== this.#header) {
      this.#header = header;
      this.#writer.put(HEADER_KEY, { v: FORMAT_VERSION, session: fields && { ...fields, at: Date.now() } });
    }
    const messages = inner?.held.messages;
    if (!messages) return;
    const held = new Set(messages.map((message) => this.#keyOf.get(message) as number));
    for (const key of [...this.#stored, ...this.#written])
      if (!held.has(key)) this.#writer.put(key, undefined);
    this.#stored = held;
    this.#written.clear();
  }
}

/** A message's record; `data` left out when it is the wire form itself (the default codec). */
function record(data: unknown, wire: SendData, seq?: number) {
  const value: { data?: unknown; wire: SendData; seq?: number } = { wire };
  if (data !== wire) value.data = data;
  if (seq !== undefined) value.seq = seq;
  return value;
}
