/**
 * graphql-ws's own server on a `ws` server at 127.0.0.1, with a subscription whose values the test
 * pushes, for the tests of consumers that reconnect on their own (graphql-ws, urql over it):
 * test/integration/websocket-graphql.test.ts and websocket-consumers.test.ts. It counts the live
 * connections, and the most that were ever live at once.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { waitFor } from './next-event.js';

const timeoutMs = 5000;

// graphql 16 ships CommonJS (main) and ESM (module) builds. graphql-ws's server is loaded by Node,
// which picks `main`; a plain import here would be resolved by Vite to `module`, and graphql refuses
// a schema made by its other copy. require() gives this test the copy the server uses.
const { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } = createRequire(import.meta.url)(
  'graphql',
) as typeof import('graphql');

/** Values the test pushes to the subscribers of one server; `subscribed` counts live subscriptions. */
export class Feed {
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

export interface GraphqlServer {
  wss: WebSocketServer;
  feed: Feed;
  /** Close codes of the connections that ended, in order. */
  closes: number[];
  /** The most connections that were open at once on this server. */
  readonly maxLive: number;
  /** The URL of the graphql endpoint. */
  url: string;
  stop(): Promise<void>;
}

/** graphql-ws's server on a ws server at 127.0.0.1 (port 0, or `port` for a restart). */
export async function startServer(port = 0): Promise<GraphqlServer> {
  const feed = new Feed();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await waitFor(wss, 'listening', { timeoutMs, failOn: ['error'], label: 'graphql-ws server' });
  const closes: number[] = [];
  let maxLive = 0;
  wss.on('connection', (socket) => {
    maxLive = Math.max(maxLive, wss.clients.size);
    socket.on('close', (code) => closes.push(code));
  });
  const disposable = useServer({ schema: schemaFor(feed) }, wss);
  return {
    wss,
    feed,
    closes,
    get maxLive() {
      return maxLive;
    },
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`,
    // A crash, not a shutdown: connections are cut (1006 on the client), then the port is freed.
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
