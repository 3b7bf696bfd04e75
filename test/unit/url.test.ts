import { describe, expect, it } from 'vitest';
import { TetherRangeError, TetherTypeError, WebSocketClient } from '../../client/index.js';
import { mockOptions } from '../helpers/fake-network.js';

function thrownBy(fn: () => unknown): Error & { code?: string; argument?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('WebSocketClient url', () => {
  it.each([
    ['ws://example.com/live', 'ws://example.com/live'],
    ['wss://example.com:8443/a?b=1', 'wss://example.com:8443/a?b=1'],
    ['http://example.com/', 'ws://example.com/'],
    ['https://example.com/x', 'wss://example.com/x'],
  ])('accepts %s as %s', (input, expected) => {
    expect(new WebSocketClient(input, mockOptions()).url).toBe(expected);
  });

  it('accepts a URL object', () => {
    expect(new WebSocketClient(new URL('https://example.com/u'), mockOptions()).url).toBe(
      'wss://example.com/u',
    );
  });

  it("resolves a relative URL against jsdom's location, mapping http: to ws:", () => {
    const expected = new URL('/live?room=1', location.href);
    expected.protocol = expected.protocol === 'https:' ? 'wss:' : 'ws:';
    expect(new WebSocketClient('/live?room=1', mockOptions()).url).toBe(expected.href);
    expect(expected.href).toMatch(/^wss?:\/\/.+\/live\?room=1$/);
  });

  it('rejects an unparseable URL string with TetherTypeError INVALID_ARGUMENT', () => {
    const error = thrownBy(() => new WebSocketClient('ws://', mockOptions()));
    expect(error).toBeInstanceOf(TetherTypeError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'url' });
    expect(error.message).toMatch(
      /^Invalid argument "url": got "ws:\/\/"; expected .*ws:, wss:, http: or https: URL\.$/,
    );
  });

  it('rejects the ftp: scheme, naming the accepted schemes', () => {
    const error = thrownBy(() => new WebSocketClient('ftp://example.com/', mockOptions()));
    expect(error).toBeInstanceOf(TetherRangeError);
    expect(error).toMatchObject({ code: 'OUT_OF_RANGE', argument: 'url' });
    expect(error.message).toMatch(
      /^Invalid argument "url": got "ftp:\/\/example\.com\/"; expected a URL with scheme ws:, wss:, http: or https:\.$/,
    );
  });

  it('rejects a URL with a #fragment (RFC 6455 §3)', () => {
    const error = thrownBy(() => new WebSocketClient('ws://example.com/#top', mockOptions()));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'url' });
    expect(error.message).toMatch(
      /^Invalid argument "url": got "ws:\/\/example\.com\/#top"; expected a URL without a #fragment\.$/,
    );
  });

  it('rejects an empty #fragment too (ws://host/#), which the standard constructor refuses as well', () => {
    // `url.hash` is '' for it, so a test of `hash` alone let it through and every attempt failed.
    const error = thrownBy(() => new WebSocketClient('ws://example.com/#', mockOptions()));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'url' });
    expect(error.message).toBe(
      'Invalid argument "url": got "ws://example.com/#"; expected a URL without a #fragment.',
    );
  });

  it.each([
    [42, '42'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{ href: 'ws://x/' }, 'an object'],
  ])('rejects a non-string url %s', (input, printed) => {
    const error = thrownBy(() => new WebSocketClient(input as never, mockOptions()));
    expect(error).toBeInstanceOf(TetherTypeError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'url' });
    expect(error.message).toMatch(
      new RegExp(
        `^Invalid argument "url": got ${printed}\\b.*; expected a string, a URL, or a function returning one\\.$`,
      ),
    );
  });

  it('does not call a URL function before the first attempt', () => {
    let calls = 0;
    const client = new WebSocketClient(() => {
      calls++;
      return 'ws://example.com/';
    }, mockOptions());
    expect(calls).toBe(0);
    expect(client.url).toBe('');
  });
});

describe('WebSocketClient close() arguments', () => {
  it.each([1001, 2999, 5000, 1005, 3000.5])('rejects close(%s) with a RangeError naming the code', (code) => {
    const client = new WebSocketClient('ws://example.com/', mockOptions());
    const error = thrownBy(() => client.close(code));
    expect(error).toBeInstanceOf(TetherRangeError);
    expect(error).toMatchObject({ code: 'OUT_OF_RANGE', argument: 'code' });
    expect(error.message).toMatch(
      new RegExp(
        `^Invalid argument "code": got ${String(code).replace('.', '\\.')}; expected 1000 or an integer from 3000 to 4999\\.$`,
      ),
    );
    expect(client.state).toBe('idle');
  });

  it('accepts close codes 1000, 3000 and 4999', async () => {
    for (const code of [1000, 3000, 4999]) {
      const client = new WebSocketClient('ws://example.com/', mockOptions());
      await expect(client.close(code)).resolves.toBeUndefined();
    }
  });

  it('rejects a reason over 123 UTF-8 bytes, counting bytes not characters', () => {
    const client = new WebSocketClient('ws://example.com/', mockOptions());
    const error = thrownBy(() => client.close(1000, 'x'.repeat(124)));
    expect(error).toBeInstanceOf(TetherRangeError);
    expect(error).toMatchObject({ code: 'OUT_OF_RANGE', argument: 'reason' });
    expect(error.message).toMatch(
      /^Invalid argument "reason": got "x{124}"; expected at most 123 bytes of UTF-8\.$/,
    );
    // 62 two-byte characters are 124 bytes though only 62 characters.
    expect(() => client.close(1000, 'é'.repeat(62))).toThrow(RangeError);
    expect(() => client.close(1000, 'x'.repeat(123))).not.toThrow();
  });
});
