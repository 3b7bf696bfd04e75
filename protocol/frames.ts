/**
 * The tether.v1 frame codec shared by both sides (docs/protocol.md §3): every encoder, the binary
 * header (written by encodeMessage, read by readBinaryHeader), sequence-number parsing, and the
 * decoder of the text frames a server sends. Pure functions over strings, ArrayBuffers and their
 * views (a Node Buffer is one), so the browser bundles and the Node adapter run the same code. What each side receives stays with that side: the adapter parses
 * client frames straight from ws's Buffers (adapter/frames.ts), the client turns binary payloads
 * into Blobs when asked (client/exactly-once/frames.ts).
 */
import {
  ACK,
  BINARY_HEADER_BYTES,
  BINARY_MESSAGE,
  BYE,
  HELLO,
  MAX_SEQ,
  MESSAGE,
  PROTOCOL_VERSION,
  WELCOME,
} from './constants.js';

/** A text frame sent by a server, decoded by {@link decodeServerText}, or why it is none. */
export type ServerTextFrame =
  | { type: 'message'; seq: number; data: string }
  | { type: 'ack'; seq: number }
  | { type: 'welcome'; sid: string; recv: number; resumed: boolean }
  | { type: 'bye' }
  | { type: 'invalid'; reason: string };

/** Decimal, no sign, no leading zeros, at most {@link MAX_SEQ}; anything else is not a sequence number. */
export function parseSeq(text: string): number | undefined {
  const seq = Number(text);
  return /^(0|[1-9]\d{0,9})$/.test(text) && seq <= MAX_SEQ ? seq : undefined;
}

/** `h{"v":1,"sid":…,"recv":…,"key":…}`; without `key` for a keyless client. */
export function encodeHello(sid: string, recv: number, key?: string): string {
  return HELLO + JSON.stringify({ v: PROTOCOL_VERSION, sid, recv, key });
}

/** `w{"v":1,"sid":…,"recv":…,"resumed":…,"window":…}`. */
export function encodeWelcome(welcome: {
  sid: string;
  recv: number;
  resumed: boolean;
  window: number;
}): string {
  const { sid, recv, resumed, window } = welcome;
  return WELCOME + JSON.stringify({ v: PROTOCOL_VERSION, sid, recv, resumed, window });
}

/**
 * A message frame: `m<seq>:<text>` for text; for binary, the 5-byte header (`0x6D`, then the seq as
 * uint32 big-endian) and the payload, copied into one new buffer (so later changes to `payload` do
 * not leak into resends).
 */
export function encodeMessage(seq: number, payload: string): string;
export function encodeMessage(
  seq: number,
  payload: ArrayBufferView | ArrayBufferLike,
): Uint8Array<ArrayBuffer>;
export function encodeMessage(
  seq: number,
  payload: string | ArrayBufferView | ArrayBufferLike,
): string | Uint8Array<ArrayBuffer>;
export function encodeMessage(
  seq: number,
  payload: string | ArrayBufferView | ArrayBufferLike,
): string | Uint8Array<ArrayBuffer> {
  if (typeof payload === 'string') return `${MESSAGE}${seq}:${payload}`;
  const frame = new Uint8Array(BINARY_HEADER_BYTES + payload.byteLength);
  frame[0] = BINARY_MESSAGE;
  new DataView(frame.buffer).setUint32(1, seq);
  frame.set(
    ArrayBuffer.isView(payload)
      ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
      : new Uint8Array(payload),
    BINARY_HEADER_BYTES,
  );
  return frame;
}

/** `a<seq>`. */
export function encodeAck(seq: number): string {
  return ACK + seq;
}

/**
 * The seq in the binary message header at the start of `frame`, or `undefined` if it has none (too
 * short, or another first byte). Seq 0 is returned as 0: whether it is allowed is the caller's rule.
 */
export function readBinaryHeader(frame: DataView): number | undefined {
  if (frame.byteLength >= BINARY_HEADER_BYTES && frame.getUint8(0) === BINARY_MESSAGE)
    return frame.getUint32(1);
  return undefined;
}

/** Decodes a text frame from a server. */
export function decodeServerText(text: string): ServerTextFrame {
  const body = text.slice(1);
  if (text[0] === MESSAGE) {
    const colon = body.indexOf(':');
    const seq = colon > 0 ? parseSeq(body.slice(0, colon)) : undefined;
    if (seq) return { type: 'message', seq, data: body.slice(colon + 1) };
  } else if (text[0] === ACK) {
    const seq = parseSeq(body);
    if (seq !== undefined) return { type: 'ack', seq };
  } else if (text === BYE) {
    return { type: 'bye' };
  } else if (text[0] === WELCOME) {
    try {
      const { v, sid, recv, resumed } = JSON.parse(body);
      if (
        v === PROTOCOL_VERSION &&
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
  return { type: 'invalid', reason: `unexpected text frame ${JSON.stringify(text.slice(0, 32))}` };
}
