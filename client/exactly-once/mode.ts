import type { ClientEventMap } from '../events.js';
import type { HeldMessages, QueuedMessage } from '../queue.js';
import type { DeliveryHost, DeliveryMode, Dial, Transport, TransportListener } from '../transport.js';
import { ExactlyOnceSession } from './frames.js';
import { ExactlyOnceLayer } from './layer.js';
import type { ResolvedExactlyOnce } from './options.js';

type SessionLost<Out> = ClientEventMap<unknown, Out>['session-lost'];

const noop = () => {};

/**
 * Messages written in this session and not yet acknowledged, by seq. Seqs are given in write order,
 * so the held ones are consecutive from `first`; a `Map` keeps taking the oldest O(1).
 */
export class Unacked<Out> implements HeldMessages {
  readonly #items = new Map<number, QueuedMessage<Out>>();
  /** The seq of the oldest message held (or of the next one written, when none is). */
  first = 1;
  bytes = 0;

  get length(): number {
    return this.#items.size;
  }

  add(seq: number, message: QueuedMessage<Out>): void {
    if (this.#items.size === 0) this.first = seq;
    this.#items.set(seq, message);
    this.bytes += message.bytes as number;
  }

  get(seq: number): QueuedMessage<Out> | undefined {
    return this.#items.get(seq);
  }

  /** Releases every message up to `seq` (acknowledgements are cumulative). */
  ack(seq: number): void {
    for (let message = this.#items.get(this.first); message && this.first <= seq; ) {
      this.bytes -= message.bytes as number;
      this.#items.delete(this.first++);
      message = this.#items.get(this.first);
    }
  }

  /** Removes and returns every held message, oldest first (the session that numbered them is over). */
  take(): Out[] {
    const taken = [...this.#items.values()].map((message) => message.data);
    this.#items.clear();
    this.bytes = 0;
    this.first = 1;
    return taken;
  }
}

/**
 * Exactly-once delivery within one client: the session (its id and counters), the messages
 * written and not yet acknowledged, the resume window while disconnected, and the `session-lost`
 * report. Each connection attempt gets an {@link ExactlyOnceLayer} over this state.
 */
export class ExactlyOnceMode<Out> implements DeliveryMode<Out> {
  readonly session = new ExactlyOnceSession();
  readonly held = new Unacked<Out>();
  readonly host: DeliveryHost;
  readonly options: ResolvedExactlyOnce;
  /** Cancels the resume window while one runs (the session is disconnected and resumable). */
  #cancelResumeWindow = noop;

  constructor(host: DeliveryHost, options: ResolvedExactlyOnce) {
    this.host = host;
    this.options = options;
  }

  connect(dial: Dial, listener: TransportListener): Transport<Out> {
    return new ExactlyOnceLayer(this, dial, listener);
  }

  /** The client closed: the session ends with it. */
  end(): void {
    this.lose('closed', true);
  }

  /** A connection of this session is gone. Past the resume window the server has discarded the session: report it then. */
  detached(): void {
    if (this.session.active && this.#cancelResumeWindow === noop) {
      const timer = setTimeout(() => this.lose('expired', true), this.options.resumeWindow);
      this.#cancelResumeWindow = () => clearTimeout(timer);
    }
  }

  /** The server answered the hello: the session is connected again. */
  connected(): void {
    this.#stopResumeWindow();
  }

  /**
   * The session is over. Messages written but never acknowledged are reported (they may or may
   * not have reached the server's application); unwritten ones stay in the client's queue.
   */
  lose(reason: SessionLost<Out>['reason'], newId: boolean): void {
    const session = this.session;
    this.#stopResumeWindow();
    if (!session.active) {
      // Nothing to report, but a closed session's id must not be resumed by the next open().
      if (reason === 'closed') session.reset(true);
      return;
    }
    const undelivered = this.held.take();
    session.reset(newId);
    // A session the user closed with everything acknowledged lost nothing of ours: no report.
    if (reason !== 'closed' || undelivered.length > 0)
      this.host.emit('session-lost', { reason, undelivered });
  }

  #stopResumeWindow(): void {
    this.#cancelResumeWindow();
    this.#cancelResumeWindow = noop;
  }
}
