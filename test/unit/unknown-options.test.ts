// Unknown options are rejected everywhere, at every level, with the closest known name: a typo
// such as `{ reconect: false }` used to be ignored silently while the option kept its default.
import { describe, expect, it } from 'vitest';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import type { TetherTypeError } from '../../client/index.js';
import { DEFAULT_OPTIONS, WebSocketClient } from '../../client/index.js';
import { TetherWebSocket } from '../../client/websocket/index.js';
import { mockOptions, TEST_URL } from '../helpers/fake-network.js';

/** What the constructor throws for `options`, as `[class name, code, argument, message]`. */
function thrown(make: () => unknown): [string, string, string, string] {
  try {
    make();
  } catch (error) {
    const typed = error as TetherTypeError;
    return [typed.constructor.name, typed.code, typed.argument, typed.message];
  }
  throw new Error('nothing was thrown');
}

describe('unknown options', () => {
  it.each([
    [{ reconect: false }, 'reconect', 'false', 'reconnect'],
    [{ reconnect: { minDelai: 5 } }, 'reconnect.minDelai', '5', 'minDelay'],
    [{ reconnect: { maxRetrys: 5 } }, 'reconnect.maxRetrys', '5', 'maxRetries'],
    [{ heartbeat: { intervall: 5 } }, 'heartbeat.intervall', '5', 'interval'],
    [{ queue: { maxMesages: 5 } }, 'queue.maxMesages', '5', 'maxMessages'],
    [{ websocket: () => {} }, 'websocket', 'a function', 'WebSocket'],
    [{ conectTimeout: 5 }, 'conectTimeout', '5', 'connectTimeout'],
    [{ codecs: {} }, 'codecs', 'an object', 'codec'],
  ])('WebSocketClient rejects %j, naming the closest known option', (options, name, shown, closest) => {
    expect(thrown(() => new WebSocketClient(TEST_URL, { ...mockOptions(), ...options } as never))).toEqual([
      'TetherTypeError',
      'INVALID_ARGUMENT',
      name,
      `Invalid option "${name}": got ${shown}; expected "${closest}".`,
    ]);
  });

  it('rejects a name inherited from Object.prototype, such as toString', () => {
    expect(
      thrown(() => new WebSocketClient(TEST_URL, { ...mockOptions(), toString: 5 } as never)).slice(0, 3),
    ).toEqual(['TetherTypeError', 'INVALID_ARGUMENT', 'toString']);
  });

  it('accepts every documented option name, at every level', () => {
    const all = {
      ...DEFAULT_OPTIONS,
      heartbeat: DEFAULT_OPTIONS.heartbeat,
      codec: { encode: (x: unknown) => String(x), decode: (x: unknown) => x },
      random: Math.random,
    };
    expect(() => new WebSocketClient(TEST_URL, { ...mockOptions(), ...all } as never)).not.toThrow();
  });

  it('exactlyOnce() rejects an unknown option, naming the closest', () => {
    expect(thrown(() => exactlyOnce({ resumeWindw: 1 } as never))).toEqual([
      'TetherTypeError',
      'INVALID_ARGUMENT',
      'resumeWindw',
      'Invalid option "resumeWindw": got 1; expected "resumeWindow".',
    ]);
  });

  it('the drop-in WebSocket passes its peer names on translated and rejects a typo', () => {
    const socket = new TetherWebSocket(TEST_URL, [], {
      ...mockOptions(),
      minReconnectionDelay: 5,
      maxReconnectionDelay: 10,
      startClosed: true,
    } as never);
    socket.close();
    expect(
      thrown(() => new TetherWebSocket(TEST_URL, [], { ...mockOptions(), reconect: false } as never))[3],
    ).toBe('Invalid option "reconect": got false; expected "reconnect".');
  });
});
