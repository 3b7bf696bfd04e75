import type { MessageData, SendData } from '../codec.js';
import type { SocketBinaryType } from '../options.js';

/**
 * Frames and session state of the `tether.v1` resume protocol (docs/protocol.md), used when
 * `delivery` is `exactlyOnce()`. Pure helpers: the client owns sockets and timers.
 */
export const TETHER_PROTOCOL = 'tether.v1';
/** Query parameter carrying the session id, so a load balancer can route a session to its server. */
export const SESSION_PARAM = 'tether_sid';
/** First byte of a binary message frame (`m`), followed by the seq as uint32 big-endian. */
const BINARY_MESSAGE = 0x6d;
const HEADER_BYTES = 5;
const MAX_SEQ = 0xffff_ffff;

export type Frame =
  | { type: 'message'; seq: number; data: MessageData }
  | { type: 'ack'; seq: number }
  | { type: 'welcome'; sid: string; recv: number; resumed: boolean }
  | { type: 'bye' }
  | { type: 'invalid'; reason: string };

/** Decimal, no sign, no leading zeros, at most uint32; anything else is not a sequence number. */
function parseSeq(text: string): number | undefined {
  const seq = /^(0|[1-9]\d{0,9})$/.test(text) ? Number(text) : Number.NaN;
  return seq <= MAX_SEQ ? seq : undefined;
}

/** Wraps one application message in its frame: `m<seq>:<text>`, or a 5-byte header before binary. */
export function encodeMessage(seq: number, wire: SendData): SendData {
  if (typeof wire === 'string') return `m${seq}:${wire}`;
  const header = new Uint8Array(HEADER_BYTES);
  header[0] = BINARY_MESSAGE;
  new DataView(header.buffer).setUint32(1, seq);
  if (typeof Blob !== 'undefined' && wire instanceof Blob) return new Blob([header, wire]);
  const body = ArrayBuffer.isView(wire)
    ? new Uint8Array(wire.buffer, wire.byteOffset, wire.byteLength)
    : new Uint8Array(wire as ArrayBufferLike);
  const frame = new Uint8Array(HEADER_BYTES + body.byteLength);
  frame.set(header);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * Parses a frame from the server. Binary frames arrive as ArrayBuffer (the socket's binaryType is
 * forced while framed); their payload is handed on as a Blob when the user asked for blobs.
 */
export function decodeFrame(data: MessageData, binaryType: SocketBinaryType): Frame {
  if (typeof data === 'string') {
    const body = data.slice(1);
    if (data[0] === 'm') {
      const colon = body.indexOf(':');
      const seq = colon > 0 ? parseSeq(body.slice(0, colon)) : undefined;
      if (seq) return { type: 'message', seq, data: body.slice(colon + 1) };
    } else if (data[0] === 'a') {
      const seq = parseSeq(body);
      if (seq !== undefined) return { type: 'ack', seq };
    } else if (data === 'x') {
      return { type: 'bye' };
    } else if (data[0] === 'w') {
      try {
        const { v, sid, recv, resumed } = JSON.parse(body);
        if (
          v === 1 &&
          typeof sid === 'string' &&
          parseSeq(String(recv)) !== undefined &&
          typeof resumed === 'boolean'
        ) {
          return { type: 'welcome', sid, recv, resumed };
        }
      } catch {
        // Reported below as an invalid frame.
      }
    }
    return { type: 'invalid', reason: `unexpected text frame ${JSON.stringify(data.slice(0, 32))}` };
  }
  if (data instanceof ArrayBuffer && data.byteLength >= HEADER_BYTES) {
    const view = new DataView(data);
    const seq = view.getUint32(1);
    if (view.getUint8(0) === BINARY_MESSAGE && seq) {
      const payload = data.slice(HEADER_BYTES);
      return { type: 'message', seq, data: binaryType === 'blob' ? new Blob([payload]) : payload };
    }
  }
  return { type: 'invalid', reason: 'unexpected binary frame' };
}

/** 22 random base64url characters (128 bits): session ids and session keys. */
function newSessionId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
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
    return `h${JSON.stringify({ v: 1, sid: this.id, recv: this.received, key: this.key })}`;
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
