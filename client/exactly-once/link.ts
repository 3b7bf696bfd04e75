import { TetherError } from 'tether-ws';
import type { MessageData, SendData } from '../codec.js';
import type { DeliveryHost, DeliveryLink } from '../delivery.js';
import type { ClientEventMap } from '../events.js';
import type { QueuedMessage } from '../queue.js';
import { decodeFrame, ExactlyOnceSession, encodeMessage, TETHER_PROTOCOL } from './frames.js';
import { Negotiation } from './negotiation.js';
import type { ResolvedExactlyOnce } from './options.js';
import { Unacked } from './unacked.js';

/** Acknowledge after this many messages, or this long after the first unacknowledged one (docs/protocol.md §5). */
const ACK_BATCH = 32;
const ACK_DELAY_MS = 20;
const noop = () => {};
/** Why the link reconnects at once after finding the protocol not spoken (best-effort fallback). */
const NOT_SPOKEN = 'tether.v1 not spoken; going best-effort';

type SessionLost<Out> = ClientEventMap<unknown, Out>['session-lost'];

/**
 * The client's side of the `tether.v1` resume protocol (docs/protocol.md), for
 * `delivery: exactlyOnce()`: negotiation, framing, acknowledgements, resume and loss reports.
 * The client's queue holds messages never written; this link numbers each one as it is written and
 * keeps it (`held`) until the server acknowledges it, resends it after a resume, and reports it
 * when the session is lost.
 */
export class ExactlyOnceLink<Out> implements DeliveryLink<Out> {
  readonly #host: DeliveryHost<Out>;
  readonly #options: ResolvedExactlyOnce;
  /** The session: read and restored by tether-ws/persist, so that the next page resumes it. */
  readonly session = new ExactlyOnceSession();
  readonly #negotiation = new Negotiation();
  /** Written in this session and not yet acknowledged; counted against the client's queue limits. */
  readonly held = new Unacked<Out>();
  /** The socket of the current connection, once it negotiated `tether.v1`. */
  #socket: WebSocket | undefined;
  #cancelAck: (() => void) | undefined;
  /** A full batch's acknowledgement is queued (a microtask): at most one is ever pending. */
  #ackQueued = false;
  /** The application's subprotocols, for a probe. */
  #protocols: string[] = [];
  /** Releases the probe in flight, if any. */
  #releaseProbe: (() => void) | undefined;
  #cancelResumeWindow = noop;
  #stopConnectTimeout = noop;

  constructor(host: DeliveryHost<Out>, options: ResolvedExactlyOnce) {
    this.#host = host;
    this.#options = options;
  }

  /** True while the current connection speaks `tether.v1`: every message then goes through the queue. */
  get framed(): boolean {
    return this.#socket !== undefined;
  }

  /** The URL (with the session id, for load-balancer routing) and subprotocols of a new connection. */
  target(url: string, protocols: string[]): [string, string[]] {
    this.#protocols = protocols;
    const offered = this.#negotiation.offersTether() ? [TETHER_PROTOCOL, ...protocols] : protocols;
    return [this.session.url(url), offered];
  }

  /**
   * The socket opened. Returns true if the link took over (handshake sent, or the connection was
   * dropped because the server does not speak the protocol), false to carry on best-effort.
   */
  opened(socket: WebSocket, stopConnectTimeout: () => void): boolean {
    const speaks = socket.protocol === TETHER_PROTOCOL;
    this.#negotiation.opened(speaks);
    if (speaks) {
      this.#socket = socket;
      // The connect timeout keeps running until `welcome`: a server that never answers is abandoned.
      this.#stopConnectTimeout = stopConnectTimeout;
      socket.send(this.session.hello());
      return true;
    }
    if (this.#options.fallback === 'best-effort') return false;
    const message = this.#negotiation.refused
      ? `The server accepts plain connections but fails every handshake that offers ${TETHER_PROTOCOL}`
      : `The server did not select the ${TETHER_PROTOCOL} subprotocol (got "${socket.protocol}")`;
    this.#unsupported(message);
    return true;
  }

  /**
   * Handles one inbound frame (docs/protocol.md §3–5). Returns the payload of a new application
   * message, or undefined when there is nothing to deliver (a control frame, a duplicate).
   */
  receive(data: MessageData): MessageData | undefined {
    const session = this.session;
    const host = this.#host;
    const frame = decodeFrame(data, host.binaryType);
    // Messages and acks flow once the handshake is done, also while our close handshake runs.
    const open = host.state() !== 'connecting';
    if (!open && frame.type !== 'welcome') {
      // A tether.v1 server answers the hello with a welcome, first. Anything else (a plain echo
      // sends the hello back) means it selected the subprotocol without speaking it.
      const what = frame.type === 'invalid' ? frame.reason : `a ${frame.type} frame`;
      this.#negotiation.unsupported();
      if (this.#options.fallback === 'best-effort') host.restart(NOT_SPOKEN);
      else
        this.#unsupported(
          `The server selected ${TETHER_PROTOCOL} but does not speak it (${what} before any welcome)`,
        );
      return undefined;
    }
    if (frame.type === 'message' && open && frame.seq <= session.acknowledged) {
      // We told this server we had it: a server numbering from below that has lost our session.
      this.#serverLost();
      return undefined;
    }
    if (frame.type === 'message' && open && frame.seq <= session.received + 1) {
      if (frame.seq <= session.received) return undefined; // a resend that crossed our ack
      session.received = frame.seq;
      // A full batch is acknowledged after this message is delivered, so that whatever a listener
      // sends in reply goes out first (latency). One acknowledgement at most is pending: a burst
      // that arrives in one tick (ws in Node) gets one, not one per message past the batch.
      if (++session.unacked >= ACK_BATCH) this.#queueAck();
      else this.#cancelAck ??= host.connection.timeout(() => this.#sendAck(), ACK_DELAY_MS);
      return frame.data;
    }
    if (frame.type === 'ack' && open && frame.seq <= session.sent) {
      session.peerAcked = Math.max(session.peerAcked, frame.seq);
      this.held.release(frame.seq, session.sent);
    } else if (frame.type === 'bye' && open) {
      // The server ended the session (it acknowledged what it got just before): report the rest.
      this.#lose('closed', true);
    } else if (frame.type === 'welcome' && !open && frame.sid === session.id && frame.recv <= session.sent) {
      this.#stopResumeWindow();
      // A resume whose recv is below what this server already acknowledged is no resume: it lost
      // our session (and numbers from 1 again), whatever `resumed` says.
      if ((!frame.resumed || frame.recv < session.peerAcked) && session.active) {
        this.#serverLost();
        return undefined;
      }
      if (frame.resumed) {
        session.peerAcked = frame.recv;
        this.held.release(frame.recv, session.sent);
      }
      // What the server lacks is written again, in order, under its number, before the client
      // writes anything newer.
      const socket = this.#socket as WebSocket;
      let seq = session.sent - this.held.length;
      for (const message of this.held.messages) socket.send(encodeMessage(++seq, message.wire));
      this.#stopConnectTimeout();
      host.ready();
    } else {
      const reason = frame.type === 'invalid' ? frame.reason : `unexpected ${frame.type} frame`;
      // Not final, so reported as 1006 (dropped without a closing handshake), not 1002: the
      // default shouldReconnect would refuse to retry a 1002, and the session is still resumable.
      host.drop(
        `Protocol error: ${reason}`,
        new TetherError('PROTOCOL_ERROR', `Protocol error (${reason}): ${host.url()}`),
        false,
      );
    }
    return undefined;
  }

  /** Writes one queued message under the next number, and keeps it until it is acknowledged. */
  write(socket: WebSocket, message: QueuedMessage<Out>): void {
    this.held.add(message);
    socket.send(encodeMessage(++this.session.sent, message.wire as SendData));
  }

  /** Before our close frame: `bye` lets the server discard the session now rather than after its window. */
  bye(): void {
    if (this.#socket?.readyState === 1) this.#socket.send('x');
  }

  /** The connection is gone. Past the resume window the server has discarded the session: report it then. */
  detached(): void {
    if (this.#negotiation.ended()) this.#probe();
    if (this.#socket && this.session.active && this.#cancelResumeWindow === noop) {
      this.#cancelResumeWindow = this.#host.watchers.timeout(
        () => this.#lose('expired', true),
        this.#options.resumeWindow,
      );
    }
    this.#socket = undefined;
    this.#cancelAck = undefined; // the connection's timers are already released
  }

  /** The client closed: the session ends with it. */
  ended(): void {
    this.#releaseProbe?.();
    this.#negotiation.reset();
    this.#lose('closed', true);
  }

  /**
   * A side connection without `tether.v1` after an attempt that never opened (see Negotiation):
   * it only tells whether the server takes plain connections, and is closed as soon as it opens.
   */
  #probe(): void {
    if (this.#releaseProbe) return; // one at a time
    const negotiation = this.#negotiation;
    let socket: WebSocket;
    try {
      socket = this.#host.createSocket(this.#host.url(), this.#protocols);
    } catch {
      return; // the next attempt will fail the same way, and report it
    }
    const settle = (opened: boolean) => {
      if (opened) negotiation.probeOpened();
      else negotiation.probeFailed();
      release();
    };
    const onOpen = () => settle(true);
    const onFail = () => settle(false);
    socket.addEventListener('open', onOpen);
    socket.addEventListener('error', onFail);
    socket.addEventListener('close', onFail);
    const release = this.#host.watchers.add(() => {
      this.#releaseProbe = undefined;
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('error', onFail);
      socket.removeEventListener('close', onFail);
      closeQuietly(socket);
    });
    this.#releaseProbe = release;
  }

  #queueAck(): void {
    if (this.#ackQueued) return;
    this.#ackQueued = true;
    queueMicrotask(() => {
      this.#ackQueued = false;
      this.#sendAck();
    });
  }

  /** Acknowledges everything received, unless nothing new was (the timer and a full batch may both fire). */
  #sendAck(): void {
    this.#cancelAck?.();
    this.#cancelAck = undefined;
    const session = this.session;
    if (session.unacked === 0 || !this.#socket) return;
    session.unacked = 0;
    session.acknowledged = session.received;
    this.#socket.send(`a${session.received}`);
  }

  /**
   * Our session is gone from this server. Its id is never used again: a stale copy may still live
   * on another server (one that briefly left a load balancer's rotation), and a later reconnect
   * routed there must not resume it. Report, say bye, start over under a new id.
   */
  #serverLost(): void {
    this.#lose('not-resumed', true);
    this.#socket?.send('x');
    this.#host.restart();
  }

  /** `fallback: 'fail'`: the server cannot speak the protocol; stop, without writing another frame. */
  #unsupported(message: string): void {
    this.#host.drop(
      message,
      new TetherError('PROTOCOL_UNSUPPORTED', `${message}: ${this.#host.url()}`),
      true,
    );
  }

  #stopResumeWindow(): void {
    this.#cancelResumeWindow();
    this.#cancelResumeWindow = noop;
  }

  /**
   * The session is over. Messages written but never acknowledged leave the queue and are reported
   * (they may or may not have reached the server's application); unwritten ones stay queued.
   */
  #lose(reason: SessionLost<Out>['reason'], newId: boolean): void {
    const session = this.session;
    this.#stopResumeWindow();
    if (!session.active) {
      // Nothing to report, but a closed session's id must not be resumed by the next open().
      if (reason === 'closed') session.reset(true);
      return;
    }
    const undelivered = this.held.release().map((message) => message.data);
    session.reset(newId);
    // A session the user closed with everything acknowledged lost nothing of ours: no report.
    if (reason !== 'closed' || undelivered.length > 0)
      this.#host.emit('session-lost', { reason, undelivered });
  }
}

/** Lets go of a probe: its late `error` is absorbed (Node's ws would crash without a listener). */
function closeQuietly(socket: WebSocket): void {
  socket.addEventListener('error', noop);
  if (socket.readyState <= 1) socket.close();
}
