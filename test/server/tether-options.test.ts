// createTetherServer() options: defaults in one place, each value checked once, errors worded to fix.
import { describe, expect, it } from 'vitest';
import { createTetherServer, DEFAULT_TETHER_OPTIONS, TetherServerError } from '../../adapter/index.js';

describe('createTetherServer() options', () => {
  it('fills the documented defaults, and gives each server a memory store of its own', () => {
    const { store, ...options } = createTetherServer().options;
    expect(store.shared).toBe(false);
    expect(createTetherServer().options.store).not.toBe(store);
    expect(options).toEqual({
      resumeWindow: 60_000,
      unacknowledgedResumeWindow: 10_000,
      maxBufferedMessages: 10_000,
      maxBufferedBytes: 16_777_216,
      maxSessions: 10_000,
      maxTotalBufferedBytes: 134_217_728,
      sessionRate: 10,
      sessionBurst: 100,
      ackBatch: 32,
      ackDelay: 20,
      helloTimeout: 10_000,
      allowKeylessClients: false,
      authorize: undefined,
    });
    expect(DEFAULT_TETHER_OPTIONS).toEqual(options);
  });

  it('keeps an explicit 0 and Infinity where they are allowed', () => {
    const { options } = createTetherServer({
      resumeWindow: 0,
      ackDelay: 0,
      helloTimeout: 0,
      maxBufferedMessages: Number.POSITIVE_INFINITY,
      maxBufferedBytes: Number.POSITIVE_INFINITY,
    });
    expect(options).toMatchObject({ resumeWindow: 0, ackDelay: 0, helloTimeout: 0 });
    expect(options.maxBufferedMessages).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    [{ ackBatch: 0 }, 'Invalid option "ackBatch": got 0; expected an integer >= 1.'],
    [
      { resumeWindow: -1 },
      'Invalid option "resumeWindow": got -1; expected an integer from 0 to 2147483647.',
    ],
    [
      { resumeWindow: 2 ** 31 },
      'Invalid option "resumeWindow": got 2147483648; expected an integer from 0 to 2147483647.',
    ],
    [{ ackDelay: 1.5 }, 'Invalid option "ackDelay": got 1.5; expected an integer from 0 to 2147483647.'],
    [
      { maxBufferedBytes: '16MB' },
      'Invalid option "maxBufferedBytes": got "16MB"; expected an integer >= 1, or Infinity.',
    ],
    [
      { maxBufferedMessages: 0 },
      'Invalid option "maxBufferedMessages": got 0; expected an integer >= 1, or Infinity.',
    ],
    [
      { helloTimeout: Number.NaN },
      'Invalid option "helloTimeout": got NaN; expected an integer from 0 to 2147483647.',
    ],
    [
      { resumewindow: 1 },
      'Unknown option "resumewindow"; expected one of resumeWindow, unacknowledgedResumeWindow, maxBufferedMessages, maxBufferedBytes, maxSessions, maxTotalBufferedBytes, sessionRate, sessionBurst, ackBatch, ackDelay, helloTimeout, allowKeylessClients, authorize, store.',
    ],
    [{ maxSessions: 0 }, 'Invalid option "maxSessions": got 0; expected an integer >= 1, or Infinity.'],
    [
      { maxTotalBufferedBytes: -1 },
      'Invalid option "maxTotalBufferedBytes": got -1; expected an integer >= 1, or Infinity.',
    ],
    [{ sessionRate: 0.5 }, 'Invalid option "sessionRate": got 0.5; expected an integer >= 0.'],
    [{ sessionBurst: 0 }, 'Invalid option "sessionBurst": got 0; expected an integer >= 1.'],
    [
      { unacknowledgedResumeWindow: -5 },
      'Invalid option "unacknowledgedResumeWindow": got -5; expected an integer from 0 to 2147483647.',
    ],
    [{ authorize: true }, 'Invalid option "authorize": got true; expected a function or undefined.'],
    [
      { allowKeylessClients: 'yes' },
      'Invalid option "allowKeylessClients": got "yes"; expected true or false.',
    ],
  ])('rejects %j', (input, message) => {
    const attempt = () => createTetherServer(input as never);
    expect(attempt).toThrow(TetherServerError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as TetherServerError).code).toBe('INVALID_OPTION');
    }
  });
});

describe('tether.handle() arguments', () => {
  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [{}, 'an object'],
    ['socket', '"socket"'],
  ])('throws INVALID_ARGUMENT for a socket %s, naming what it got', (socket, shown) => {
    const tether = createTetherServer();
    const call = () => tether.handle(socket as never);
    expect(call).toThrow(TetherServerError);
    expect(call).toThrow(
      `Invalid argument to tether.handle(socket, request): socket got ${shown}; expected the ws WebSocket of a 'connection' event (ws or express-ws).`,
    );
    expect(() => tether.handle(socket as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    tether.close();
  });

  it('throws INVALID_ARGUMENT for a request that is not the upgrade request', () => {
    const tether = createTetherServer();
    const socket = { readyState: 3, OPEN: 1, send() {}, close() {}, on() {} };
    expect(() => tether.handle(socket as never, 'req' as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('request got "req"'),
      }),
    );
    // A socket that is no longer open is still ignored, as before.
    expect(() => tether.handle(socket as never)).not.toThrow();
    tether.close();
  });
});
