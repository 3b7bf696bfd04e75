import { describe, expect, it, vi } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  countingWebSocket,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

const DELAY = 200;
const INTERVAL = 1000;
/** Far beyond any delay the options allow: proves a retry is not merely late. */
const FAR = 10 * 60_000;

useMockClock();

function fire(target: EventTarget, type: string): void {
  target.dispatchEvent(new Event(type));
}

function setOnline(online: boolean) {
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(online);
}

function setVisibility(state: DocumentVisibilityState) {
  vi.spyOn(document, 'visibilityState', 'get').mockReturnValue(state);
  fire(document, 'visibilitychange');
}

/** An open client (heartbeat on, so visibility checks can ping) whose server can drop it. */
async function openClient(extra: object = {}) {
  const server = mockServer();
  const { WebSocket, created } = countingWebSocket();
  const client = new WebSocketClient(
    TEST_URL,
    mockOptions({
      WebSocket,
      reconnect: { minDelay: DELAY, maxDelay: DELAY },
      heartbeat: { interval: INTERVAL, timeout: 500 },
      ...extra,
    }),
  );
  const retries: Array<{ attempt: number; delay: number; offline: boolean }> = [];
  client.on('reconnecting', (retry) => retries.push(retry));
  const received = () => server.received.filter((data) => data === '__ping__').length;
  client.open();
  await advance(MOCK_DELAY);
  expect(client.state).toBe('open');
  /** The server drops the connection; the client is then reconnecting. */
  const drop = async () => {
    server.drop(1006);
    await advance(MOCK_DELAY);
    expect(client.state).toBe('reconnecting');
  };
  return { server, client, created, retries, pingsReceived: received, drop };
}

describe('WebSocketClient', () => {
  describe('network awareness (watchNetwork, on by default)', () => {
    it('`offline` while reconnecting pauses the retry: no attempt however long it waits', async () => {
      const { client, created, drop } = await openClient();
      await drop();
      fire(window, 'offline');
      await advance(FAR);
      expect(created).toHaveLength(1);
      expect(client.state).toBe('reconnecting');
    });

    it('`online` while reconnecting retries at once, without waiting for the delay', async () => {
      const { client, created, drop } = await openClient();
      await drop();
      fire(window, 'offline');
      await advance(FAR);
      fire(window, 'online');
      expect(created).toHaveLength(2);
      expect(client.state).toBe('connecting');
      await advance(MOCK_DELAY);
      expect(client.state).toBe('open');
    });

    it('`online` cuts a pending delay short even without a prior `offline`', async () => {
      const { client, created, drop } = await openClient();
      await drop();
      await advance(DELAY - 1);
      expect(created).toHaveLength(1);
      fire(window, 'online');
      expect(created).toHaveLength(2);
      // The cancelled delay does not start another attempt later (well before the heartbeat's ping).
      await advance(DELAY * 2);
      expect(created).toHaveLength(2);
      expect(client.state).toBe('open');
    });

    it('announces `offline: true` and schedules nothing when navigator.onLine is false at the loss', async () => {
      const { created, retries, drop } = await openClient();
      setOnline(false);
      await drop();
      expect(retries).toEqual([{ attempt: 1, delay: DELAY, offline: true }]);
      await advance(FAR);
      expect(created).toHaveLength(1);
      setOnline(true);
      fire(window, 'online');
      expect(created).toHaveLength(2);
    });

    it('announces `offline: false` when navigator.onLine is true', async () => {
      const { retries, drop } = await openClient();
      setOnline(true);
      await drop();
      expect(retries).toEqual([{ attempt: 1, delay: DELAY, offline: false }]);
    });

    it('`online` while open does nothing', async () => {
      const { client, created } = await openClient();
      fire(window, 'online');
      await advance(MOCK_DELAY);
      expect(created).toHaveLength(1);
      expect(client.state).toBe('open');
    });

    it('`offline` while open checks the connection with a ping at once', async () => {
      const { pingsReceived } = await openClient();
      fire(window, 'offline');
      await advance(MOCK_DELAY);
      expect(pingsReceived()).toBe(1);
    });
  });

  describe('probes while a ping is already outstanding', () => {
    it('an `offline` probe does not postpone the deadline of the ping already sent', async () => {
      const { client } = await openClient();
      const errors: string[] = [];
      client.on('error', (error) => errors.push(error.code));
      // The heartbeat pings at INTERVAL; the dead server never answers: due at INTERVAL + 500.
      await advance(INTERVAL + 400);
      fire(window, 'offline');
      await advance(100);
      expect(errors).toEqual(['HEARTBEAT_TIMEOUT']);
      expect(client.state).toBe('reconnecting');
    });
  });

  describe('page visibility', () => {
    it('pings at once when the page becomes visible after being hidden longer than `interval`', async () => {
      const { pingsReceived } = await openClient();
      setVisibility('hidden');
      // Hidden tabs throttle timers: the clock moves on, the heartbeat timer has not fired.
      vi.setSystemTime(Date.now() + INTERVAL + 1);
      setVisibility('visible');
      await advance(MOCK_DELAY);
      expect(pingsReceived()).toBe(1);
    });

    it('pings at once on becoming visible when the client was opened in a page already hidden', async () => {
      // A tab opened in the background: no `visibilitychange` to hidden ever reaches the client.
      vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
      const { pingsReceived } = await openClient();
      vi.setSystemTime(Date.now() + INTERVAL + 1);
      setVisibility('visible');
      await advance(MOCK_DELAY);
      expect(pingsReceived()).toBe(1);
    });

    it('does not ping early when the page was hidden for less than `interval`', async () => {
      const { pingsReceived } = await openClient();
      setVisibility('hidden');
      vi.setSystemTime(Date.now() + INTERVAL / 2);
      setVisibility('visible');
      await advance(MOCK_DELAY);
      expect(pingsReceived()).toBe(0);
    });

    it('does nothing on visibility without a heartbeat', async () => {
      const { server } = await openClient({ heartbeat: false });
      setVisibility('hidden');
      vi.setSystemTime(Date.now() + FAR);
      setVisibility('visible');
      await advance(MOCK_DELAY);
      expect(server.received).toEqual([]);
    });
  });

  describe('watchNetwork: false', () => {
    it('ignores `offline`, `online` and navigator.onLine: retries on its own schedule', async () => {
      const { created, retries, drop } = await openClient({ watchNetwork: false });
      setOnline(false);
      await drop();
      expect(retries).toEqual([{ attempt: 1, delay: DELAY, offline: false }]);
      fire(window, 'offline');
      fire(window, 'online');
      expect(created).toHaveLength(1);
      await advance(DELAY - 1);
      expect(created).toHaveLength(1);
      await advance(1);
      expect(created).toHaveLength(2);
    });

    it('ignores visibility changes', async () => {
      const { pingsReceived } = await openClient({ watchNetwork: false });
      setVisibility('hidden');
      vi.setSystemTime(Date.now() + INTERVAL + 1);
      setVisibility('visible');
      fire(window, 'offline');
      await advance(MOCK_DELAY);
      expect(pingsReceived()).toBe(0);
    });

    it('adds no listener to window or document', async () => {
      const onWindow = vi.spyOn(window, 'addEventListener');
      const onDocument = vi.spyOn(document, 'addEventListener');
      const { client } = await openClient({ watchNetwork: false });
      const closed = client.close();
      await advance(MOCK_DELAY);
      await closed;
      expect(onWindow).not.toHaveBeenCalled();
      expect(onDocument).not.toHaveBeenCalled();
    });
  });
});
