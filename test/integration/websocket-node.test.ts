/**
 * tether-ws/websocket in Node 20 with `ws` as the `WebSocket` option, against a real ws server:
 * what differs from a browser (no global `WebSocket`, no `CloseEvent`) and what only a real socket
 * shows (negotiated extensions, binary frames, the server's close code).
 */
import { afterEach, describe, expect, it } from 'vitest';
import ws, { type WebSocketServer } from 'ws';
import { createTetherServer, handleProtocols } from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { TetherWebSocket } from '../../client/websocket/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const timeoutMs = 5000;
const WebSocket = ws as never;

const servers: Array<{ wss: WebSocketServer; close: () => Promise<void> }> = [];
const sockets: TetherWebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** An echo server; `close-me` makes it close with 4001, `drop-me` cuts the connection. */
async function echoServer(): Promise<string> {
  const server = await startWsServer(
    (socket) => {
      socket.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        if (text === 'close-me') socket.close(4001, 'bye');
        else if (text === 'drop-me') socket.terminate();
        else socket.send(data, { binary: isBinary });
      });
    },
    { perMessageDeflate: true },
  );
  servers.push(server);
  return server.url;
}

function connect(url: string, options = {}): TetherWebSocket {
  const socket = new TetherWebSocket(url, ['echo.v1'], { WebSocket, ...options });
  sockets.push(socket);
  return socket;
}

describe('tether-ws/websocket in Node with ws', () => {
  it('shows the negotiated subprotocol and extensions, and delivers binary per binaryType', async () => {
    const socket = connect(await echoServer());
    await waitFor(socket, 'open', { timeoutMs, failOn: ['close'] });
    expect(socket.protocol).toBe('echo.v1');
    expect(socket.extensions).toMatch(/^permessage-deflate/);
    socket.send(new Uint8Array([1, 2]));
    const blob = await waitFor<MessageEvent>(socket, 'message', { timeoutMs });
    expect(blob).toBeInstanceOf(MessageEvent);
    expect(blob.data).toBeInstanceOf(Blob);
    socket.binaryType = 'arraybuffer';
    socket.send(new Uint8Array([3]));
    const buffer = await waitFor<MessageEvent>(socket, 'message', { timeoutMs });
    expect(new Uint8Array(buffer.data)).toEqual(new Uint8Array([3]));
  });

  it('dispatches close as an Event with code, reason and wasClean (Node 20 has no CloseEvent)', async () => {
    const socket = connect(await echoServer(), { reconnect: false });
    await waitFor(socket, 'open', { timeoutMs, failOn: ['close'] });
    socket.send('close-me');
    const closed = await waitFor<CloseEvent>(socket, 'close', { timeoutMs });
    expect(closed).toBeInstanceOf(Event);
    expect([closed.type, closed.code, closed.reason, closed.wasClean]).toEqual(['close', 4001, 'bye', true]);
    expect(socket.readyState).toBe(TetherWebSocket.CLOSED);
  });

  it('reconnects after the server cuts the connection and delivers what was sent meanwhile', async () => {
    const socket = connect(await echoServer(), { minReconnectionDelay: 20, reconnect: { jitter: 0 } });
    await waitFor(socket, 'open', { timeoutMs, failOn: ['close'] });
    socket.send('drop-me');
    const lost = await waitFor<CloseEvent>(socket, 'close', { timeoutMs });
    expect([lost.code, lost.wasClean, socket.readyState]).toEqual([1006, false, TetherWebSocket.CLOSED]);
    socket.send('while away');
    await waitFor(socket, 'open', { timeoutMs, failOn: ['close'] });
    const echoed = await waitFor<MessageEvent>(socket, 'message', { timeoutMs });
    expect(echoed.data).toBe('while away');
  });

  it('carries delivery: exactlyOnce(): what is sent across dropped connections arrives once, in order, both ways', async () => {
    const tether = createTetherServer({ resumeWindow: 10_000 });
    const atServer: string[] = [];
    tether.on('session', (session) =>
      session.on('message', (data) => {
        atServer.push(String(data));
        session.send(data);
      }),
    );
    const server = await startWsServer((socket, request) => tether.handle(socket, request), {
      handleProtocols,
    });
    const close = async () => {
      await server.close();
      tether.close();
    };
    servers.push({ wss: server.wss, close });
    const socket = new TetherWebSocket(server.url, [], {
      WebSocket,
      delivery: exactlyOnce(),
      minReconnectionDelay: 10,
      reconnect: { jitter: 0 },
    });
    sockets.push(socket);
    const echoed: string[] = [];
    socket.onmessage = (event) => echoed.push(String(event.data));
    let reopened = 0;
    socket.addEventListener('open', () => reopened++);
    const expected = Array.from({ length: 60 }, (_, i) => `m${i}`);
    for (const [i, text] of expected.entries()) {
      socket.send(text);
      // Cut every connection three times along the way, written-but-unacknowledged messages included.
      if (i % 20 === 10) {
        await waitUntil(() => atServer.length > i - 5, { timeoutMs, message: `the server to get m${i - 5}` });
        for (const client of server.wss.clients) client.terminate();
      }
    }
    await waitUntil(() => echoed.length === expected.length, { timeoutMs, message: 'every echo' });
    expect(atServer).toEqual(expected);
    expect(echoed).toEqual(expected);
    expect(socket.protocol).toBe('tether.v1');
    expect(reopened).toBeGreaterThanOrEqual(4);
  });
});
