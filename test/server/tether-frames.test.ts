// tether.v1 frames (docs/protocol.md §3): what the server accepts from clients and what it writes.
import { describe, expect, it } from 'vitest';
import {
  encodeAck,
  encodeBinaryMessage,
  encodeTextMessage,
  encodeWelcome,
  parseClientFrame,
  payloadOf,
} from '../../adapter/frames.js';

const text = (frame: string) => parseClientFrame(Buffer.from(frame), false);
const binary = (bytes: number[]) => parseClientFrame(Buffer.from(bytes), true);

describe('parseClientFrame()', () => {
  it('parses a hello and ignores unknown fields', () => {
    expect(text('h{"v":1,"sid":"Ab_-9","recv":7,"later":true}')).toEqual({
      type: 'hello',
      sid: 'Ab_-9',
      recv: 7,
    });
  });

  it.each([
    ['h{"v":2,"sid":"a","recv":0}', 'unsupported hello version 2'],
    ['h{"v":1,"sid":"","recv":0}', 'hello sid is not 1-64 [A-Za-z0-9_-]'],
    [`h{"v":1,"sid":"${'a'.repeat(65)}","recv":0}`, 'hello sid is not 1-64 [A-Za-z0-9_-]'],
    ['h{"v":1,"sid":"a b","recv":0}', 'hello sid is not 1-64 [A-Za-z0-9_-]'],
    ['h{"v":1,"sid":"a","recv":-1}', 'hello recv is not an integer in 0..4294967295'],
    ['h{"v":1,"sid":"a","recv":1.5}', 'hello recv is not an integer in 0..4294967295'],
    ['h{"v":1,"sid":"a","recv":4294967296}', 'hello recv is not an integer in 0..4294967295'],
    ['h{"v":1,"sid":"a"}', 'hello recv is not an integer in 0..4294967295'],
    ['h[1]', 'hello is not a JSON object'],
    ['h{', 'hello is not JSON'],
  ])('rejects the hello %s', (frame, reason) => {
    expect(text(frame)).toEqual({ type: 'invalid', reason });
  });

  it('parses text messages, keeping colons and any text in the payload', () => {
    expect(text('m42:a:b')).toEqual({ type: 'message', seq: 42, data: 'a:b', isBinary: false });
    expect(text('m1:')).toEqual({ type: 'message', seq: 1, data: '', isBinary: false });
    expect(text('m4294967295:é')).toEqual({ type: 'message', seq: 4294967295, data: 'é', isBinary: false });
  });

  it.each([
    ['m0:x', 'message seq 0'],
    ['m01:x', 'malformed message frame'],
    ['m+1:x', 'malformed message frame'],
    ['m1e3:x', 'malformed message frame'],
    ['m:x', 'malformed message frame'],
    ['m12', 'malformed message frame'],
    ['m4294967296:x', 'malformed message frame'],
    ['m12345678901:x', 'malformed message frame'],
  ])('rejects the message %s', (frame, reason) => {
    expect(text(frame)).toEqual({ type: 'invalid', reason });
  });

  it('parses binary messages with the 5-byte header', () => {
    expect(binary([0x6d, 0, 0, 1, 0, 9, 8])).toEqual({
      type: 'message',
      seq: 256,
      data: Buffer.from([9, 8]),
      isBinary: true,
    });
    expect(binary([0x6d, 0xff, 0xff, 0xff, 0xff])).toMatchObject({ seq: 4294967295, data: Buffer.alloc(0) });
  });

  it.each([
    [[0x6d, 0, 0, 1], 'binary frame shorter than its 5-byte header'],
    [[0x61, 0, 0, 0, 1], 'binary frame not starting with "m"'],
    [[0x6d, 0, 0, 0, 0], 'message seq 0'],
  ])('rejects the binary frame %j', (bytes, reason) => {
    expect(binary(bytes)).toEqual({ type: 'invalid', reason });
  });

  it('parses acks, bye and the heartbeat', () => {
    expect(text('a0')).toEqual({ type: 'ack', seq: 0 });
    expect(text('a42')).toEqual({ type: 'ack', seq: 42 });
    expect(text('x')).toEqual({ type: 'bye' });
    expect(text('__ping__')).toEqual({ type: 'ping' });
    expect(text('__pong__')).toEqual({ type: 'pong' });
  });

  it.each([
    ['a', 'malformed ack'],
    ['a01', 'malformed ack'],
    ['a-1', 'malformed ack'],
    ['xx', 'malformed bye'],
    ['', 'empty text frame'],
    ['w{"v":1}', 'unknown frame type "w"'],
    ['hello', 'hello is not JSON'],
    ['__ping__ ', 'unknown frame type "_"'],
    ['plain text', 'unknown frame type "p"'],
  ])('rejects %j', (frame, reason) => {
    expect(text(frame)).toEqual({ type: 'invalid', reason });
  });
});

describe('encoders', () => {
  it('writes the welcome with exactly the documented fields', () => {
    expect(encodeWelcome({ sid: 'S', recv: 3, resumed: true, window: 60000 })).toBe(
      'w{"v":1,"sid":"S","recv":3,"resumed":true,"window":60000}',
    );
  });

  it('writes messages and acks, and recovers the payload of a message frame', () => {
    expect(encodeTextMessage(7, 'a:b')).toBe('m7:a:b');
    expect(encodeAck(12)).toBe('a12');
    const frame = encodeBinaryMessage(258, new Uint8Array([1, 2]));
    expect([...frame]).toEqual([0x6d, 0, 0, 1, 2, 1, 2]);
    expect(payloadOf(frame)).toEqual(Buffer.from([1, 2]));
    expect(payloadOf('m7:a:b')).toBe('a:b');
  });

  it('copies binary payloads, so a later change by the caller does not alter a resend', () => {
    const payload = new Uint8Array([1, 2, 3]);
    const frame = encodeBinaryMessage(1, payload);
    payload[0] = 99;
    expect(payloadOf(frame)).toEqual(Buffer.from([1, 2, 3]));
  });
});
