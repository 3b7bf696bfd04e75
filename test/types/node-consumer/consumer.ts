// Compiled by `npm run typecheck:consumer` (see tsconfig.json here); never run.

import { createClient, createCluster } from 'redis';
import { type ClientOptions, jsonCodec, TetherError, WebSocketClient } from 'tether-ws';
import { exactlyOnce } from 'tether-ws/exactly-once';
import { createMemoryStore, createTetherServer } from 'tether-ws/server';
import { createRedisStore } from 'tether-ws/server/redis';
import { TetherWebSocket } from 'tether-ws/websocket';
// The UMD subpath is loaded for its side effect, the global `TetherWS`.
import 'tether-ws/tether-ws.umd.js';
import { WebSocket } from 'ws';
import { NotExported } from './umd-named-import.js';

// `ws`'s constructor is accepted as it is typed, without a cast.
const options: ClientOptions<{ text: string }, { text: string }> = {
  WebSocket,
  codec: jsonCodec(),
  delivery: exactlyOnce({ resumeWindow: 10_000 }),
};
const client = new WebSocketClient('ws://127.0.0.1:8080/reliable', options);
client.on('message', (message) => message.text.toUpperCase());
client.on('error', (error) => (error instanceof TetherError ? error.code : undefined));
client.send({ text: 'hi' });
void client.close();

const tether = createTetherServer({ resumeWindow: 10_000 });
// A node-redis client is accepted as it is typed, as is the default store made explicit.
const redis = createClient({ url: 'redis://127.0.0.1:6379' });
createTetherServer({ store: createRedisStore({ client: redis }) }).close();
// So is a Redis Cluster client; an object without sendCommand is not.
const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:7000' }] });
createTetherServer({ store: createRedisStore({ client: cluster }) }).close();
// @ts-expect-error: not a node-redis client
createRedisStore({ client: { masters: [] } });
createTetherServer({ store: createMemoryStore({ maxSessions: 1000 }) }).close();
tether.on('session', (session) => session.on('message', (data) => session.send(data)));

// The drop-in entry, fed `ws` too.
const dropIn = new TetherWebSocket('ws://127.0.0.1:8080/', [], { WebSocket });
dropIn.close();

const fromGlobal = new TetherWS.WebSocketClient('ws://127.0.0.1:8080/', { WebSocket });
void fromGlobal.open();
void NotExported;

// The drop-in WebSocket's declarations need no DOM library either; `ws` is accepted as typed.
const socket = new TetherWebSocket('ws://127.0.0.1:8080/', [], { WebSocket, minReconnectionDelay: 500 });
socket.onmessage = (event) => (typeof event.data === 'string' ? event.data.length : 0);
socket.addEventListener('close', (event) => event.code);
socket.addEventListener('error', (event) => event.error?.code);
socket.close(1000);
