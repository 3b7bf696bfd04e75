import { describe, expect, it } from 'vitest';
import {
  isTetherError,
  TetherError,
  TetherRangeError,
  TetherTypeError,
  WebSocketClient,
} from '../../client/index.js';
import { mockOptions, TEST_URL } from '../helpers/fake-network.js';

function thrownBy(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('isTetherError()', () => {
  it('is true for every error the client throws, boundary errors included', () => {
    const errors = [
      thrownBy(() => new WebSocketClient(42 as never)),
      thrownBy(() => new WebSocketClient(TEST_URL, mockOptions({ reconnect: { factor: 0 } }))),
      thrownBy(() =>
        new WebSocketClient(TEST_URL, mockOptions({ queue: { overflow: 'throw', maxMessages: 0 } })).send(
          'x',
        ),
      ),
    ];
    expect(errors.map((error) => (error as Error).name)).toEqual([
      'TetherTypeError',
      'TetherRangeError',
      'TetherError',
    ]);
    expect(errors.map(isTetherError)).toEqual([true, true, true]);
  });

  it('is true for each class and false for lookalikes', () => {
    expect(isTetherError(new TetherError('CLOSED', 'x'))).toBe(true);
    expect(isTetherError(new TetherTypeError('option', 'a', 1, 'b'))).toBe(true);
    expect(isTetherError(new TetherRangeError('option', 'a', 1, 'b'))).toBe(true);
    const lookalike = Object.assign(new Error('x'), { name: 'TetherError', code: 'CLOSED' });
    for (const value of [lookalike, new TypeError('x'), null, undefined, 0, 'TetherError'])
      expect(isTetherError(value)).toBe(false);
  });
});
