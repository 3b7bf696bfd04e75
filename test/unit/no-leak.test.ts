import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import { type FakeSocket, fakeWebSocket } from '../helpers/fake-socket.js';

const URL = 'ws://tether.test/live';
const DELAY = 10;
const INTERVAL = 50;
const CYCLES = 1000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Follows listeners added to and removed from `window` and `document`; `live()` lists those left. */
function trackGlobalListeners() {
  const live = new Set<string>();
  const ids = new Map<unknown, number>();
  const key = (where: string, type: string, listener: unknown) => {
    if (!ids.has(listener)) ids.set(listener, ids.size);
    return `${where}:${type}#${ids.get(listener)}`;
  };
  for (const [where, target] of [
    ['window', window],
    ['document', document],
  ] as const) {
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      live.add(key(where, type, listener));
      add(type, listener, options);
    });
    vi.spyOn(target, 'removeEventListener').mockImplementation((type, listener, options) => {
      live.delete(key(where, type, listener));
      remove(type, listener, options);
    });
  }
  return { live: () => [...live].sort() };
}

describe('WebSocketClient', () => {
  describe('resources', () => {
    it(`leaves no timer, socket listener or window/document listener after ${CYCLES} open/close and reconnect cycles`, async () => {
      const globals = trackGlobalListeners();
      const { WebSocket, sockets } = fakeWebSocket();
      const client = new WebSocketClient(URL, {
        WebSocket,
        reconnect: { minDelay: DELAY, maxDelay: DELAY, resetAfter: 20 },
        heartbeat: { interval: INTERVAL, timeout: 20 },
        random: () => 0,
      });
      const latest = () => sockets.at(-1) as FakeSocket;
      let checkedWhileOpen = false;

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        client.open();
        const kind = cycle % 3;
        if (kind === 2) {
          // Closed while still connecting.
          expect(client.state).toBe('connecting');
        } else {
          latest().serverOpen();
          expect(client.state).toBe('open');
          if (!checkedWhileOpen) {
            // The tracking does see the client's listeners while it runs.
            expect(globals.live()).toHaveLength(3);
            checkedWhileOpen = true;
          }
          await vi.advanceTimersByTimeAsync(INTERVAL);
          latest().serverMessage('__pong__');
          latest().serverMessage('data');
          latest().serverClose(1006);
          expect(client.state).toBe('reconnecting');
          if (kind === 0) {
            await vi.advanceTimersByTimeAsync(DELAY);
            latest().serverOpen();
            expect(client.state).toBe('open');
          }
          // kind 1: closed during the retry delay.
        }
        await client.close();
        expect(client.state).toBe('closed');
        expect(vi.getTimerCount()).toBe(0);
        expect(globals.live()).toEqual([]);
      }

      expect(sockets.length).toBe(CYCLES + Math.ceil(CYCLES / 3));
      // Each let-go socket keeps exactly one listener: the client's no-op `error` absorber, which
      // keeps a late error on a detached socket from being unhandled (CONTRIBUTING.md, "Conventions").
      const leftovers = sockets.filter((socket) => {
        const counts = socket.listenerCounts();
        return !(Object.keys(counts).length === 1 && counts.error === 1);
      });
      expect(leftovers.map((socket) => socket.listenerCounts())).toEqual([]);
      expect(sockets.every((socket) => socket.added - socket.removed === 1)).toBe(true);
      expect(sockets.every((socket) => socket.readyState === 3)).toBe(true);
    });
  });
});
