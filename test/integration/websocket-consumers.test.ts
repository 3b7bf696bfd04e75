/**
 * Consumers that reconnect on their own, given tether-ws/websocket as their `WebSocket`, each
 * through a server crash and restart and then their own teardown, against their real servers:
 * graphql-ws's client (on graphql-ws's server), urql's subscriptions over graphql-ws, and
 * y-websocket (on a y-protocols server). Two ways to hand it over:
 * - as it is ("import-only": only `ws` bound, as Node needs; a browser passes the class itself);
 * - with docs/websocket.md's recipe for these libraries, `reconnect: false`.
 * A socket counts as live until its client is `closed`: one that is `reconnecting` will connect
 * again, so this is exact without waiting for its next attempt.
 */
import { Client, subscriptionExchange } from '@urql/core';
import { createClient, type Client as GraphqlWsClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import ws from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { TetherWebSocket, type TetherWebSocketOptions } from '../../client/websocket/index.js';
import { type GraphqlServer, startServer } from '../helpers/graphql-server.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { startYServer, type YServer } from '../helpers/y-server.js';

const timeoutMs = 5000;
const made: TetherWebSocket[] = [];
const cleanups: Array<() => unknown> = [];

/** The class as a library is given it, with `options` bound; records every socket it makes. */
function impl(options: TetherWebSocketOptions): typeof TetherWebSocket {
  return class extends TetherWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { WebSocket: ws as never, ...options });
      made.push(this);
    }
  };
}

const MODES = {
  'as it is (import-only)': impl({}),
  'with the recipe (reconnect: false)': impl({ reconnect: false }),
};

const live = () => made.filter((socket) => socket.client.state !== 'closed');

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const socket of made.splice(0)) socket.close();
});

/** A GraphQL client that subscribes to `subscription { count }`; `dispose` is its own teardown. */
type Subscriber = (
  url: string,
  Impl: typeof TetherWebSocket,
  restarted: Promise<void>,
  values: number[],
) => { dispose(): Promise<void> };

/** graphql-ws's client; its retry waits for the new server, not for a time. */
function graphqlWsClient(
  url: string,
  Impl: typeof TetherWebSocket,
  restarted: Promise<void>,
): GraphqlWsClient {
  return createClient({ url, webSocketImpl: Impl, retryWait: () => restarted });
}

const SUBSCRIBERS: Record<string, Subscriber> = {
  'graphql-ws': (url, Impl, restarted, values) => {
    const client = graphqlWsClient(url, Impl, restarted);
    client.subscribe<{ count: number }>(
      { query: 'subscription { count }' },
      {
        next: (result) => values.push(result.data?.count ?? Number.NaN),
        error: () => {},
        complete: () => {},
      },
    );
    return { dispose: () => client.dispose() as Promise<void> };
  },
  'urql (subscriptionExchange over graphql-ws)': (url, Impl, restarted, values) => {
    const wsClient = graphqlWsClient(url, Impl, restarted);
    const client = new Client({
      url: 'http://127.0.0.1/unused',
      exchanges: [
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({
              unsubscribe: wsClient.subscribe({ ...request, query: request.query ?? '' }, sink),
            }),
          }),
        }),
      ],
    });
    const { unsubscribe } = client
      .subscription<{ count: number }>('subscription { count }', {})
      .subscribe((result) => values.push(result.data?.count ?? Number.NaN));
    return {
      async dispose() {
        unsubscribe();
        await wsClient.dispose();
      },
    };
  },
};

/** Runs one subscriber through a crash and restart, then its teardown; returns what was seen. */
async function restartAndDispose(subscribe: Subscriber, Impl: typeof TetherWebSocket) {
  let server: GraphqlServer = await startServer();
  const port = new URL(server.url).port;
  let serverBack: () => void = () => {};
  const restarted = new Promise<void>((resolve) => {
    serverBack = resolve;
  });
  const values: number[] = [];
  const session = subscribe(server.url, Impl, restarted, values);
  cleanups.push(() => session.dispose());

  await waitUntil(() => server.feed.subscribed === 1, { timeoutMs, message: 'the first subscription' });
  for (const value of [1, 2, 3]) server.feed.push(value);
  await waitUntil(() => values.length === 3, { timeoutMs, message: 'values 1-3' });
  const firstMaxLive = server.maxLive;

  await server.stop();
  server = await startServer(Number(port));
  cleanups.push(() => server.stop());
  serverBack();
  await waitUntil(() => server.feed.subscribed === 1, { timeoutMs, message: 'the new subscription' });
  for (const value of [4, 5]) server.feed.push(value);
  await waitUntil(() => values.length === 5, { timeoutMs, message: 'values 4-5' });
  const liveAfterRestart = live().length;

  const current = made.at(-1) as TetherWebSocket;
  const closed = waitFor(current, 'close', { timeoutMs });
  await session.dispose();
  await closed;
  return {
    values,
    maxLive: [firstMaxLive, server.maxLive],
    liveAfterRestart,
    liveAfterDispose: live().length,
    made: made.length,
  };
}

describe('consumers that reconnect on their own, through a server restart and their teardown', () => {
  for (const [consumer, subscribe] of Object.entries(SUBSCRIBERS)) {
    it(`${consumer}, with the recipe (reconnect: false): one live connection at most, none after dispose(), each value once`, async () => {
      const seen = await restartAndDispose(subscribe, MODES['with the recipe (reconnect: false)']);
      expect(seen.values).toEqual([1, 2, 3, 4, 5]);
      expect(seen.maxLive).toEqual([1, 1]);
      expect(seen.liveAfterRestart).toBe(1);
      expect(seen.liveAfterDispose).toBe(0);
    });

    it(`${consumer}, as it is (import-only): each value once, but the socket it abandoned keeps reconnecting (docs/websocket.md)`, async () => {
      const seen = await restartAndDispose(subscribe, MODES['as it is (import-only)']);
      expect(seen.values).toEqual([1, 2, 3, 4, 5]);
      expect(seen.made).toBe(2);
      expect(seen.liveAfterRestart).toBe(2);
      expect(seen.liveAfterDispose).toBe(1);
    });
  }

  for (const [mode, Impl] of Object.entries(MODES)) {
    it(`y-websocket, ${mode}: closes the socket it leaves, so one live connection at most and none after destroy()`, async () => {
      let server: YServer = await startYServer();
      const port = Number(new URL(server.url).port);
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(server.url, 'room', doc, {
        WebSocketPolyfill: Impl as unknown as typeof WebSocket,
        disableBc: true,
      });
      cleanups.push(() => provider.destroy());
      const synced = () => waitUntil(() => provider.synced, { timeoutMs, message: 'the provider to sync' });
      await synced();
      server.doc('room').getMap('m').set('a', 1);
      await waitUntil(() => doc.getMap('m').get('a') === 1, { timeoutMs, message: '"a" from the server' });
      expect(server.maxLive).toBe(1);

      await server.stop();
      await waitUntil(() => !provider.synced, { timeoutMs, message: 'the provider to notice' });
      server = await startYServer(port);
      cleanups.push(() => server.stop());
      await synced();
      // The new server's document got the client's state back, and a new change reaches it.
      await waitUntil(() => server.doc('room').getMap('m').get('a') === 1, {
        timeoutMs,
        message: '"a" back on the new server',
      });
      server.doc('room').getMap('m').set('b', 2);
      await waitUntil(() => doc.getMap('m').get('b') === 2, {
        timeoutMs,
        message: '"b" from the new server',
      });
      expect(server.maxLive).toBe(1);
      expect(live()).toHaveLength(1);

      provider.destroy();
      await waitUntil(() => live().length === 0 && server.wss.clients.size === 0, {
        timeoutMs,
        message: 'the last socket to close',
      });
    });
  }
});
