import { CLOSE_CODES, TetherError } from 'tether-ws';
import type { CloseInfo } from '../close.js';
import type { MessageData } from '../codec.js';
import type { Connection } from '../connection.js';
import type { WebSocketLike } from '../options.js';
import type { QueuedMessage } from '../queue.js';
import type { Dial, Retry, Transport, TransportListener } from '../transport.js';
import { decodeFrame, encodeMessage, TETHER_PROTOCOL } from './frames.js';
import type { ExactlyOnceMode } from './mode.js';

/** Acknowledge after this many messages, or this long after the first unacknowledged one (docs/protocol.md §5). */
const ACK_BATCH = 32;
const ACK_DELAY_MS = 20;

/**
 * One connection of an exactly-once session: the `tether.v1` handshake (hello, then `welcome`,
 * the connect timeout still running), framing and unframing, acknowledgements, and the resend of
 * what the server lacks after a resume. It wraps the connection it dials and is the client's
 * transport: it says `opened()` only after the welcome. The session itself, and the messages
 * awaiting acknowledgement, belong to the {@link ExactlyOnceMode}, which outlives connections.
 */
export class ExactlyOnceLayer<Out> implements Transport<Out>, TransportListener {
  readonly #mode: ExactlyOnceMode<Out>;
  readonly #up: TransportListener;
  readonly #connection: Connection;
  /** The server selected `tether.v1`: every message is framed (false after a best-effort fallback). */
  #framed = false;
  /** The server's `welcome` arrived: messages and acks flow (also while our close handshake runs). */
  #welcomed = false;
  /** The seq of the next held message to write again after a resume; Infinity once all were. */
  #resend = Number.POSITIVE_INFINITY;
  #cancelAck: (() => void) | undefined;

  constructor(mode: ExactlyOnceMode<Out>, dial: Dial, up: TransportListener) {
    this.#mode = mode;
    this.#up = up;
    const session = mode.session;
    this.#connection = dial(this, {
      // The session id in the URL lets a load balancer route a session to its server.
      target: (url, protocols) => [session.url(url), [TETHER_PROTOCOL, ...protocols]],
      // Binary frames carry a header that must be read synchronously.
      binaryType: 'arraybuffer',
      handshake: () => this.#hello(),
    });
  }

  get url(): string {
    return this.#connection.url;
  }

  get socket(): WebSocketLike | undefined {
    return this.#connection.socket;
  }

  start(): void {
    this.#connection.start();
  }

  /** No new message goes out before the resend after a resume is complete: order is per session. */
  writable(): boolean {
    return this.#resend === Number.POSITIVE_INFINITY && this.#connection.writable();
  }

  /** Frames one message with the next seq, and holds it until the server acknowledges it. */
  write(message: QueuedMessage<Out>): void {
    const connection = this.#connection;
    if (!this.#framed) {
      connection.write(message);
      return;
    }
    const seq = ++this.#mode.session.sent;
    this.#mode.held.add(seq, message);
    connection.send(encodeMessage(seq, message.wire));
  }

  /** `bye` before our close frame lets the server discard the session now rather than after its window. */
  close(code: number, reason: string): void {
    if (this.#framed && this.socket?.readyState === 1) this.#connection.send('x');
    this.#connection.close(code, reason);
  }

  probe(): void {
    this.#connection.probe();
  }

  /** After the welcome: what the server lacks is written again, in order, then the client's queue. */
  opened(): void {
    this.#writeHeld();
    this.#up.opened();
  }

  drained(): void {
    if (this.#writeHeld()) this.#up.drained();
  }

  failed(error: TetherError): void {
    this.#up.failed(error);
  }

  lost(close: CloseInfo, error?: TetherError, retry?: Retry): void {
    if (this.#framed) this.#mode.detached();
    this.#up.lost(close, error, retry);
  }

  /**
   * Handles one inbound frame (docs/protocol.md §3–5): passes on the payload of a new application
   * message, and nothing for a control frame or a duplicate.
   */
  received(data: MessageData): void {
    if (!this.#framed) {
      this.#up.received(data);
      return;
    }
    const mode = this.#mode;
    const session = mode.session;
    const connection = this.#connection;
    const frame = decodeFrame(data, mode.host.binaryType);
    const welcomed = this.#welcomed;
    if (frame.type === 'message' && welcomed && frame.seq <= session.received + 1) {
      if (frame.seq <= session.received) return; // a resend that crossed our ack
      session.received = frame.seq;
      // A full batch is acknowledged after this message is delivered, so that whatever a listener
      // sends in reply goes out first (latency); a connection gone by then makes it a no-op.
      if (++session.unacked >= ACK_BATCH) queueMicrotask(() => this.#sendAck());
      else this.#cancelAck ??= connection.timeout(() => this.#sendAck(), ACK_DELAY_MS);
      this.#up.received(frame.data);
    } else if (frame.type === 'ack' && welcomed && frame.seq <= session.sent) {
      mode.held.ack(frame.seq);
    } else if (frame.type === 'bye' && welcomed) {
      // The server ended the session (it acknowledged what it got just before): report the rest.
      mode.lose('closed', true);
    } else if (
      frame.type === 'welcome' &&
      !welcomed &&
      frame.sid === session.id &&
      frame.recv <= session.sent
    ) {
      mode.connected();
      if (!frame.resumed && session.active) {
        // Our session is gone from this server. Its id is never used again: a stale copy may still
        // live on another server (one that briefly left a load balancer's rotation), and a later
        // reconnect routed there must not resume it. Report, say bye, start over under a new id.
        mode.lose('not-resumed', true);
        connection.send('x');
        connection.end(
          { code: CLOSE_CODES.NORMAL, reason: 'Starting a new session', wasClean: true },
          undefined,
          'now',
        );
        return;
      }
      if (frame.resumed) mode.held.ack(frame.recv);
      this.#welcomed = true;
      this.#resend = mode.held.first;
      connection.ready();
    } else {
      const reason = frame.type === 'invalid' ? frame.reason : `unexpected ${frame.type} frame`;
      // Reported as 1006 (dropped without a closing handshake), not 1002: the default
      // shouldReconnect would refuse to retry a 1002, and the session is still resumable.
      connection.end(
        { code: CLOSE_CODES.ABNORMAL, reason: `Protocol error: ${reason}`, wasClean: false },
        new TetherError('PROTOCOL_ERROR', `Protocol error (${reason}): ${connection.url}`),
      );
    }
  }

  /** The socket opened: hello if the server speaks `tether.v1`, else fall back or fail. */
  #hello(): void {
    const connection = this.#connection;
    const socket = connection.socket as WebSocketLike;
    if (socket.protocol === TETHER_PROTOCOL) {
      this.#framed = true;
      connection.send(this.#mode.session.hello());
      return;
    }
    if (this.#mode.options.fallback === 'best-effort') {
      socket.binaryType = this.#mode.host.binaryType; // unframed: the user's binaryType again
      connection.ready();
      return;
    }
    const message = `The server did not select the ${TETHER_PROTOCOL} subprotocol (got "${socket.protocol}")`;
    connection.end(
      { code: CLOSE_CODES.PROTOCOL_ERROR, reason: message, wasClean: false },
      new TetherError('PROTOCOL_UNSUPPORTED', `${message}: ${connection.url}`),
      'never',
    );
  }

  /** Writes held messages again while there is room; true once all are written. */
  #writeHeld(): boolean {
    const held = this.#mode.held;
    const connection = this.#connection;
    const sent = this.#mode.session.sent;
    while (this.#resend <= sent && connection.writable()) {
      const seq = Math.max(this.#resend, held.first);
      const message = held.get(seq);
      if (message) connection.send(encodeMessage(seq, message.wire));
      this.#resend = seq + 1;
    }
    if (this.#resend > sent) this.#resend = Number.POSITIVE_INFINITY;
    return this.#resend === Number.POSITIVE_INFINITY;
  }

  #sendAck(): void {
    const session = this.#mode.session;
    this.#cancelAck?.();
    this.#cancelAck = undefined;
    session.unacked = 0;
    this.#connection.send(`a${session.received}`);
  }
}
