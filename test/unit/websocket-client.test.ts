import { describe, expect, it, vi } from 'vitest';
import type { TetherError } from '../../client/index.js';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  countingWebSocket,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  NO_SERVER_URL,
  recordEvents,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';
import { fakeWebSocket } from '../helpers/fake-socket.js';

useMockClock();

describe('WebSocketClient', () => {
  describe('open()', () => {
    it('does not connect before open() when autoOpen is false', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      await advance(1000);
      expect(client.state).toBe('idle');
      expect(mock.sockets).toHaveLength(0);
    });

    it('goes idle > connecting > open and resolves once the socket opens', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const events = recordEvents(client);
      const opened = client.open();
      expect(client.state).toBe('connecting');
      expect(client.readyState).toBe(0);
      await advance(MOCK_DELAY);
      await expect(opened).resolves.toBeUndefined();
      expect(events).toEqual(['state:idle>connecting', 'state:connecting>open', 'open']);
      expect(client.readyState).toBe(1);
      expect(client.url).toBe('ws://tether.test/live');
    });

    it('is idempotent: calling it three times creates one socket', async () => {
      const mock = mockServer();
      const { WebSocket, created } = countingWebSocket();
      const client = new WebSocketClient(TEST_URL, mockOptions({ WebSocket }));
      const calls = [client.open(), client.open(), client.open()];
      await advance(MOCK_DELAY);
      await Promise.all(calls);
      await expect(client.open()).resolves.toBeUndefined();
      await advance(1000);
      expect(created).toHaveLength(1);
      expect(mock.sockets).toHaveLength(1);
    });

    it('after close() starts afresh with the attempt counter at 0', async () => {
      const client = new WebSocketClient(NO_SERVER_URL, mockOptions({ reconnect: { minDelay: 10 } }));
      const events = recordEvents(client);
      client.open();
      await advance(MOCK_DELAY + 10 + MOCK_DELAY + 20 + MOCK_DELAY);
      expect(client.attempt).toBe(3);
      await client.close();
      events.length = 0;
      client.open();
      expect(client.attempt).toBe(0);
      await advance(MOCK_DELAY);
      expect(events.filter((e) => e.startsWith('reconnecting'))).toEqual(['reconnecting:1:10']);
    });

    it('during closing waits for the close to finish, then reopens', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const events = recordEvents(client);
      client.open();
      await advance(MOCK_DELAY);
      const closed = client.close();
      expect(client.state).toBe('closing');
      const reopened = client.open();
      await advance(MOCK_DELAY);
      await closed;
      await advance(MOCK_DELAY);
      await expect(reopened).resolves.toBeUndefined();
      expect(client.state).toBe('open');
      expect(events.slice(3)).toEqual([
        'state:open>closing',
        'state:closing>closed',
        'close:1000:false',
        'state:closed>connecting',
        'state:connecting>open',
        'open',
      ]);
    });

    it('rejects with CLOSED when close() comes before the connection opens', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const opened = client.open();
      client.close();
      await advance(MOCK_DELAY);
      await expect(opened).rejects.toMatchObject({ name: 'TetherError', code: 'CLOSED' });
    });
  });

  describe('autoOpen', () => {
    it('connects on the next microtask, so listeners added right after construction see "connecting"', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ autoOpen: true }));
      const events = recordEvents(client);
      expect(client.state).toBe('idle');
      await Promise.resolve();
      expect(client.state).toBe('connecting');
      await advance(MOCK_DELAY);
      expect(events).toEqual(['state:idle>connecting', 'state:connecting>open', 'open']);
    });

    it('does not connect if close() is called before the microtask', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ autoOpen: true }));
      client.close();
      await advance(1000);
      expect(client.state).toBe('closed');
      expect(mock.sockets).toHaveLength(0);
    });
  });

  describe('close()', () => {
    it('resolves once closed, with a clean 1000 close and no reconnect', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 10 } }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      const closed = client.close(4001, 'bye');
      await advance(MOCK_DELAY);
      await expect(closed).resolves.toBeUndefined();
      expect(client.state).toBe('closed');
      expect(events.slice(-2)).toEqual(['state:closing>closed', 'close:4001:false']);
      await advance(60_000);
      expect(mock.sockets).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('called twice returns promises that both resolve, with one close event', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      const first = client.close();
      const second = client.close();
      await advance(MOCK_DELAY);
      await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
      await expect(client.close()).resolves.toBeUndefined();
      expect(events.filter((e) => e.startsWith('close:'))).toEqual(['close:1000:false']);
    });

    it('in idle moves to closed without any socket', async () => {
      const { WebSocket, created } = countingWebSocket();
      const client = new WebSocketClient(TEST_URL, mockOptions({ WebSocket }));
      await expect(client.close()).resolves.toBeUndefined();
      expect(client.state).toBe('closed');
      expect(created).toHaveLength(0);
    });

    it('during connecting leaves no timer and no socket behind, and never reconnects', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 10 } }));
      const events = recordEvents(client);
      client.open();
      expect(mock.live()).toHaveLength(1);
      const closed = client.close();
      await advance(MOCK_DELAY);
      await closed;
      expect(client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      expect(mock.live()).toHaveLength(0);
      await advance(60_000);
      expect(mock.sockets).toHaveLength(0);
      expect(events).not.toContain('state:closed>connecting');
    });

    it('during connecting on a pending URL function leaves no timer and creates no socket later', async () => {
      mockServer();
      const { WebSocket, created } = countingWebSocket();
      let resolveUrl: (url: string) => void = () => {};
      const client = new WebSocketClient(
        () =>
          new Promise<string>((resolve) => {
            resolveUrl = resolve;
          }),
        mockOptions({ WebSocket }),
      );
      client.open();
      await client.close();
      expect(vi.getTimerCount()).toBe(0);
      resolveUrl(TEST_URL);
      await advance(60_000);
      expect(created).toHaveLength(0);
      expect(client.state).toBe('closed');
    });

    it('during a retry wait cancels the retry: no timer left, no new socket after advancing far', async () => {
      const mock = mockServer();
      const { WebSocket, created } = countingWebSocket();
      const client = new WebSocketClient(TEST_URL, mockOptions({ WebSocket, reconnect: { minDelay: 500 } }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.drop(1006);
      await advance(MOCK_DELAY);
      expect(client.state).toBe('reconnecting');
      expect(vi.getTimerCount()).toBe(1);
      await client.close();
      expect(client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      await advance(60_000);
      expect(created).toHaveLength(1);
      expect(mock.live()).toHaveLength(0);
      expect(events.slice(-2)).toEqual(['state:reconnecting>closed', 'close:1000:false']);
    });

    it('gives up on the closing handshake after closeTimeout', async () => {
      // A server that never answers the close frame: the client's socket stays CLOSING.
      mockServer().server.answersClose = false;
      const client = new WebSocketClient(TEST_URL, mockOptions({ closeTimeout: 300 }));
      const events = recordEvents(client);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      const closed = client.close();
      await advance(299);
      expect(client.state).toBe('closing');
      await advance(1);
      await closed;
      expect(events.slice(-2)).toEqual(['state:closing>closed', 'close:1006:false']);
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  describe('url', () => {
    it('calls a URL function before every attempt', async () => {
      const url = vi.fn(() => NO_SERVER_URL);
      const client = new WebSocketClient(url, mockOptions({ reconnect: { minDelay: 10, factor: 1 } }));
      recordEvents(client);
      expect(client.url).toBe('');
      client.open();
      expect(url).toHaveBeenCalledTimes(1);
      await advance(MOCK_DELAY + 10);
      expect(url).toHaveBeenCalledTimes(2);
      await advance(MOCK_DELAY + 10);
      expect(url).toHaveBeenCalledTimes(3);
      expect(client.url).toBe(NO_SERVER_URL);
    });

    it('accepts an async URL function', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(async () => new URL(TEST_URL), mockOptions());
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(client.state).toBe('open');
      expect(mock.sockets).toHaveLength(1);
      expect(client.url).toBe('ws://tether.test/live');
    });

    it('reports URL_FAILED with the cause when the URL function throws, then retries', async () => {
      mockServer();
      const boom = new Error('no token');
      const url = vi.fn<() => string>().mockImplementationOnce(() => {
        throw boom;
      });
      url.mockImplementation(() => TEST_URL);
      const client = new WebSocketClient(url, mockOptions({ reconnect: { minDelay: 100 } }));
      const errors: TetherError[] = [];
      client.on('error', (e) => errors.push(e));
      const events = recordEvents(client);
      const opened = client.open();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ name: 'TetherError', code: 'URL_FAILED', cause: boom });
      expect(errors[0]?.message).toMatch(/no token/);
      expect(events).toContain('reconnecting:1:100');
      await advance(99);
      expect(url).toHaveBeenCalledTimes(1);
      await advance(1 + MOCK_DELAY);
      await opened;
      expect(url).toHaveBeenCalledTimes(2);
      expect(client.state).toBe('open');
    });

    it('reports URL_FAILED when an async URL function rejects or gives an invalid URL', async () => {
      const url = vi
        .fn<() => Promise<string>>()
        .mockRejectedValueOnce(new Error('offline'))
        .mockResolvedValueOnce('ftp://tether.test/');
      const client = new WebSocketClient(url, mockOptions({ reconnect: { minDelay: 10, maxRetries: 1 } }));
      const events = recordEvents(client);
      client.open();
      await advance(10);
      expect(events.filter((e) => e.startsWith('error'))).toEqual([
        'error:URL_FAILED',
        'error:URL_FAILED',
        'error:RETRIES_EXHAUSTED',
      ]);
    });
  });

  describe('connectTimeout', () => {
    it('abandons an attempt whose URL never resolves: CONNECT_TIMEOUT, then a retry', async () => {
      const url = vi.fn(() => new Promise<string>(() => {}));
      const client = new WebSocketClient(
        url,
        mockOptions({ connectTimeout: 1000, reconnect: { minDelay: 200 } }),
      );
      const events = recordEvents(client);
      client.open();
      await advance(999);
      expect(events).toEqual(['state:idle>connecting']);
      await advance(1);
      expect(events).toEqual([
        'state:idle>connecting',
        'error:CONNECT_TIMEOUT',
        'state:connecting>reconnecting',
        'close:1006:true',
        'reconnecting:1:200',
      ]);
      await advance(200);
      expect(url).toHaveBeenCalledTimes(2);
      expect(client.state).toBe('connecting');
    });

    it('abandons a socket that never opens and closes it', async () => {
      // Hand-driven sockets: nothing opens them.
      const { WebSocket, sockets } = fakeWebSocket();
      const client = new WebSocketClient(
        TEST_URL,
        mockOptions({ WebSocket, connectTimeout: 500, reconnect: { minDelay: 50 } }),
      );
      const errors: string[] = [];
      client.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
      client.open();
      await advance(499);
      expect(errors).toEqual([]);
      await advance(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^CONNECT_TIMEOUT: .*500 ms/);
      expect(sockets[0]?.closeCalls).toEqual([{ code: undefined, reason: undefined }]);
      await advance(50);
      expect(sockets).toHaveLength(2);
    });
  });

  describe('events', () => {
    it('isolates a throwing listener: the next listener runs and LISTENER_ERROR carries the cause', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const boom = new Error('listener bug');
      const seen: string[] = [];
      const errors: TetherError[] = [];
      client.on('error', (e) => errors.push(e));
      client.on('message', () => {
        throw boom;
      });
      client.on('message', (m) => seen.push(String(m)));
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      mock.emit('one');
      mock.emit('two');
      expect(seen).toEqual(['one', 'two']);
      expect(errors).toHaveLength(2);
      expect(errors[0]).toMatchObject({ name: 'TetherError', code: 'LISTENER_ERROR', cause: boom });
      expect(errors[0]?.message).toMatch(/"message" listener threw.*listener bug/);
      expect(client.state).toBe('open');
    });

    it('keeps the client working when an "open" listener throws', async () => {
      const mock = mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions());
      const errors: string[] = [];
      client.on('error', (e) => errors.push(e.code));
      client.on('open', () => {
        throw new Error('oops');
      });
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(client.send('after')).toBe(true);
      await advance(MOCK_DELAY);
      expect(mock.received).toEqual(['after']);
      expect(errors).toEqual(['LISTENER_ERROR']);
    });

    it('exposes protocol, readyState, bufferedAmount and queued through getters', async () => {
      mockServer();
      const client = new WebSocketClient(TEST_URL, mockOptions({ protocols: 'chat' }));
      expect(client.readyState).toBe(3);
      expect(client.protocol).toBe('');
      client.send('abc');
      expect(client.queued).toBe(1);
      expect(client.bufferedAmount).toBe(3);
      await Promise.all([client.open(), advance(MOCK_DELAY)]);
      expect(client.protocol).toBe('chat');
      expect(client.queued).toBe(0);
      // Written at open: in the socket's buffer until it is on the network.
      expect(client.bufferedAmount).toBe(3);
      await advance(MOCK_DELAY);
      expect(client.bufferedAmount).toBe(0);
    });
  });
});
