import { describe, expect, it } from 'vitest';
import { EXACTLY_ONCE_DEFAULTS, exactlyOnce, TETHER_PROTOCOL } from '../../client/exactly-once/index.js';
import { resolveExactlyOnce } from '../../client/exactly-once/options.js';
import { TetherRangeError, TetherTypeError, WebSocketClient } from '../../client/index.js';
import { mockOptions, TEST_URL } from '../helpers/fake-network.js';
import { fakeWebSocket } from '../helpers/fake-socket.js';

/** The `delivery` option and the opt-in exactly-once entry that provides its one non-default mode. */
describe('delivery option', () => {
  it("accepts 'best-effort' and exactlyOnce()", () => {
    expect(() => new WebSocketClient(TEST_URL, { ...mockOptions(), delivery: 'best-effort' })).not.toThrow();
    expect(() => new WebSocketClient(TEST_URL, { ...mockOptions(), delivery: exactlyOnce() })).not.toThrow();
  });

  it.each([
    ['exactly-once', '"exactly-once"'],
    [{}, 'an object'],
    [Object.assign(() => {}, { layer: () => {} }), 'a function'],
    [true, 'true'],
  ])('rejects %j with a TetherTypeError that points to tether-ws/exactly-once', (value, got) => {
    let error: unknown;
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the point is a value the types forbid.
      new WebSocketClient(TEST_URL, { ...mockOptions(), delivery: value as any });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TetherTypeError);
    expect((error as TetherTypeError).argument).toBe('delivery');
    expect((error as Error).message).toBe(
      `Invalid option "delivery": got ${got}; expected "best-effort" or exactlyOnce() from "tether-ws/exactly-once".`,
    );
  });

  it('an exactlyOnce() delivery offers the tether.v1 subprotocol before the user’s own', async () => {
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new WebSocketClient(TEST_URL, {
      delivery: exactlyOnce(),
      protocols: ['chat'],
      WebSocket,
      watchNetwork: false,
    });
    void client.open();
    expect(sockets.map((socket) => socket.protocols)).toEqual([[TETHER_PROTOCOL, 'chat']]);
    await client.close();
  });
});

describe('exactlyOnce()', () => {
  it('has documented defaults', () => {
    expect(EXACTLY_ONCE_DEFAULTS).toEqual({ resumeWindow: 60_000, fallback: 'fail' });
  });

  it.each([
    [
      { resumeWindow: -1 },
      TetherRangeError,
      'Invalid option "resumeWindow": got -1; expected a number from 0 to 2147483647.',
    ],
    [
      { resumeWindow: 2 ** 31 },
      TetherRangeError,
      'Invalid option "resumeWindow": got 2147483648; expected a number from 0 to 2147483647.',
    ],
    [
      // As for the client's own options (options.test.ts): NaN is the wrong type, not out of range.
      { resumeWindow: Number.NaN },
      TetherTypeError,
      'Invalid option "resumeWindow": got NaN; expected a number from 0 to 2147483647.',
    ],
    [
      { resumeWindow: '5' },
      TetherTypeError,
      'Invalid option "resumeWindow": got "5"; expected a number from 0 to 2147483647.',
    ],
    [
      { fallback: 'retry' },
      TetherRangeError,
      'Invalid option "fallback": got "retry"; expected one of "fail", "best-effort".',
    ],
    [
      { fallback: 1 },
      TetherTypeError,
      'Invalid option "fallback": got 1; expected one of "fail", "best-effort".',
    ],
    ['fast', TetherTypeError, 'Invalid option "exactlyOnce options": got "fast"; expected an object.'],
  ])('rejects %j', (options, type, message) => {
    // biome-ignore lint/suspicious/noExplicitAny: the point is a value the types forbid.
    expect(() => exactlyOnce(options as any)).toThrow(type);
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    expect(() => exactlyOnce(options as any)).toThrow(message);
  });

  it('keeps an explicit 0 (a session that ends with its connection)', () => {
    expect(resolveExactlyOnce({ resumeWindow: 0 })).toEqual({ resumeWindow: 0, fallback: 'fail' });
    expect(() => exactlyOnce({ resumeWindow: 0 })).not.toThrow();
  });
});
