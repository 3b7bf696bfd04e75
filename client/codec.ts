import { invalid, TetherError } from './errors.js';

/** What a browser `WebSocket` delivers in a `message` event. */
export type MessageData = string | ArrayBuffer | Blob;
/** What a browser `WebSocket` accepts in `send()`. */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/**
 * Turns application values into wire data and back. `encode` runs in `send()` (a throw there is
 * rethrown as `ENCODE_FAILED`); `decode` runs on every inbound message (a throw there becomes an
 * `error` event with code `DECODE_FAILED` and the raw data, and the connection stays up).
 */
export interface Codec<In, Out> {
  encode(message: Out): SendData;
  decode(data: MessageData): In;
}

/** The default codec: data passes through untouched in both directions. */
export const passthroughCodec: Codec<never, never> = {
  encode: (message) => message,
  decode: (data) => data as never,
};

/**
 * JSON over text frames: `send({ ... })` writes `JSON.stringify(value)`, inbound text is parsed.
 * A binary or non-JSON inbound message is a decode failure (an `error` event, not a crash).
 * @example new WebSocketClient<ServerMsg, ClientMsg>(url, { codec: jsonCodec() })
 */
export function jsonCodec<In = unknown, Out = unknown>(): Codec<In, Out> {
  return {
    encode: (message) => JSON.stringify(message),
    decode: (data) => {
      if (typeof data !== 'string') throw new TypeError('jsonCodec expects text frames; got binary data.');
      return JSON.parse(data) as In;
    },
  };
}

/** Bytes a message occupies on the wire (UTF-8 for text), used for `queue.maxBytes`. */
export function byteLength(data: SendData): number {
  if (typeof data !== 'string') return 'size' in data ? data.size : data.byteLength;
  let bytes = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    // A surrogate pair is one 4-byte code point: each half counts 2.
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 2 : 3;
  }
  return bytes;
}

/** True for every type `WebSocket.send()` accepts. */
export function isSendable(data: unknown): data is SendData {
  return (
    typeof data === 'string' ||
    data instanceof ArrayBuffer ||
    ArrayBuffer.isView(data) ||
    (typeof Blob !== 'undefined' && data instanceof Blob)
  );
}

/**
 * `codec.encode(data)`, checked: throws `ENCODE_FAILED` if the codec throws, a TetherTypeError if
 * what it returns cannot be sent.
 */
export function encodeWith<Out>(codec: Codec<unknown, Out>, data: Out): SendData {
  let wire: SendData;
  try {
    wire = codec.encode(data);
  } catch (cause) {
    throw new TetherError('ENCODE_FAILED', `codec.encode threw: ${cause}`, { cause, data });
  }
  if (!isSendable(wire))
    throw invalid('argument', 'data', wire, 'a string, ArrayBuffer, ArrayBufferView or Blob');
  return wire;
}

/**
 * `codec.decode(data)`, handed to `deliver`; if the codec throws, `failed` gets `DECODE_FAILED` (with
 * the raw data) instead: one bad message is an `error` event, not the end of the connection.
 */
export function decodeWith<In>(
  codec: Codec<In, unknown>,
  data: MessageData,
  deliver: (message: In) => void,
  failed: (error: TetherError) => void,
): void {
  let message: In;
  try {
    message = codec.decode(data);
  } catch (cause) {
    failed(new TetherError('DECODE_FAILED', `codec.decode threw: ${cause}`, { cause, data }));
    return;
  }
  deliver(message);
}
