import type {
  Connect,
  Connection,
  ConnectionEvents,
  ConnectionOptions,
  Delivery,
  DeliveryHost,
  DeliveryLayer,
  Held,
  MessageData,
  MessageInfo,
  QueuedMessage,
} from 'tether-ws';
import { TetherError } from 'tether-ws';
import { Inbox } from './inbox.js';
import { flushOnPageHide } from './page.js';
import { bytesOf, FORMAT_VERSION, HEADER_KEY, record, type StoredOutbox } from './record.js';
import type { PersistStore } from './store.js';
import { gatedSocket, Writer } from './writer.js';

const failure = (what: string, cause: unknown) =>
  new TetherError('PERSIST_FAILED', `Storage failed (${what}), going on in memory: ${cause}`, { cause });

/**
 * A delivery layer that keeps the client's queue (and, around exactly-once, its session, the
 * messages written and not yet acknowledged, and the messages received and not yet handled) in a
 * store, so that the next page with that store carries on where this one stopped. It plugs into
 * the client's declared seams: the queue tells it what enters and leaves (`queued`), the inner
 * layer gives and takes its state (`snapshot`/`restore`). Around another mode's layer it sits
 * between that layer and the socket: what the inner layer writes waits for the store (Writer.gate).
 */
export class PersistedLayer<Out> implements DeliveryLayer<Out> {
  readonly #host: DeliveryHost<Out>;
  readonly #inner: DeliveryLayer<Out> | undefined;
  readonly #writer: Writer;
  readonly #inbox: Inbox;
  #loaded: StoredOutbox<Out> | undefined;
  readonly #loadError: unknown;
  #nextKey = HEADER_KEY + 1;
  /** The store key of each message in the queue or held by the inner layer. */
  readonly #keyOf = new WeakMap<QueuedMessage<Out>, number>();
  /** While restoring: the key of the stored message being put back into the queue. */
  #restoring: number | undefined;
  /** Keys stored as held, and keys written since the last store write: to find the released ones. */
  #stored = new Set<number>();
  readonly #written = new Set<number>();
  /** Stored messages not yet put back: they count as queued from the constructor on. */
  #waiting: { length: number; bytes: number } = { length: 0, bytes: 0 };
  #restored = false;
  #watching = false;
  #ungated = false;
  /** `pagehide` came (and no `pageshow` since): the header says so, see StoredHeader.left. */
  #left = false;

  constructor(
    host: DeliveryHost<Out>,
    store: PersistStore,
    loaded: StoredOutbox<Out> | Error,
    mode?: Delivery,
  ) {
    this.#host = host;
    // What the inner layer reports may follow a change no call of ours saw (the resume window
    // expired on a timer: the session reset, its held messages handed back): store it then too.
    this.#inner = mode?.layer({
      ...host,
      emit: (type, payload) => {
        this.#writer.touch();
        host.emit(type, payload);
      },
    });
    const usable = !(loaded instanceof Error) && !loaded.newer;
    this.#loaded = usable ? loaded : undefined;
    this.#loadError = usable
      ? undefined
      : loaded instanceof Error
        ? loaded
        : `a newer format (${loaded.newer})`;
    this.#writer = new Writer(
      usable ? store : undefined,
      (generation) => this.#collect(generation),
      (cause) => host.emit('error', failure('write', cause)),
      (this.#loaded?.written ?? 0) + 1,
    );
    this.#inbox = new Inbox(this.#writer, () => this.#nextKey++);
    const count = (of: 'length' | 'bytes') => (this.#inner?.held?.[of] ?? 0) + this.#waiting[of];
    this.held = {
      get length() {
        return count('length');
      },
      get bytes() {
        return count('bytes');
      },
    };
    if (this.#loaded) {
      this.#nextKey = this.#loaded.nextKey;
      for (const { bytes } of this.#loaded.messages.map(({ wire }) => ({ bytes: bytesOf(wire) }))) {
        this.#waiting.length++;
        this.#waiting.bytes += bytes;
      }
    }
    // Restoring reports (errors, drops): it waits for the end of the constructor, so that the
    // listeners added right after it hear them. What it will put back counts as queued meanwhile.
    queueMicrotask(() => this.#restore());
  }

  /**
   * What the client counts besides its queue: the inner layer's held messages, and the stored
   * ones not yet put back. Defined in both modes, so every message reaches the store through the
   * queue.
   */
  readonly held: Held;

  /** Resolves once what was sent and received before the call is stored (docs/persist.md). */
  flushed(): Promise<void> {
    return this.#writer.flushed();
  }

  queued(message: QueuedMessage<Out>, entered: boolean): void {
    if (entered) {
      const key = this.#restoring ?? this.#nextKey++;
      this.#keyOf.set(message, key);
      if (this.#restoring === undefined) this.#writer.put(key, record(message.data, message.wire));
    } else {
      // Written now (exactly-once keeps it, see send below), evicted or refused: deleted unless kept.
      this.#writer.put(this.#keyOf.get(message) as number, undefined);
    }
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
    const writer = this.#writer;
    // What the last page received and did not hand to the listeners goes first.
    this.#inbox.deliverRestored(events.message);
    // Opened, or a message in (an acknowledgement may follow): the writer starts first.
    const touch = () => writer.touch();
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
    const receiving: ConnectionEvents = {
      ...events,
      message: (data: MessageData, info?: MessageInfo) => this.#inbox.receive(data, info, events.message),
    };
    const connection = layer
      ? layer.connect(url, options, receiving, (url, options, events) => {
          const connection = inner(url, options, touching(events));
          return { ...connection, socket: gatedSocket(connection.socket, writer, () => this.#ungated) };
        })
      : inner(url, options, touching(events));
    return {
      ...connection,
      send: (message) => {
        touch(); // before the frame, so that it waits for the message's record
        connection.send(message);
        const key = this.#keyOf.get(message);
        const session = layer?.snapshot?.().session;
        if (key !== undefined && session) {
          this.#written.add(key);
          writer.put(key, record(message.data, message.wire, session.sent));
        }
      },
      close: (code, reason) => {
        // The session ends: what is held back goes now, before our bye and the close frame.
        this.#ungated = true;
        writer.release();
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
      (going) => {
        if (going) {
          this.#left = true;
          this.#inbox.pause();
          this.#writer.touch();
        }
        this.#writer.hide();
      },
      () => {
        this.#left = false;
        this.#writer.touch();
        this.#writer.show();
        this.#inbox.resume();
      },
      () => {
        this.#watching = false;
      },
    );
  }

  /**
   * Puts back what the last page left (its session and written messages into the inner layer,
   * the others at the front of the queue, what it received and had not handled into the inbox).
   */
  #restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    const host = this.#host;
    const queue = host.queue();
    // Sent before this ran: newer than the stored ones, they go after them.
    const newer: Array<QueuedMessage<Out>> = [];
    for (let message = queue.shift(); message; message = queue.shift()) newer.push(message);
    const loaded = this.#loaded;
    this.#loaded = undefined;
    this.#waiting = { length: 0, bytes: 0 };
    if (this.#loadError) host.emit('error', failure('load', this.#loadError));
    if (loaded) {
      if (loaded.skipped) host.emit('error', failure('read', `${loaded.skipped} records not of this format`));
      for (const [key, value] of loaded.replay) this.#writer.put(key, value);
      const inner = this.#inner;
      let session = inner?.restore && loaded.session;
      const written = loaded.messages.filter(({ seq }) => seq !== undefined);
      const held = written.map(({ data, wire }) => ({ data: data as Out, wire, bytes: bytesOf(wire) }));
      if (session && inner?.restore) {
        const { at: _, ...state } = session;
        if (!inner.restore({ session: state, held })) {
          host.emit('error', failure('read', 'a stored session not valid on the wire (skipped)'));
          session = undefined;
        }
      }
      const orphans: Out[] = [];
      for (const { key, data, wire, seq } of loaded.messages) {
        if (seq !== undefined && !session) {
          // Written in a session that cannot be resumed (not stored, or not valid on the wire):
          // it may have reached the server, so it is reported, never sent again silently.
          orphans.push(data as Out);
          this.#writer.put(key, undefined);
        } else if (seq !== undefined) {
          // Written in the stored session: held by the layer (above), resent after the resume.
          this.#keyOf.set(
            held[written.findIndex((message) => message.key === key)] as QueuedMessage<Out>,
            key,
          );
          this.#stored.add(key);
        } else {
          this.#restoring = key;
          // Refused by the queue's limits (and reported as `drop`): no longer stored.
          if (!this.#putBack(() => queue.push(data as Out, wire))) this.#writer.put(key, undefined);
          this.#restoring = undefined;
        }
      }
      this.#inbox.restore(loaded.inbox, session ? session.id : undefined, !loaded.left);
      if (orphans.length > 0) host.emit('session-lost', { reason: 'not-resumed', undelivered: orphans });
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

  /** At each store write: the header (numbered), and deletions of released messages. */
  #collect(generation: number): void {
    const snapshot = this.#inner?.snapshot?.();
    const session = snapshot && { ...snapshot.session, at: Date.now() };
    this.#writer.put(HEADER_KEY, {
      v: FORMAT_VERSION,
      w: generation,
      ...(session && { session }),
      ...(this.#left && { left: true }),
    });
    if (!snapshot) return;
    const held = new Set(snapshot.held.map((message) => this.#keyOf.get(message) as number));
    for (const key of [...this.#stored, ...this.#written])
      if (!held.has(key)) this.#writer.put(key, undefined);
    this.#stored = held;
    this.#written.clear();
  }
}
