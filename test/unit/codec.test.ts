import { describe, expect, it } from 'vitest';
import type { TetherError } from '../../client/index.js';
import { jsonCodec, WebSocketClient } from '../../client/index.js';
import {
  advance,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

describe('jsonCodec()', () => {
  it('round-trips values: send() writes JSON text, message listeners get parsed values', async () => {
    const mock = mockServer();
    const client = new WebSocketClient<{ reply: number[] }, { type: string; n: number }>(
      TEST_URL,
      mockOptions({ codec: jsonCodec() }),
    );
    const messages: unknown[] = [];
    client.on('message', (m) => messages.push(m));
    client.send({ type: 'queued', n: 1 });
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    client.send({ type: 'live', n: 2 });
    await advance(MOCK_DELAY);
    expect(mock.received).toEqual(['{"type":"queued","n":1}', '{"type":"live","n":2}']);
    mock.emit('{"reply":[1,2]}');
    expect(messages).toEqual([{ reply: [1, 2] }]);
  });

  it('emits DECODE_FAILED carrying the raw data and keeps the connection open', async () => {
    const mock = mockServer();
    const client = new WebSocketClient<unknown, unknown>(TEST_URL, mockOptions({ codec: jsonCodec() }));
    const errors: TetherError[] = [];
    const messages: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('message', (m) => messages.push(m));
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    mock.emit('not json{');
    mock.emit('{"ok":true}');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'TetherError', code: 'DECODE_FAILED', data: 'not json{' });
    expect(errors[0]?.cause).toBeInstanceOf(SyntaxError);
    expect(messages).toEqual([{ ok: true }]);
    expect(client.state).toBe('open');
    expect(client.send({ still: 'open' })).toBe(true);
  });

  it('throws ENCODE_FAILED from send() with the cause, losing nothing already queued', async () => {
    const mock = mockServer();
    const client = new WebSocketClient<unknown, unknown>(TEST_URL, mockOptions({ codec: jsonCodec() }));
    client.send({ a: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let thrown: TetherError | undefined;
    try {
      client.send(cyclic);
    } catch (error) {
      thrown = error as TetherError;
    }
    expect(thrown).toMatchObject({ name: 'TetherError', code: 'ENCODE_FAILED' });
    expect(thrown?.cause).toBeInstanceOf(TypeError);
    expect(client.queued).toBe(1);
    client.send({ b: 2 });
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    await advance(MOCK_DELAY);
    expect(mock.received).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('rejects an encoded value the socket cannot take (codec returning a number)', () => {
    const client = new WebSocketClient<unknown, number>(
      TEST_URL,
      mockOptions({ codec: { encode: (n: number) => n as never, decode: (d: unknown) => d } }),
    );
    expect(() => client.send(1)).toThrow(
      expect.objectContaining({ name: 'TetherTypeError', code: 'INVALID_ARGUMENT' }),
    );
    expect(client.queued).toBe(0);
  });
});

describe('default codec', () => {
  it('passes text through untouched in both directions', async () => {
    const mock = mockServer();
    const client = new WebSocketClient(TEST_URL, mockOptions());
    const messages: unknown[] = [];
    client.on('message', (m) => messages.push(m));
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    client.send('{"not":"parsed"}');
    await advance(MOCK_DELAY);
    mock.emit('{"raw":1}');
    expect(mock.received).toEqual(['{"not":"parsed"}']);
    expect(messages).toEqual(['{"raw":1}']);
  });
});
