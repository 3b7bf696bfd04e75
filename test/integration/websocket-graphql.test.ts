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
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import ws from 'ws';
import { TetherWebSocket } from '../../client/websocket/index.js';
import { type GraphqlServer, startServer } from '../helpers/graphql-server.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';

const timeoutMs = 5000;

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
