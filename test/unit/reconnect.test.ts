import { describe, expect, it, vi } from 'vitest';
import type { CloseInfo } from '../../client/index.js';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  countingWebSocket,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  NO_SERVER_URL,
  recordDelays,
  recordEvents,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

/** Lets each failed attempt (4 ms) and each announced delay run, `count` times. */
async function failTimes(delays: number[], count: number) {
  await advance(MOCK_DELAY);
  for (let i = 1; i < count; i++) await advance((delays.at(-1) ?? 0) + MOCK_DELAY);
}

describe('WebSocketClient', () => {
  describe('reconnect backoff', () => {
    it('grows delays by factor and caps them at maxDelay', async () => {
      const client = new WebSocketClient(
        NO_SERVER_URL,
        mockOptions({
          reconnect: { minDelay: 100, maxDelay: 1000, factor: 3, jitter: 0.5 },
          random: () => 0,
        }),
      );
      recordEvents(client);
      const delays = recordDelays(client);
      client.open();
      await failTimes(delays, 5);
      expect(delays).toEqual([100, 300, 900, 1000, 1000]);
    });

    it('waits exactly the announced delay: nothing at delay - 1, a new socket at delay', async () => {
      const { WebSocket, created } = countingWebSocket();
      const client = new WebSocketClient(
        NO_SERVER_URL,
        mockOptions({ WebSocket, reconnect: { minDelay: 100, maxDelay: 1000, factor: 2 } }),
      );
      recordEvents(client);
      const delays = recordDelays(client);
      client.open();
      await advance(MOCK_DELAY);
      for (const [i, expected] of [100, 200, 400, 800, 1000].entries()) {
        expect(delays[i]).toBe(expected);
        expect(created).toHaveLength(i + 1);
        await advance(expected - 1);
        expect(created).toHaveLength(i + 1);
        await advance(1);
        expect(created).toHaveLength(i + 2);
        expect(client.state).toBe('connecting');
        await advance(MOCK_DELAY);
      }
    });

    it('keeps jittered delays inside [base * (1 - jitter), base] and waits the jittered delay', async () => {
      const randoms = [0.999999, 0, 0.5, 0.999999];
      const { WebSocket, created } = countingWebSocket();
      const client = new WebSocketClient(
        NO_SERVER_URL,
        mockOptions({
          WebSocket,
          reconnect: { minDelay: 400, maxDelay: 10_000, factor: 2, jitter: 0.25 },
          random: () => randoms.shift() ?? 0,
        }),
      );
      recordEvents(client);
      const delays = recordDelays(client);
      client.open();
      await failTimes(delays, 4);
      // base: 400, 800, 1600, 3200; jitter removes up to a quarter of each.
      expect(delays).toEqual([300, 800, 1400, 2400]);
      const bases = [400, 800, 1600, 3200];
      delays.forEach((delay, i) => {
        const base = bases[i] as number;
        expect(delay).toBeGreaterThanOrEqual(base * 0.75);
        expect(delay).toBeLessThanOrEqual(base);
      });
      const before = created.length;
      await advance(2399);
      expect(created).toHaveLength(before);
      await advance(1);
      expect(created).toHaveLength(before + 1);
    });

    it('announces attempt numbers 1, 2, 3 and exposes them as client.attempt', async () => {
      const client = new WebSocketClient(
        NO_SERVER_URL,
        mockOptions({ reconnect: { minDelay: 10, factor: 1 } }),
      );
      const events = recordEvents(client);
      client.open();
      expect(client.attempt).toBe(0);
      await failTimes([10], 3);
      expect(events.filter((e) => e.startsWith('reconnecting'))).toEqual([
        'reconnecting:1:10',
        'reconnecting:2:10',
        'reconnecting:3:10',
      ]);
      expect(client.attempt).toBe(3);
    });
  });

  describe('reconnect.resetAfter', () => {
    it('keeps backing off when the server accepts and drops at once', async () => {
      const mock = mockServer();
      mock.server.on('connection', (socket) => socket.terminate());
      const client = new WebSocketClient(
        TEST_URL,
        mockOptions({ reconnect: { minDelay: 100, maxDelay: 10_000, factor: 2, resetAfter: 1000 } }),
      );
      const events = recordEvents(client);
      const delays = recordDelays(client);
      client.open();
      await advance(2 * MOCK_DELAY);
      for (let i = 0; i < 3; i++) await advance((delays.at(-1) ?? 0) + 2 * MOCK_DELAY);
      expect(delays).toEqual([100, 200, 400, 800]);
      expect(events.filter((e) => e === 'open')).toHaveLength(4);
      expect(client.attempt).toBe(4);
    });

    it('resets the attempt counter only after resetAfter ms of being open', async () => {
      const mock = mockServer();
      let dropAtOnce = true;
      mock.server.on('connection', (socket) => {
        if (dropAtOnce) socket.terminate();
      });
      const client = new WebSocketClient(
        TEST_URL,
        mockOptions({ reconnect: { minDelay: 100, maxDelay: 10_000, factor: 2, resetAfter: 1000 } }),
      );
      recordEvents(client);
      const delays = recordDelays(client);
      client.open();
      await advance(2 * MOCK_DELAY);
      await advance(100 + 2 * MOCK_DELAY);
      expect(client.attempt).toBe(2);
      dropAtOnce = false;
      await advance(200 + MOCK_DELAY);
      expect(client.state).toBe('open');
      await advance(999);
      expect(client.attempt).toBe(2);
      await advance(1);
      expect(client.attempt).toBe(0);
      mock.drop(1006);
      await advance(MOCK_DELAY);
      expect(delays).toEqual([100, 200, 100]);
    });
  });

  describe('reconnect.maxRetries', () => {
    it('stops after maxRetries: error RETRIES_EXHAUSTED, state closed, open() rejects', async () => {
      const client = new WebSocketClient(
        NO_SERVER_URL,
        mockOptions({ reconnect: { minDelay: 10, factor: 1, maxRetries: 2 } }),
      );
      const events = recordEvents(client);
      const opened = client.open();
      await failTimes([10], 3);
      await expect(opened).rejects.toMatchObject({ name: 'TetherError', code: 'RETRIES_EXHAUSTED' });
      expect(client.state).toBe('closed');
      expect(events.filter((e) => !e.startsWith('error:SOCKET_ERROR'))).toEqual([
        'state:idle>connecting',
        'state:connecting>reconnecting',
        'close:1006:true',
        'reconnecting:1:10',
        'state:reconnecting>connecting',
        'state:connecting>reconnecting',
        'close:1006:true',
        'reconnecting:2:10',
        'state:reconnecting>connecting',
        'error:RETRIES_EXHAUSTED',
        'state:connecting>closed',
        'close:1006:false',
      ]);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('with maxRetries 0 gives up after the first failed attempt', async () => {
      const client = new WebSocketClient(NO_SERVER_URL, mockOptions({ reconnect: { maxRetries: 0 } }));
      const events = recordEvents(client);
      const opened = client.open();
      await advance(MOCK_DELAY);
      await expect(opened).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED' });
      expect(events).not.toContain('state:connecting>reconnecting');
    });
  });

  describe('reconnect.shouldReconnect', () => {
    it.each([1001, 1006, 1011, 1012, 1013, 4000])('by default retries after close code %i', async (code) => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 50 } }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.drop(code);
      await advance(MOCK_DELAY);
      expect(events.slice(-3)).toEqual([
        'state:open>reconnecting',
        `close:${code}:true`,
        'reconnecting:1:50',
      ]);
      await advance(50 + MOCK_DELAY);
      expect(client.state).toBe('open');
      expect(mock.sockets).toHaveLength(2);
    });

    it.each([1002, 1003, 1008, 1010])('by default does not retry after close code %i', async (code) => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 50 } }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.drop(code);
      await advance(MOCK_DELAY);
      expect(events.slice(-2)).toEqual(['state:open>closed', `close:${code}:false`]);
      await advance(60_000);
      expect(mock.sockets).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('vetoes a retry when it returns false, and receives the close info', async () => {
      const mock = mockServer();
      const seen: CloseInfo[] = [];
      const client = new WebSocketClient(
        TEST_URL,
        mockOptions({
          reconnect: {
            minDelay: 50,
            shouldReconnect: (close: CloseInfo) => {
              seen.push(close);
              return false;
            },
          },
        }),
      );
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.drop(1011, 'restart');
      await advance(MOCK_DELAY);
      expect(seen).toEqual([{ code: 1011, reason: 'restart', wasClean: true }]);
      expect(events.slice(-2)).toEqual(['state:open>closed', 'close:1011:false']);
      await advance(60_000);
      expect(mock.sockets).toHaveLength(1);
    });

    it("is not consulted after the user's own close()", async () => {
      mockServer();
      const shouldReconnect = vi.fn(() => true);
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { shouldReconnect } }));
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      await Promise.all([client.close(), advance(MOCK_DELAY)]);
      expect(shouldReconnect).not.toHaveBeenCalled();
    });
  });

  describe('reconnect: false', () => {
    it('closes for good when the connection drops', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: false }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.drop(1006);
      await advance(MOCK_DELAY);
      expect(events.slice(-2)).toEqual(['state:open>closed', 'close:1006:false']);
      await advance(60_000);
      expect(mock.sockets).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
