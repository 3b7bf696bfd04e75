import { TetherError } from 'tether-ws';
import { KEY_PATTERN, MAX_SEQ, SID_PATTERN } from '../../protocol/constants.js';
import type { MessageData, SendData } from '../codec.js';
import type { Connect, Connection, ConnectionEvents, ConnectionOptions } from '../connection.js';
import type { DeliveryHost, DeliveryLayer, DeliverySnapshot } from '../delivery.js';
import type { ClientEventMap } from '../events.js';
import { decodeFrame, ExactlyOnceSession, encodeMessage, TETHER_PROTOCOL } from './frames.js';
import { Negotiation } from './negotiation.js';
import type { ResolvedExactlyOnce } from './options.js';
import { openProbe } from './probe.js';
import { Unacked } from './unacked.js';

/** Acknowledge after this many messages, or this long after the first unacknowledged one (docs/protocol.md §5). */
const ACK_BATCH = 32;
const ACK_DELAY_MS = 20;
const noop = () => {};
/** Why the layer reconnects at once after finding the protocol not spoken (best-effort fallback). */
const NOT_SPOKEN = 'tether.v1 not spoken; going best-effort';
/** The verdict on a server that takes plain connections and fails every handshake offering tether.v1. */
const REFUSED =
  'The server takes plain connections but fails every handshake offering tether.v1 (it sent no subprotocol): no tether-ws/server at this URL';

type SessionLost<Out> = ClientEventMap<unknown, Out>['session-lost'];

/**
 * The client's side of the `tether.v1` resume protocol (docs/protocol.md), for
 * `delivery: exactlyOnce()`: a layer around each connection the client opens. It offers the
 * subprotocol, says `open` only after the server's welcome, numbers and frames what is written,
 * unframes what arrives, acknowledges, resumes, and reports what a lost session took with it.
 * The client's queue holds messages never written; this layer keeps each written one (`held`)
 * until the server acknowledges it, resends it after a resume, and reports it when the session is
 * lost. The session outlives connections: it ends with the client, or when the server loses it.
 */
export class ExactlyOnceLayer<Out> implements DeliveryLayer<Out> {
  readonly #host: DeliveryHost<Out>;
  readonly #options: ResolvedExactlyOnce;
  readonly session = new ExactlyOnceSession();
  readonly #negotiation = new Negotiation();
  /** Written in this session and not yet acknowledged; counted against the client's queue limits. */
  readonly held = new Unacked<Out>();
  /** The URL of the current attempt as the client resolved it (for messages and probes). */
  #url = '';
  /** The client's options, as the current attempt got them (before the layer's changes). */
  #client = {} as ConnectionOptions;
  /** The socket of the current connection, once it negotiated `tether.v1`. */
  #socket: WebSocket | undefined;
  #cancelAck: (() => void) | undefined;
  /** A full batch's acknowledgement is queued (a microtask): at most one is ever pending. */
  #ackQueued = false;
  /** Releases the probe in flight, if any. */
  #releaseProbe: (() => void) | undefined;
  #cancelResumeWindow = noop;
  /**
   * Set once `close()` said bye on this connection: while it waits for the server's acknowledgement,
   * the function that sends the close frame; then a no-op. A message arriving after bye is in the
   * server's report, not for our listeners.
   */
  #settled: (() => void) | undefined;

  constructor(host: DeliveryHost<Out>, options: ResolvedExactlyOnce) {
    this.#host = host;
    this.#options = options;
  }

  /**
   * Opens one connection through `inner`: with the session id in the URL (for load-balancer
   * routing), `tether.v1` offered first, binary frames read as ArrayBuffer (their header is read
   * synchronously). What the client gets is the same connection seen through the protocol.
   */
  connect(
    url: string,
    options: ConnectionOptions,
    events: ConnectionEvents,
    inner: Connect<Out>,
  ): Connection<Out> {
    this.#url = url;
    this.#client = options;
    const { protocols } = options;
    const offered = this.#negotiation.offersTether() ? [TETHER_PROTOCOL, ...protocols] : protocols;
    /** The handshake is done (or our closing handshake runs): messages and acks flow. */
    let flowing = false;
    const welcomed = () => {
      flowing = true;
      events.open();
    };
    const connection = inner(
      this.session.url(url),
      { ...options, protocols: offered, binaryType: 'arraybuffer' },
      {
        ...events,
        open: () => this.#opened(connection.socket, events),
        message: (data) => {
          const { session } = this;
          const framed = this.#socket;
          const payload = framed ? this.#receive(data, flowing, welcomed) : data;
          // A new message's seq is the session's `received` now.
          if (payload !== undefined)
            events.message(
              payload,
              framed && { seq: session.received, sessionId: session.id, redelivered: false },
            );
        },
      },
    );
    return {
      ...connection,
      send: (message) => {
        const socket = this.#socket;
        if (!socket) return connection.send(message);
        // Numbered in order and kept until the server acknowledges it.
        this.held.add(message);
        socket.send(encodeMessage(++this.session.sent, message.wire as SendData));
      },
      close: (code, reason) => {
        const socket = this.#socket;
        const close = () => {
          this.#settled = noop;
          connection.close(code, reason);
        };
        // Our acknowledgement, then `bye`: the server acknowledges what it received and discards
        // the session now rather than after its window (docs/protocol.md, "Ending a session").
        this.#sendAck();
        if (socket?.readyState === 1) {
          socket.send('x');
          this.#settled = close;
        }
        // The close frame waits (a browser drops what arrives once it is sent) until the server
        // acknowledged all we wrote, or `closeTimeout` passed: only what is truly unacknowledged
        // is then reported. A server that closes first ends the wait too (and this connection).
        if (this.#settled === close && flowing && this.held.length)
          this.#host.watchers.timeout(() => this.#settled === close && close(), options.closeTimeout);
        else close();
        flowing = true;
      },
      dispose: () => {
        connection.dispose();
        this.#detached();
      },
    };
  }

  /**
   * The socket opened: send the hello if it speaks `tether.v1` (`open` waits for the welcome), or
   * carry on best-effort, or stop.
   */
  #opened(socket: WebSocket, events: ConnectionEvents): void {
    const speaks = socket.protocol === TETHER_PROTOCOL;
    this.#negotiation.opened(speaks);
    if (speaks) {
      this.#socket = socket;
      socket.send(this.session.hello());
    } else if (this.#options.fallback === 'best-effort') {
      events.open();
    } else {
      this.#unsupported(
        this.#negotiation.refused
          ? REFUSED
          : `The server did not select the ${TETHER_PROTOCOL} subprotocol (got "${socket.protocol}")`,
      );
    }
  }

  /**
   * Handles one inbound frame (docs/protocol.md §3–5). Returns the payload of a new application
   * message, or undefined when there is nothing to deliver (a control frame, a duplicate).
   */
  #receive(data: MessageData, open: boolean, welcomed: () => void): MessageData | undefined {
    const session = this.session;
    const host = this.#host;
    const frame = decodeFrame(data, this.#client.binaryType);
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
    // From here on the handshake is done, or this is the welcome that completes it.
    if (frame.type === 'message' && this.#settled) return undefined;
    if (frame.type === 'message' && frame.seq <= session.acknowledged) {
      // We told this server we had it: a server numbering from below that has lost our session.
      this.#serverLost();
      return undefined;
    }
    if (frame.type === 'message' && frame.seq <= session.received + 1) {
      if (frame.seq <= session.received) return undefined; // a resend that crossed our ack
      session.received = frame.seq;
      // A full batch is acknowledged after this message is delivered, so that whatever a listener
      // sends in reply goes out first (latency). One acknowledgement at most is pending: a burst
      // that arrives in one tick (ws in Node) gets one, not one per message past the batch.
      if (++session.unacked >= ACK_BATCH) this.#queueAck();
      else this.#cancelAck ??= host.watchers.timeout(() => this.#sendAck(), ACK_DELAY_MS);
      return frame.data;
    }
    if (frame.type === 'ack' && frame.seq <= session.sent) {
      session.peerAcked = Math.max(session.peerAcked, frame.seq);
      this.held.release(frame.seq, session.sent);
      if (!this.held.length) this.#settled?.();
    } else if (frame.type === 'bye') {
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
      welcomed();
    } else {
      const reason = frame.type === 'invalid' ? frame.reason : `unexpected ${frame.type} frame`;
      // Not final, so reported as 1006 (dropped without a closing handshake), not 1002: the
      // default shouldReconnect would refuse to retry a 1002, and the session is still resumable.
      host.drop(
        `Protocol error: ${reason}`,
        new TetherError('PROTOCOL_ERROR', `Protocol error (${reason}): ${this.#url}`),
        false,
      );
    }
    return undefined;
  }

  /** The connection is gone. Past the resume window the server has discarded the session: report it then. */
  #detached(): void {
    if (this.#negotiation.ended()) this.#probe();
    if (this.#socket && this.session.active && this.#cancelResumeWindow === noop) {
      this.#cancelResumeWindow = this.#host.watchers.timeout(
        () => this.#lose('expired', true),
        this.#options.resumeWindow,
      );
    }
    this.#socket = undefined;
    this.#settled = undefined;
    this.#cancelAck?.();
    this.#cancelAck = undefined;
  }

  /** The session and what it holds, for tether-ws/persist (DeliveryLayer.snapshot). */
  snapshot(): DeliverySnapshot<Out> {
    const { id, key, sent, received, acknowledged, peerAcked } = this.session;
    return { session: { id, key, sent, received, acknowledged, peerAcked }, held: this.held.messages };
  }

  /**
   * Resumes a stored session: its counters, and its written messages held for resending. Refuses
   * one that cannot be valid on the wire (docs/protocol.md §1, §4), whose hello the server would
   * have to refuse with a final 1002.
   */
  restore({ session, held }: DeliverySnapshot<Out>): boolean {
    const { id, key, sent, received, acknowledged, peerAcked } = session;
    const valid =
      SID_PATTERN.test(id) &&
      KEY_PATTERN.test(key) &&
      [sent, received, acknowledged, peerAcked].every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_SEQ) &&
      acknowledged <= received &&
      peerAcked <= sent &&
      held.length <= sent - peerAcked;
    if (valid) {
      Object.assign(this.session, session);
      for (const message of held) this.held.add(message);
    }
    return valid;
  }

  /** The client closed: the session ends with it. */
  ended(): void {
    this.#releaseProbe?.();
    this.#negotiation.reset();
    this.#lose('closed', true);
  }

  /** One probe at a time (client/exactly-once/probe.ts). */
  #probe(): void {
    if (this.#releaseProbe) return;
    const release = openProbe(this.#url, this.#client, this.#host.watchers, (opened) => {
      this.#releaseProbe?.();
      // The verdict comes here, between attempts: with 'fail' the client stops now (open() rejects
      // with the reason); with 'best-effort' the next attempt no longer offers tether.v1.
      if (this.#negotiation.probed(opened) && this.#options.fallback === 'fail') this.#unsupported(REFUSED);
    });
    if (release)
      this.#releaseProbe = () => {
        this.#releaseProbe = undefined;
        release();
      };
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
    this.#host.drop(message, new TetherError('PROTOCOL_UNSUPPORTED', `${message}: ${this.#url}`), true);
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
