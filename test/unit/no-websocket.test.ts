// Where there is no WebSocket (Node 20 without the `WebSocket` option), a client that is asked to
// connect must fail in the caller's hands, synchronously, never later from a microtask, where the
// error would be an uncaught exception (fatal to a Node process).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TetherTypeError, WebSocketClient } from '../../client/index.js';

const MESSAGE =
  'Invalid option "WebSocket": got undefined; expected a WebSocket constructor (none is global here).';

describe('WebSocketClient without any WebSocket constructor', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeEach(() => {
    vi.stubGlobal('WebSocket', undefined);
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
  });
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
    vi.unstubAllGlobals();
  });

  it('throws TetherTypeError from the constructor with autoOpen: true, and nothing afterwards', async () => {
    let thrown: unknown;
    try {
      new WebSocketClient('ws://tether.test/', { autoOpen: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TetherTypeError);
    expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT', argument: 'WebSocket', message: MESSAGE });
    // The microtask the constructor would have queued had it not thrown: nothing may escape later.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(uncaught).toEqual([]);
  });

  it('builds the client without autoOpen, and open() throws the same error synchronously', () => {
    const client = new WebSocketClient('ws://tether.test/');
    expect(() => client.open()).toThrow(
      new TetherTypeError('option', 'WebSocket', undefined, 'a WebSocket constructor (none is global here)'),
    );
    expect(client.state).toBe('idle');
  });
});
