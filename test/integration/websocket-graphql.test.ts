/**
 * A real consumer of a `WebSocket` constructor: graphql-ws's client (`createClient({ url,
 * webSocketImpl })`) on tether-ws/websocket, against graphql-ws's own `ws` server, with a
 * subscription that streams through a server restart.
 *
 * Why graphql-ws (rather than y-websocket): it is the most used library that takes a constructor,
 * and it leans on exactly what a drop-in must get right: the constants on the class (it refuses a
 * constructor without them), `readyState === OPEN` inside `onopen` (else it never sends its
 * `connection_init`), the subprotocol, `MessageEvent.data`, and the `CloseEvent` code it uses to
 * decide between retrying and failing. Like y-websocket it reconnects by itself, making a new
 * socket after every close, so it gets `reconnect: false` (docs/websocket.md, "Libraries that
 * reconnect on their own"): the test checks that no abandoned socket reconnects behind its back.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { afterEach, describe, expect, it } from 'vitest';
import ws, { WebSocketServer } from 'ws';
import { TetherWebSocket } from '../../client/websocket/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';

const timeoutMs = 5000;

// graphql 16 ships CommonJS (main) and ESM (module) builds. graphql-ws's server is loaded by Node,
// which picks `main`; a plain import here would be resolved by Vite to `module`, and graphql refuses
// a schema made by its other copy. require() gives this test the copy the server uses.
const { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } = createRequire(import.meta.url)(
  'graphql',
) as typeof import('graphql');

/** Values the test pushes to the subscribers of one server; `subscribed` counts live subscriptions. */
class Feed {
  subscribed = 0;
  readonly #waiting: Array<(value: number) => void> = [];
  readonly #pending: number[] = [];

  push(value: number): void {
    const take = this.#waiting.shift();
    if (take) take(value);
    else this.#pending.push(value);
  }

  async *values(): AsyncGenerator<number> {
    this.subscribed++;
    try {
      for (;;) {
        const next = this.#pending.shift();
        yield next ?? (await new Promise<number>((resolve) => this.#waiting.push(resolve)));
      }
    } finally {
      this.subscribed--;
    }
  }
}

function schemaFor(feed: Feed): import('graphql').GraphQLSchema {
  return new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: { hello: { type: GraphQLString, resolve: () => 'world' } },
    }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        count: { type: GraphQLInt, subscribe: () => feed.values(), resolve: (value: number) => value },
      },
    }),
  });
}

interface GraphqlServer {
  wss: WebSocketServer;
  feed: Feed;
  /** Close codes of the connections that ended, in order. */
  closes: number[];
  stop(): Promise<void>;
}

/** graphql-ws's server on a ws server at 127.0.0.1 (port 0, or `port` for a restart). */
async function startServer(port = 0): Promise<GraphqlServer> {
  const feed = new Feed();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await waitFor(wss, 'listening', { timeoutMs, failOn: ['error'], label: 'graphql-ws server' });
  const closes: number[] = [];
  wss.on('connection', (socket) => socket.on('close', (code) => closes.push(code)));
  const disposable = useServer({ schema: schemaFor(feed) }, wss);
  return {
    wss,
    feed,
    closes,
    // A crash, not a shutdown: connections are cut (1006 on the client), then the port is freed.
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** What a page or app would write: tether-ws's socket, with `ws` in Node, bound for graphql-ws. */
const made: TetherWebSocket[] = [];
class GraphqlSocket extends TetherWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols, { WebSocket: ws as never, reconnect: false, connectTimeout: 2000 });
    made.push(this);
  }
}

const servers: GraphqlServer[] = [];
afterEach(async () => {
  for (const socket of made.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('tether-ws/websocket as graphql-ws webSocketImpl', () => {
  it('answers a query', async () => {
    const server = await startServer();
    servers.push(server);
    const url = `ws://127.0.0.1:${(server.wss.address() as AddressInfo).port}/graphql`;
    const client = createClient({ url, webSocketImpl: GraphqlSocket, retryAttempts: 0 });
    const result = await new Promise((resolve, reject) => {
      client.subscribe({ query: '{ hello }' }, { next: resolve, error: reject, complete: () => {} });
    });
    expect(result).toEqual({ data: { hello: 'world' } });
    expect(made[0]?.protocol).toBe('graphql-transport-ws');
    await client.dispose();
    await waitUntil(() => server.closes.length === 1, { timeoutMs, message: 'the connection to close' });
    expect(server.closes).toEqual([1000]);
  });

  it('streams a subscription through a server restart, in order, on one live socket at a time', async () => {
    let server = await startServer();
    servers.push(server);
    const { port } = server.wss.address() as AddressInfo;
    let serverBack: () => void = () => {};
    const restarted = new Promise<void>((resolve) => {
      serverBack = resolve;
    });
    const connected: unknown[] = [];
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: GraphqlSocket,
      // graphql-ws's own retry; waiting for the new server (not for a time) keeps the test exact.
      retryWait: () => restarted,
      on: { connected: (socket) => connected.push(socket) },
    });
    const received: number[] = [];
    const errors: unknown[] = [];
    client.subscribe<{ count: number }>(
      { query: 'subscription { count }' },
      {
        next: (result) => received.push(result.data?.count ?? Number.NaN),
        error: (error) => errors.push(error),
        complete: () => {},
      },
    );

    const first = server.feed;
    await waitUntil(() => first.subscribed === 1, { timeoutMs, message: 'the first subscription' });
    for (const value of [1, 2, 3]) first.push(value);
    await waitUntil(() => received.length === 3, { timeoutMs, message: 'values 1-3' });

    const firstSocket = made[0] as TetherWebSocket;
    const lost = waitFor<CloseEvent>(firstSocket, 'close', { timeoutMs });
    await server.stop();
    servers.splice(0);
    expect((await lost).code).toBe(1006);
    expect(firstSocket.readyState).toBe(TetherWebSocket.CLOSED);
    // Stopped, not waiting to retry: nothing will reconnect it behind graphql-ws's back.
    expect(firstSocket.client.state).toBe('closed');

    server = await startServer(port);
    servers.push(server);
    serverBack();
    const second = server.feed;
    await waitUntil(() => second.subscribed === 1, {
      timeoutMs,
      message: 'the subscription on the new server',
    });
    for (const value of [4, 5]) second.push(value);
    await waitUntil(() => received.length === 5, { timeoutMs, message: 'values 4-5' });

    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(errors).toEqual([]);
    expect(connected).toEqual([made[0], made[1]]);
    expect(made.every((socket) => socket instanceof TetherWebSocket)).toBe(true);
    // The socket graphql-ws abandoned stays closed: one connection on the new server, not two.
    expect(server.wss.clients.size).toBe(1);
    expect(firstSocket.readyState).toBe(TetherWebSocket.CLOSED);

    await client.dispose();
    await waitUntil(() => server.closes.length === 1, { timeoutMs, message: 'the connection to close' });
    expect(server.closes).toEqual([1000]);
  });
});
