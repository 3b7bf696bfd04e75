import type {
  Connect,
  Connection,
  ConnectionEvents,
  ConnectionOptions,
  Delivery,
  DeliveryHost,
  DeliveryLayer,
  QueuedMessage,
  SendData,
} from 'tether-ws';
import { TetherError } from 'tether-ws';
import { flushOnPageHide } from './page.js';
import {
  bytesOf,
  FORMAT_VERSION,
  HEADER_KEY,
  record,
  type StoredOutbox,
  type StoredSession,
} from './record.js';
import type { PersistStore } from './store.js';
import { gatedSocket, Writer } from './writer.js';

/*
 * Here be dragons, in this one file: the client's queue has no hook for persistence, so the layer
 * wraps `push` and `shift` of the one queue instance it is handed (`host.queue()`). No prototype
 * and no global is touched, and the core pays nothing for a feature it does not carry. The queue
 * is a FIFO (push at the end, shift at the front), so an array of keys beside it follows it exactly.
 */

type Session = Omit<StoredSession, 'at'>;
const SESSION_FIELDS = ['id', 'key', 'sent', 'received', 'acknowledged', 'peerAcked'] as const;

/** What a layer that can be resumed from storage exposes (exactly-once's does). */
interface Resumable<Out> {
  session?: Session;
  held: { messages?: Array<QueuedMessage<Out>>; add?(message: QueuedMessage<Out>): void };
}

const failure = (what: string, cause: unknown) =>
  new TetherError('PERSIST_FAILED', `Storage failed (${what}), going on in memory: ${cause}`, { cause });

/**
 * A delivery layer that keeps the client's queue (and, around exactly-once, its session and the
 * messages written and not yet acknowledged) in a store, so that the next page with that store
 * carries on where this one stopped. Around another mode's layer, it sits between that layer and
 * the socket: what the inner layer writes waits for the store (see Writer.gate).
 */
export class PersistedLayer<Out> implements DeliveryLayer<Out> {
  readonly #host: DeliveryHost<Out>;
  readonly #inner: (DeliveryLayer<Out> & Resumable<Out>) | undefined;
  readonly #writer: Writer;
  #loaded: StoredOutbox<Out> | undefined;
  readonly #loadError: unknown;
  #nextKey = HEADER_KEY + 1;
  /** The store key of each message in the queue, in the queue's order. */
  readonly #keys: number[] = [];
  /** The key of each message the inner layer holds (taken out of the queue, or restored). */
  readonly #keyOf = new WeakMap<QueuedMessage<Out>, number>();
  /** Keys stored as held, and keys written since the last store write: to find the released ones. */
  #stored = new Set<number>();
  readonly #written = new Set<number>();
  #header = '';
  #restored = false;
  #watching = false;
  #ungated = false;

  constructor(
    host: DeliveryHost<Out>,
    store: PersistStore,
    loaded: StoredOutbox<Out> | Error,
    mode?: Delivery,
  ) {
    this.#host = host;
    // What the inner layer reports may follow a change no call of ours saw (the resume window
    // expired on a timer: the session reset, its held messages handed back): store it then too.
    const reporting: DeliveryHost<Out> = {
      ...host,
      emit: (type, payload) => {
        this.#writer.touch();
        host.emit(type, payload);
      },
    };
    this.#inner = mode?.layer(reporting) as (DeliveryLayer<Out> & Resumable<Out>) | undefined;
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
    // The client creates its queue after its layer: restoring waits for the end of the constructor,
    // and then the listeners added right after it hear what restoring reports.
    queueMicrotask(() => this.#restore());
  }

  get held() {
    return this.#inner?.held;
  }

  /** One connection, after restoring (its URL carries the stored session id); the inner layer's socket gated. */
  connect(
    url: string,
    options: ConnectionOptions,
    events: ConnectionEvents,
    inner: Connect<Out>,
  ): Connection<Out> {
    this.#restore();
    this.#watchPage();
    const layer = this.#inner;
    // Opened, or a message in (an acknowledgement may follow): the writer starts first.
    const touch = () => this.#writer.touch();
    const touching = (events: ConnectionEvents): ConnectionEvents => ({
      ...events,
      open: () => {
        touch();
        events.open();
      },
      message: (data) => {
        touch();
        events.message(data);
      },
    });
    // Write-ahead for delivery: a message reaches the application only once the received count
    // that covers it is stored (in the write of its task, one per batch), so the next page after a
    // crash never asks the server again for a message this one delivered. In order with the held
    // frames; delivered even if the connection goes meanwhile (the stored count covers it).
    const writer = this.#writer;
    const delivering: ConnectionEvents = {
      ...events,
      message: (data) => (writer.storing ? writer.gate(() => events.message(data)) : events.message(data)),
    };
    const connection = layer
      ? layer.connect(url, options, delivering, (url, options, events) => {
          const connection = inner(url, options, touching(events));
          return { ...connection, socket: gatedSocket(connection.socket, this.#writer, () => this.#ungated) };
        })
      : inner(url, options, touching(events));
    return {
      ...connection,
      send: (message) => {
        touch(); // before the frame, so that it waits for the message's record
        connection.send(message);
        const key = this.#keyOf.get(message);
        if (key !== undefined && layer?.session) {
          this.#written.add(key);
          this.#writer.put(key, record(message.data, message.wire, layer.session.sent));
        }
      },
      close: (code, reason) => {
        // The session ends: what is held back goes now, before our bye and the close frame.
        this.#ungated = true;
        this.#writer.release();
        connection.close(code, reason);
        this.#ungated = false;
      },
      dispose: () => {
        touch();
        connection.dispose();
      },
    };
  }

  ended(): void {
    // Closed: what is held back goes now (messages received are delivered before the client ends).
    this.#writer.release();
    this.#writer.touch();
    this.#inner?.ended();
  }

  /** Held from the first connection after each open() until the client closes (./page.ts). */
  #watchPage(): void {
    if (this.#watching) return;
    this.#watching = flushOnPageHide(
      this.#host.watchers,
      () => this.#writer.flush(),
      () => {
        this.#watching = false;
      },
    );
  }

  /**
   * Puts back what the last page left (its session into the inner layer, its written messages into
   * the layer's held ones, the others at the front of the queue), then starts mirroring the queue.
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
          // Written in the stored session: held by the layer, resent after the resume.
          const message = { data: data as Out, wire, bytes: bytesOf(wire) };
          inner.held.add(message);
          this.#keyOf.set(message, key);
          this.#stored.add(key);
        } else if (this.#putBack(() => push(data as Out, wire))) {
          this.#keys.push(key);
          // No session to resume it in: sent afresh, so stored as never written.
          if (seq !== undefined) this.#writer.put(key, record(data, wire));
        } else {
          this.#writer.put(key, undefined); // refused by the queue's limits, and reported as `drop`
        }
      }
    }
    for (const { data, wire } of newer) this.#putBack(() => queue.push(data, wire));
    this.#writer.touch();
  }

  /**
   * Puts a message back into the queue; false if its limits refused it. A refusal is reported:
   * `drop` by the queue, or with `overflow: 'throw'` its `QUEUE_FULL` (the message in `data`) as an
   * `error`, since nobody called `send()` here to catch it.
   */
  #putBack(push: () => boolean): boolean {
    try {
      return push();
    } catch (error) {
      this.#host.emit('error', error as TetherError);
      return false;
    }
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
