import { describe, expect, it, vi } from 'vitest';
import {
  isTetherError,
  TetherError,
  TetherRangeError,
  TetherTypeError,
  WebSocketClient,
} from '../../client/index.js';

describe('isTetherError()', () => {
  it('recognises every error class tether-ws has, and nothing else', () => {
    expect(isTetherError(new TetherError('CLOSED', 'x'))).toBe(true);
    expect(isTetherError(new TetherTypeError('argument', 'url', 1, 'a string'))).toBe(true);
    expect(isTetherError(new TetherRangeError('argument', 'code', 1, 'a close code'))).toBe(true);
    const lookalike = Object.assign(new TypeError('x'), {
      name: 'TetherTypeError',
      code: 'INVALID_ARGUMENT',
    });
    expect([new Error('x'), lookalike, null, undefined, 'TetherError', {}].map(isTetherError)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('recognises what the client throws at the boundary', () => {
    let thrown: unknown;
    try {
      new WebSocketClient('ftp://example.com/');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TetherRangeError);
    expect(isTetherError(thrown)).toBe(true);
  });

  it('recognises the errors of another copy of the library, where instanceof cannot', async () => {
    vi.resetModules();
    // A query string makes the module load a second time: a second copy of every class.
    const specifier = '../../client/errors.js?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../../client/errors.js');
    const foreign = new copy.TetherTypeError('argument', 'url', 1, 'a string');
    expect(foreign).not.toBeInstanceOf(TetherTypeError); // two copies, two classes
    expect(isTetherError(foreign)).toBe(true);
    expect(copy.isTetherError(new TetherError('CLOSED', 'x'))).toBe(true);
  });
});
