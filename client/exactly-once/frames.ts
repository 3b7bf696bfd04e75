import { BINARY_HEADER_BYTES, SESSION_PARAM } from '../../protocol/constants.js';
import {
  decodeServerText,
  encodeMessage as encodeFrame,
  encodeHello,
  readBinaryHeader,
  type ServerTextFrame,
} from '../../protocol/frames.js';
import type { MessageData, SendData } from '../codec.js';
import type { SocketBinaryType } from '../options.js';

/**
 * The client's side of the `tether.v1` frames (docs/protocol.md), used when `delivery` is
 * `exactlyOnce()`: the codec is protocol/frames.ts; what is the browser's is here (Blob payloads,
 * the socket's binaryType) and the session counters. Pure helpers: the client owns sockets and timers.
 */
export { SESSION_PARAM, TETHER_PROTOCOL } from '../../protocol/constants.js';

export type Frame =
  | Exclude<ServerTextFrame, { type: 'message' }>
  | { type: 'message'; seq: number; data: MessageData };

/** Wraps one application message in its frame: `m<seq>:<text>`, or a 5-byte header before binary. */
export function encodeMessage(seq: number, wire: SendData): SendData {
  // A Blob is framed as a Blob (no copy here): the header alone is the frame of an empty payload.
  if (typeof Blob !== 'undefined' && wire instanceof Blob)
    return new Blob([encodeFrame(seq, new Uint8Array()), wire]);
  return encodeFrame(seq, wire as Exclude<SendData, Blob>);
}

/**
 * Parses a frame from the server. Binary frames arrive as ArrayBuffer (the socket's binaryType is
 * forced while framed); their payload is handed on as a Blob when the user asked for blobs.
 */
export function decodeFrame(data: MessageData, binaryType: SocketBinaryType): Frame {
  if (typeof data === 'string') return decodeServerText(data);
  const seq = data instanceof ArrayBuffer ? readBinaryHeader(new DataView(data)) : undefined;
  if (seq) {
    const payload = (data as ArrayBuffer).slice(BINARY_HEADER_BYTES);
    return { type: 'message', seq, data: binaryType === 'blob' ? new Blob([payload]) : payload };
  }
  return { type: 'invalid', reason: 'unexpected binary frame' };
}

/** 22 random base64url characters (128 bits): session ids and session keys. */
function newSessionId(): string {
  return btoa(String.fromCharCode(...globalThis.crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .slice(0, 22); // 16 bytes: 22 base64 characters, then "==" of padding
}

/** Sequence counters of one exactly-once session; a new session starts over with a new id. */
export class ExactlyOnceSession {
  id = newSessionId();
  /**
   * The session's secret: sent only inside the hello, never in the URL, so that whoever saw the
   * URL (a proxy's access log) cannot resume the session (docs/protocol.md §4).
   */
  key = newSessionId();
  /** Highest seq assigned to an outbound message. */
  sent = 0;
  /** Highest seq received and delivered. */
  received = 0;
  /** Highest seq we told the server we received (an ack frame or the hello's recv). */
  acknowledged = 0;
  /** Highest seq of ours the server acknowledged (an ack frame or a resumed welcome's recv). */
  peerAcked = 0;
  /** Messages delivered since our last acknowledgement. */
  unacked = 0;

  /** True once anything was sent or received: only then can something be lost. */
  get active(): boolean {
    return this.sent > 0 || this.received > 0;
  }

  /** The URL with this session's id, for routing by a load balancer. */
  url(base: string): string {
    const url = new URL(base);
    url.searchParams.set(SESSION_PARAM, this.id);
    return url.href;
  }

  hello(): string {
    this.unacked = 0; // the hello's `recv` acknowledges everything received so far
    this.acknowledged = this.received;
    return encodeHello(this.id, this.received, this.key);
  }

  /** Starts over: counters at 0, and a new id unless the server already holds a new session under this one. */
  reset(newId: boolean): void {
    this.sent = 0;
    this.received = 0;
    this.unacked = 0;
    this.acknowledged = 0;
    this.peerAcked = 0;
    if (newId) {
      this.id = newSessionId();
      this.key = newSessionId();
    }
  }
}
