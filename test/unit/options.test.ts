import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClientOptions } from '../../client/index.js';
import {
  DEFAULT_OPTIONS,
  NO_RETRY_CODES,
  TetherRangeError,
  TetherTypeError,
  WebSocketClient,
} from '../../client/index.js';
import { normalizeOptions } from '../../client/options.js';
import { mockOptions, TEST_URL } from '../helpers/fake-network.js';

const SECTIONS: Record<string, string> = {
  ClientOptions: '',
  ReconnectOptions: 'reconnect.',
  QueueOptions: 'queue.',
  HeartbeatOptions: 'heartbeat.',
};

/**
 * Reads the `@default` of every option from the JSDoc in client/options.ts, keeping the literal
 * ones (numbers, Infinity, strings, booleans, []): the single documented source of defaults.
 */
function documentedDefaults(): Record<string, unknown> {
  const source = readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '../../client/options.ts'),
    'utf8',
  );
  const found: Record<string, unknown> = {};
  for (const [, name, body] of source.matchAll(/export interface (\w+)[^{]*\{([\s\S]*?)\n\}/g)) {
    const prefix = SECTIONS[name as string];
    if (prefix === undefined) continue;
    for (const [, doc, field] of (body as string).matchAll(
      /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n\s*(\w+)\??:/g,
    )) {
      const value = /@default (Infinity|-?[\d_.]+|'[^']*'|true|false|\[\])(?=\s|$)/.exec(doc as string)?.[1];
      if (value === undefined) continue;
      if (prefix === '' && (field === 'reconnect' || field === 'heartbeat' || field === 'queue')) continue;
      found[`${prefix}${field}`] =
        value === 'Infinity'
          ? Number.POSITIVE_INFINITY
          : value.startsWith("'")
            ? value.slice(1, -1)
            : value === '[]'
              ? []
              : JSON.parse(value.replace(/_/g, ''));
    }
  }
  return found;
}

/** Matches "at least n" in either wording the messages have used: `>= n` or `from n to ...`. */
function atLeast(n: number, integer = false): RegExp {
  return new RegExp(`${integer ? 'an integer' : 'a number'} (>= ${n}|from ${n}) `);
}

function build(options: unknown) {
  return () => new WebSocketClient(TEST_URL, options as ClientOptions);
}

describe('WebSocketClient options', () => {
  describe('DEFAULT_OPTIONS', () => {
    it('matches every @default documented in client/options.ts', () => {
      const documented = documentedDefaults();
      expect(Object.keys(documented).length).toBeGreaterThan(10);
      const actual: Record<string, unknown> = {};
      for (const key of Object.keys(documented)) {
        actual[key] = key
          .split('.')
          .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], DEFAULT_OPTIONS);
      }
      expect(actual).toEqual(documented);
    });

    it('keeps the contract defaults: no connection before open(), backoff settings within range', () => {
      expect(DEFAULT_OPTIONS).toMatchObject({
        protocols: [],
        binaryType: 'blob',
        autoOpen: false,
        connectTimeout: 10_000,
        closeTimeout: 5_000,
        reconnect: { minDelay: 1_000, maxDelay: 30_000, factor: 2, jitter: 0.5, resetAfter: 5_000 },
        queue: { overflow: 'drop-oldest' },
      });
      expect(DEFAULT_OPTIONS.reconnect.maxRetries).toBe(Number.POSITIVE_INFINITY);
    });

    it('retries within about a second by default', () => {
      expect(DEFAULT_OPTIONS.reconnect.minDelay).toBeLessThanOrEqual(1000);
    });

    it('the default shouldReconnect stops only on NO_RETRY_CODES (1002, 1003, 1008, 1010)', () => {
      expect([...NO_RETRY_CODES].sort()).toEqual([1002, 1003, 1008, 1010]);
      const retry = (code: number) =>
        DEFAULT_OPTIONS.reconnect.shouldReconnect({ code, reason: '', wasClean: false });
      expect([1000, 1001, 1006, 1011, 1012, 1013, 4000].map(retry)).toEqual([
        true,
        true,
        true,
        true,
        true,
        true,
        true,
      ]);
      expect([1002, 1003, 1008, 1010].map(retry)).toEqual([false, false, false, false]);
    });
  });

  describe('validation', () => {
    // [options, option name, value as printed, what is accepted (a regex fragment), error class]
    const cases: Array<
      [string, unknown, string, string, RegExp, typeof TetherTypeError | typeof TetherRangeError]
    > = [
      [
        'negative reconnect.minDelay',
        { reconnect: { minDelay: -1 } },
        'reconnect.minDelay',
        '-1',
        atLeast(0),
        TetherRangeError,
      ],
      [
        'reconnect.factor below 1',
        { reconnect: { factor: 0.5 } },
        'reconnect.factor',
        '0.5',
        atLeast(1),
        TetherRangeError,
      ],
      [
        'reconnect.jitter above 1',
        { reconnect: { jitter: 1.5 } },
        'reconnect.jitter',
        '1.5',
        /\b0\b.*\b1\b/,
        TetherRangeError,
      ],
      [
        'negative reconnect.jitter',
        { reconnect: { jitter: -0.1 } },
        'reconnect.jitter',
        '-0.1',
        /\b0\b/,
        TetherRangeError,
      ],
      [
        'reconnect.maxDelay below minDelay',
        { reconnect: { minDelay: 500, maxDelay: 100 } },
        'reconnect.maxDelay',
        '100',
        /minDelay/,
        TetherRangeError,
      ],
      [
        'negative reconnect.maxRetries',
        { reconnect: { maxRetries: -1 } },
        'reconnect.maxRetries',
        '-1',
        atLeast(0, true),
        TetherRangeError,
      ],
      [
        'queue.maxMessages -1',
        { queue: { maxMessages: -1 } },
        'queue.maxMessages',
        '-1',
        atLeast(0, true),
        TetherRangeError,
      ],
      [
        'queue.maxMessages 1.5',
        { queue: { maxMessages: 1.5 } },
        'queue.maxMessages',
        '1.5',
        atLeast(0, true),
        TetherRangeError,
      ],
      [
        'negative queue.maxBytes',
        { queue: { maxBytes: -5 } },
        'queue.maxBytes',
        '-5',
        atLeast(0),
        TetherRangeError,
      ],
      [
        'unknown queue.overflow',
        { queue: { overflow: 'drop-all' } },
        'queue.overflow',
        '"drop-all"',
        /"drop-oldest", "drop-newest", "throw"/,
        TetherRangeError,
      ],
      [
        'non-function shouldReconnect',
        { reconnect: { shouldReconnect: 42 } },
        'reconnect.shouldReconnect',
        '42',
        /a function/,
        TetherTypeError,
      ],
      ['connectTimeout 0', { connectTimeout: 0 }, 'connectTimeout', '0', atLeast(1), TetherRangeError],
      [
        'connectTimeout as a string',
        { connectTimeout: '5000' },
        'connectTimeout',
        '"5000"',
        /a number/,
        TetherTypeError,
      ],
      ['NaN closeTimeout', { closeTimeout: Number.NaN }, 'closeTimeout', 'NaN', /a number/, TetherTypeError],
      ['autoOpen as a string', { autoOpen: 'yes' }, 'autoOpen', '"yes"', /true or false/, TetherTypeError],
      ['a non-function random', { random: 0.5 }, 'random', '0.5', /a function/, TetherTypeError],
      [
        'a non-function WebSocket',
        { WebSocket: 'ws' },
        'WebSocket',
        '"ws"',
        /a function|constructor/,
        TetherTypeError,
      ],
      ['an invalid subprotocol', { protocols: ['a b'] }, 'protocols', '', /subprotocol/, TetherTypeError],
      [
        'a subprotocol offered twice (the standard constructor refuses it)',
        { protocols: ['chat', 'chat'] },
        'protocols',
        'an object',
        /distinct subprotocol tokens/,
        TetherTypeError,
      ],
      [
        'an unknown binaryType',
        { binaryType: 'buffer' },
        'binaryType',
        '"buffer"',
        /"blob", "arraybuffer"/,
        TetherRangeError,
      ],
      [
        'a codec without decode',
        { codec: { encode: (x: unknown) => x } },
        'codec.decode',
        'undefined',
        /a function/,
        TetherTypeError,
      ],
    ];

    it.each(cases)(
      'rejects %s, naming the option, the value and what is accepted',
      (_, options, name, value, expected, ErrorClass) => {
        const thrown = (() => {
          try {
            build(options)();
          } catch (error) {
            return error;
          }
          throw new Error('expected the constructor to throw');
        })();
        expect(thrown).toBeInstanceOf(ErrorClass);
        const error = thrown as TetherTypeError | TetherRangeError;
        expect(error.code).toBe(ErrorClass === TetherRangeError ? 'OUT_OF_RANGE' : 'INVALID_ARGUMENT');
        expect(error.name).toBe(ErrorClass.name);
        expect(error.argument).toBe(name);
        const escapedName = name.replace(/\./g, '\\.');
        const escapedValue = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        expect(error.message).toMatch(
          new RegExp(`^Invalid option "${escapedName}": got ${escapedValue}.*; expected `),
        );
        expect(error.message).toMatch(expected);
        expect(error.message).toMatch(/\.$/);
      },
    );

    it('gives one sentence for reconnect.factor 0.5: option, value, accepted range', () => {
      expect(build({ reconnect: { factor: 0.5 } })).toThrow(
        /^Invalid option "reconnect\.factor": got 0\.5; expected a number (>= 1|from 1)\b.*\b2147483647\.$/,
      );
    });

    it('keeps an explicit 0 instead of the default (?? not ||)', () => {
      // minDelay 0 and maxRetries 0 are legal and must not become 1000 / Infinity.
      const resolved = normalizeOptions({
        reconnect: { minDelay: 0, maxRetries: 0, jitter: 0 },
        queue: { maxMessages: 0, maxBytes: 0 },
        highWaterMark: 0,
      });
      expect(resolved.reconnect).toMatchObject({ minDelay: 0, maxRetries: 0, jitter: 0 });
      expect(resolved.queue).toMatchObject({ maxMessages: 0, maxBytes: 0 });
      expect(resolved.highWaterMark).toBe(0);
    });

    it('accepts reconnect: true and reconnect: false', () => {
      expect(build(mockOptions({ reconnect: true }))).not.toThrow();
      expect(build(mockOptions({ reconnect: false }))).not.toThrow();
    });

    it('rejects options that are not an object', () => {
      expect(build(42)).toThrow(TetherTypeError);
      expect(build(42)).toThrow(/^Invalid option "options": got 42; expected an object\.$/);
    });
  });
});
