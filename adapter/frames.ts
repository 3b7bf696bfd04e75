/**
 * Encoding and parsing of tether.v1 frames (docs/protocol.md §3). Pure functions: no sockets, no
 * timers. The server parses what clients send (hello, message, ack, bye, ping/pong) and encodes what
 * it sends (welcome, message, ack, bye, pong).
 */

/** The subprotocol name, as offered in `Sec-WebSocket-Protocol`. */
export const TETHER_PROTOCOL = 'tether.v1';
/** The query parameter that carries the session id (§2). */
export const SESSION_PARAM = 'tether_sid';
/** Sequence numbers are unsigned 32-bit integers; 0 means "nothing yet". */
export const MAX_SEQ = 0xffff_ffff;
/** Session ids: 1 to 64 characters of base64url (§1). */
export const SID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Session keys: 16 to 128 characters of base64url, at least 96 bits (§4). */
export const KEY_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
/** Application-level heartbeat (§6): not sequenced, never acknowledged. */
export const PING = '__ping__';
export const PONG = '__pong__';
/** The bye frame (§3). */
export const BYE = 'x';

/** Bytes before the payload of a binary message: `m`, then the seq as uint32 big-endian. */
const BINARY_HEADER_BYTES = 5;
const CHAR_M = 0x6d;
const CHAR_A = 0x61;
const CHAR_H = 0x68;
const CHAR_X = 0x78;
const CHAR_COLON = 0x3a;
/** `4294967295` has 10 digits. */
const MAX_SEQ_DIGITS = 10;

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
    case CHAR_M:
      return parseTextMessage(data);
    case CHAR_A: {
      const seq = parseDecimal(data, 1, data.length);
      return seq === undefined ? invalid('malformed ack') : { type: 'ack', seq };
    }
    case CHAR_H:
      return parseHello(data);
    case CHAR_X:
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

/** `w{"v":1,"sid":…,"recv":…,"resumed":…,"window":…}`. */
export function encodeWelcome(welcome: {
  sid: string;
  recv: number;
  resumed: boolean;
  window: number;
}): string {
  const { sid, recv, resumed, window } = welcome;
  return `w${JSON.stringify({ v: 1, sid, recv, resumed, window })}`;
}

/** `m<seq>:<text>`. */
export function encodeTextMessage(seq: number, text: string): string {
  return `m${seq}:${text}`;
}

/** `0x6D`, seq (uint32 BE), payload: one new buffer, so later changes to `payload` do not leak into resends. */
export function encodeBinaryMessage(seq: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(BINARY_HEADER_BYTES + payload.byteLength);
  frame[0] = CHAR_M;
  frame.writeUInt32BE(seq, 1);
  frame.set(payload, BINARY_HEADER_BYTES);
  return frame;
}

/** `a<seq>`. */
export function encodeAck(seq: number): string {
  return `a${seq}`;
}

/** The application payload of a message frame made by {@link encodeTextMessage} or {@link encodeBinaryMessage}. */
export function payloadOf(frame: string | Buffer): string | Buffer {
  if (typeof frame === 'string') return frame.slice(frame.indexOf(':') + 1);
  return frame.subarray(BINARY_HEADER_BYTES);
}

function parseBinaryMessage(data: Buffer): ClientFrame {
  if (data.length < BINARY_HEADER_BYTES) return invalid('binary frame shorter than its 5-byte header');
  if (data[0] !== CHAR_M) return invalid('binary frame not starting with "m"');
  const seq = data.readUInt32BE(1);
  if (seq === 0) return invalid('message seq 0');
  return { type: 'message', seq, data: data.subarray(BINARY_HEADER_BYTES), isBinary: true };
}

function parseTextMessage(data: Buffer): ClientFrame {
  // Look for the colon among the first bytes only: a frame without one may be large.
  const colon = data.subarray(0, MAX_SEQ_DIGITS + 2).indexOf(CHAR_COLON);
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
  if (v !== 1) return invalid(`unsupported hello version ${JSON.stringify(v)?.slice(0, 20)}`);
  if (typeof sid !== 'string' || !SID_PATTERN.test(sid))
    return invalid('hello sid is not 1-64 [A-Za-z0-9_-]');
  if (!isSeq(recv)) return invalid('hello recv is not an integer in 0..4294967295');
  if (key === undefined) return { type: 'hello', sid, recv };
  if (typeof key !== 'string' || !KEY_PATTERN.test(key))
    return invalid('hello key is not 16-128 [A-Za-z0-9_-]');
  return { type: 'hello', sid, recv, key };
}

/** Decimal digits in `data[start, end)`: no sign, no leading zeros (except `0`), at most {@link MAX_SEQ}. */
function parseDecimal(data: Buffer, start: number, end: number): number | undefined {
  const length = end - start;
  if (length < 1 || length > MAX_SEQ_DIGITS) return undefined;
  if (length > 1 && data[start] === 0x30) return undefined;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const digit = (data[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value <= MAX_SEQ ? value : undefined;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SEQ;
}

function invalid(reason: string): ClientFrame {
  return { type: 'invalid', reason };
}
