/**
 * The adapter's side of the tether.v1 frames (docs/protocol.md §3): parsing what clients send
 * (hello, message, ack, bye, ping/pong) straight from ws's Buffers, without decoding more of a frame
 * than its kind needs, and binary message frames as Buffers. The constants and the shared codec are
 * protocol/ (constants.ts, frames.ts); this file re-exports what the adapter's other modules use.
 */
import {
  ACK,
  BINARY_HEADER_BYTES,
  BYE,
  HELLO,
  KEY_PATTERN,
  MAX_SEQ,
  MAX_SEQ_DIGITS,
  MESSAGE,
  PROTOCOL_VERSION,
  SID_PATTERN,
} from '../protocol/constants.js';
import { encodeMessage, parseSeq, readBinaryHeader } from '../protocol/frames.js';
import { PING, PONG } from '../protocol/heartbeat.js';

export {
  BYE,
  MAX_SEQ,
  SESSION_PARAM,
  TETHER_PROTOCOL,
} from '../protocol/constants.js';
export { encodeAck, encodeMessage as encodeTextMessage, encodeWelcome } from '../protocol/frames.js';
// `m<seq>:<text>` (text payloads are never copied into a Buffer).
export { PONG } from '../protocol/heartbeat.js';

// Client frames are told apart by their first byte, compared without decoding the frame.
const FIRST_BYTE_MESSAGE = MESSAGE.charCodeAt(0);
const FIRST_BYTE_ACK = ACK.charCodeAt(0);
const FIRST_BYTE_HELLO = HELLO.charCodeAt(0);
const FIRST_BYTE_BYE = BYE.charCodeAt(0);
const COLON = 0x3a;

/** A frame sent by a client, or the reason it could not be parsed (a protocol error, 1002). */
export type ClientFrame =
  | { readonly type: 'hello'; readonly sid: string; readonly recv: number; readonly key?: string }
  | {
      readonly type: 'message';
      readonly seq: number;
      readonly data: string | Buffer;
      readonly isBinary: boolean;
    }
  | { readonly type: 'ack'; readonly seq: number }
  | { readonly type: 'bye' }
  | { readonly type: 'ping' }
  | { readonly type: 'pong' }
  | { readonly type: 'invalid'; readonly reason: string };

/**
 * Parses one WebSocket message received from a client. `data` is the whole message as ws delivers
 * it (ws has already checked that text frames are valid UTF-8). Never throws: a malformed frame comes
 * back as `{ type: 'invalid', reason }`, with a reason short enough for a close frame (≤ 123 bytes).
 */
export function parseClientFrame(data: Buffer, isBinary: boolean): ClientFrame {
  if (isBinary) return parseBinaryMessage(data);
  if (data.length === 0) return invalid('empty text frame');
  switch (data[0]) {
    case FIRST_BYTE_MESSAGE:
      return parseTextMessage(data);
    case FIRST_BYTE_ACK: {
      const seq = parseDecimal(data, 1, data.length);
      return seq === undefined ? invalid('malformed ack') : { type: 'ack', seq };
    }
    case FIRST_BYTE_HELLO:
      return parseHello(data);
    case FIRST_BYTE_BYE:
      return data.length === 1 ? { type: 'bye' } : invalid('malformed bye');
    default: {
      const text = data.length <= PING.length ? data.toString('utf8') : '';
      if (text === PING) return { type: 'ping' };
      if (text === PONG) return { type: 'pong' };
      // The first character only: the frame may be large, and the reason must stay short.
      return invalid(`unknown frame type ${JSON.stringify(String.fromCodePoint(data[0] ?? 0))}`);
    }
  }
}

/** A binary message frame ({@link encodeMessage}) as a Buffer, which the send buffer and stores keep. */
export function encodeBinaryMessage(seq: number, payload: Uint8Array): Buffer {
  const frame = encodeMessage(seq, payload);
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}

/** The application payload of a message frame made by {@link encodeTextMessage} or {@link encodeBinaryMessage}. */
export function payloadOf(frame: string | Buffer): string | Buffer {
  if (typeof frame === 'string') return frame.slice(frame.indexOf(':') + 1);
  return frame.subarray(BINARY_HEADER_BYTES);
}

function parseBinaryMessage(data: Buffer): ClientFrame {
  const seq = readBinaryHeader(new DataView(data.buffer, data.byteOffset, data.byteLength));
  if (seq === undefined) {
    return invalid(
      data.length < BINARY_HEADER_BYTES
        ? 'binary frame shorter than its 5-byte header'
        : 'binary frame not starting with "m"',
    );
  }
  if (seq === 0) return invalid('message seq 0');
  return { type: 'message', seq, data: data.subarray(BINARY_HEADER_BYTES), isBinary: true };
}

function parseTextMessage(data: Buffer): ClientFrame {
  // Look for the colon among the first bytes only: a frame without one may be large.
  const colon = data.subarray(0, MAX_SEQ_DIGITS + 2).indexOf(COLON);
  const seq = colon > 1 ? parseDecimal(data, 1, colon) : undefined;
  if (seq === undefined) return invalid('malformed message frame');
  if (seq === 0) return invalid('message seq 0');
  return { type: 'message', seq, data: data.toString('utf8', colon + 1), isBinary: false };
}

function parseHello(data: Buffer): ClientFrame {
  let hello: unknown;
  try {
    hello = JSON.parse(data.toString('utf8', 1));
  } catch {
    return invalid('hello is not JSON');
  }
  if (typeof hello !== 'object' || hello === null || Array.isArray(hello)) {
    return invalid('hello is not a JSON object');
  }
  const { v, sid, recv, key } = hello as Record<string, unknown>;
  if (v !== PROTOCOL_VERSION) return invalid(`unsupported hello version ${JSON.stringify(v)?.slice(0, 20)}`);
  if (typeof sid !== 'string' || !SID_PATTERN.test(sid))
    return invalid('hello sid is not 1-64 [A-Za-z0-9_-]');
  if (!isSeq(recv)) return invalid('hello recv is not an integer in 0..4294967295');
  if (key === undefined) return { type: 'hello', sid, recv };
  if (typeof key !== 'string' || !KEY_PATTERN.test(key))
    return invalid('hello key is not 16-128 [A-Za-z0-9_-]');
  return { type: 'hello', sid, recv, key };
}

/**
 * The sequence number in `data[start, end)` ({@link parseSeq}'s rule). Only a run short enough to be
 * one is decoded: an ack frame may be large.
 */
function parseDecimal(data: Buffer, start: number, end: number): number | undefined {
  return end - start > MAX_SEQ_DIGITS ? undefined : parseSeq(data.toString('latin1', start, end));
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SEQ;
}

function invalid(reason: string): ClientFrame {
  return { type: 'invalid', reason };
}
