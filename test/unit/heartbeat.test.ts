import { describe, expect, it, vi } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  countingWebSocket,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  recordEvents,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

const INTERVAL = 1000;
const TIMEOUT = 500;
const MIN_DELAY = 100;

useMockClock();

/** The fake network's WebSocket; each socket records what the client writes as it writes it. */
function recordingWebSocket() {
  const { WebSocket, created } = countingWebSocket();
  const writes = () => created.map((socket) => socket.sent);
  return {
    WebSocket,
    /** Pings written on socket `index` (0 = first connection). */
    pings: (index = 0, ping: unknown = '__ping__') =>
      (created[index]?.sent ?? []).filter((d) => d === ping).length,
    created,
    writes,
  };
}

/** An open client with a heartbeat, against a mock server that does not answer pings. */
async function openClient(heartbeat: object = {}) {
  const server = mockServer();
  const recording = recordingWebSocket();
  const client = new WebSocketClient(
    TEST_URL,
    mockOptions({
      WebSocket: recording.WebSocket,
      heartbeat: { interval: INTERVAL, timeout: TIMEOUT, ...heartbeat },
      reconnect: { minDelay: MIN_DELAY, maxDelay: MIN_DELAY },
    }),
  );
  const log = recordEvents(client);
  client.open();
  await advance(MOCK_DELAY);
  expect(client.state).toBe('open');
  return { server, client, log, ...recording };
}

describe('WebSocketClient', () => {
  describe('heartbeat', () => {
    it('is off by default: no ping however long the connection is idle', async () => {
      mockServer();
      const { WebSocket, pings } = recordingWebSocket();
      const client = new WebSocketClient(TEST_URL, mockOptions({ WebSocket }));
      client.open();
      await advance(MOCK_DELAY + 60_000);
      expect(client.state).toBe('open');
      expect(pings()).toBe(0);
    });

    it('pings once `interval` has passed with nothing received: not at interval - 1, at interval', async () => {
      const { pings } = await openClient();
      await advance(INTERVAL - 1);
      expect(pings()).toBe(0);
      await advance(1);
      expect(pings()).toBe(1);
    });

    it('postpones the ping when a message arrives: interval counts from the last inbound message', async () => {
      const { server, pings } = await openClient();
      await advance(600);
      server.emit('news');
      await advance(INTERVAL - 1);
      expect(pings()).toBe(0);
      await advance(1);
      expect(pings()).toBe(1);
    });

    it('does not postpone the ping for messages the client sends (a dead socket swallows them)', async () => {
      const { client, writes } = await openClient();
      for (let t = 100; t < INTERVAL; t += 100) {
        await advance(100);
        client.send(`out ${t}`);
      }
      await advance(INTERVAL - 900);
      // Nine sends, then the ping at exactly `interval` after open.
      expect(writes()[0]).toHaveLength(10);
      expect(writes()[0]?.at(-1)).toBe('__ping__');
    });

    it('never delivers a pong as a `message`, and keeps the connection after it', async () => {
      const { server, client, log, pings } = await openClient();
      await advance(INTERVAL);
      expect(pings()).toBe(1);
      server.emit('__pong__');
      server.emit('real');
      await advance(TIMEOUT);
      expect(log.filter((e) => e.startsWith('message:'))).toEqual(['message:real']);
      expect(client.state).toBe('open');
    });

    it('uses a custom ping and pong matcher, and delivers the default pong text as a message then', async () => {
      const { server, log, pings } = await openClient({
        ping: 'PING?',
        isPong: (data: unknown) => data === 'PONG!',
      });
      await advance(INTERVAL);
      expect(pings(0, 'PING?')).toBe(1);
      expect(pings(0, '__ping__')).toBe(0);
      server.emit('PONG!');
      server.emit('__pong__');
      expect(log.filter((e) => e.startsWith('message:'))).toEqual(['message:__pong__']);
    });

    it('without an answer within `timeout`: HEARTBEAT_TIMEOUT, close 1006, then a reconnect', async () => {
      const { server, client, log, writes } = await openClient();
      const closes: unknown[] = [];
      client.on('close', (close) => closes.push(close));
      await advance(INTERVAL);
      log.length = 0;
      await advance(TIMEOUT - 1);
      expect(log).toEqual([]);
      await advance(1);
      expect(log).toEqual([
        'error:HEARTBEAT_TIMEOUT',
        'state:open>reconnecting',
        `close:1006:true`,
        `reconnecting:1:${MIN_DELAY}`,
      ]);
      expect(closes).toEqual([
        {
          code: 1006,
          reason: `No message within ${TIMEOUT} ms of a ping`,
          wasClean: false,
          willReconnect: true,
        },
      ]);
      await advance(MIN_DELAY);
      expect(writes()).toHaveLength(2);
      await advance(MOCK_DELAY);
      expect(client.state).toBe('open');
      expect(server.sockets).toHaveLength(2);
    });

    it('any message within `timeout` of the ping counts as an answer, and the next ping follows', async () => {
      const { server, client, pings } = await openClient();
      await advance(INTERVAL);
      await advance(TIMEOUT - 1);
      server.emit('not a pong, but alive');
      await advance(1);
      expect(client.state).toBe('open');
      // The next ping is `interval` after that message.
      await advance(INTERVAL - 2);
      expect(pings()).toBe(1);
      await advance(1);
      expect(pings()).toBe(2);
    });

    it('pings at once when its timer fires late (the machine slept), instead of waiting again', async () => {
      const { server, pings } = await openClient();
      await advance(600);
      server.emit('news');
      // Control: without the sleep this timer (at INTERVAL) would find 400 ms idle and wait 600 more.
      vi.setSystemTime(Date.now() + 60 * 60_000);
      await advance(INTERVAL - 600 - 1);
      expect(pings()).toBe(0);
      await advance(1);
      expect(pings()).toBe(1);
    });

    it('without the sleep, the same timer reschedules rather than pinging (control for the test above)', async () => {
      const { server, pings } = await openClient();
      await advance(600);
      server.emit('news');
      await advance(INTERVAL - 600);
      expect(pings()).toBe(0);
      await advance(599);
      expect(pings()).toBe(0);
      await advance(1);
      expect(pings()).toBe(1);
    });

    it('leaves no timer behind after close()', async () => {
      const { client } = await openClient();
      await advance(INTERVAL);
      const closed = client.close();
      await advance(MOCK_DELAY);
      await closed;
      expect(client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});
