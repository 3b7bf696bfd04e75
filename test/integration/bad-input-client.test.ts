// The client side of the bad-input table (docs/api.md), for the rows that need a real misbehaving server
// (the other client rows are covered by the unit tests the table names). Each test: the first
// connection goes to a bad server, the retry (the URL function is called before every attempt) to a
// good echo server; the client must report the fault as an `error` event, reconnect, and deliver
// what was queued, once.
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import {
  type CloseEvent,
  type TetherError,
  WebSocketClient,
  type WebSocketConstructor,
} from '../../client/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const WAIT_MS = 5000;
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A good echo server on 127.0.0.1 that records what it receives. */
async function echoServer(): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server = await startWsServer((socket) => {
    socket.on('message', (data, isBinary) => {
      received.push(String(data));
      socket.send(data, { binary: isBinary });
    });
  });
  closers.push(server.close);
  return { url: server.url, received };
}

/** A TCP server that answers every connection with `respond`, for servers `ws` would not let us write. */
async function rawServer(respond: (socket: Socket, request: string) => void): Promise<string> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => {});
    let request = '';
    socket.on('data', (chunk) => {
      request += String(chunk);
      if (request.includes('\r\n\r\n')) respond(socket, request);
    });
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'] });
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return `ws://127.0.0.1:${address.port}/`;
}

/** The 101 response a real server would send to this handshake (RFC 6455 §4.2.2). */
function accept(request: string): string {
  const key = /sec-websocket-key: (\S+)/i.exec(request)?.[1] ?? '';
  const digest = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${digest}\r\n\r\n`;
}

/**
 * A client whose first attempt goes to `badUrl` and every later one to `goodUrl`, with a message
 * queued before `open()` and another while it reconnects. When the bad server completes the
 * handshake, the first message is flushed into that connection at `open` (written, then the
 * connection dies: the documented loss); the second must always reach the good server, once.
 */
async function runAgainst(badUrl: string) {
  const good = await echoServer();
  let attempts = 0;
  const client = new WebSocketClient<string, string>(() => (attempts++ === 0 ? badUrl : good.url), {
    WebSocket: WS as unknown as WebSocketConstructor,
    reconnect: { minDelay: 20, maxDelay: 50 },
  });
  closers.push(() => client.close());
  const errors: TetherError[] = [];
  const closes: CloseEvent[] = [];
  client.on('error', (error) => errors.push(error));
  client.on('close', (close) => closes.push(close));
  const sentBeforeOpen = client.send('queued before open');
  const reconnecting = waitFor(client, 'reconnecting', { timeoutMs: WAIT_MS, label: 'client' });
  void client.open().catch(() => undefined);
  await reconnecting;
  const sentWhileReconnecting = client.send('queued while reconnecting');
  await waitUntil(() => good.received.includes('queued while reconnecting'), {
    timeoutMs: WAIT_MS,
    message: 'the message queued while reconnecting to reach the good server',
  });
  // One more round trip, so a duplicate would have arrived by now.
  client.send('last');
  await waitFor(client, 'message', { timeoutMs: WAIT_MS, filter: (text: string) => text === 'last' });
  return { client, errors, closes, good, sentBeforeOpen, sentWhileReconnecting };
}

describe('WebSocketClient against a server that sends bad input', () => {
  it('garbage instead of a handshake: SOCKET_ERROR, close 1006, reconnects, queued messages delivered once', async () => {
    const bad = await rawServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    const run = await runAgainst(bad);
    expect(run.errors.map((error) => error.code)).toEqual(['SOCKET_ERROR']);
    expect(run.closes[0]).toMatchObject({ code: 1006, wasClean: false, willReconnect: true });
    expect([run.sentBeforeOpen, run.sentWhileReconnecting]).toEqual([false, false]);
    // No handshake, so nothing was written: both queued messages wait for the good server.
    expect(run.good.received).toEqual(['queued before open', 'queued while reconnecting', 'last']);
    expect(run.client.state).toBe('open');
  });

  it('an invalid frame after the handshake: SOCKET_ERROR (1002 from ws), reconnects, queued messages delivered once', async () => {
    // FIN + opcode 0xF: a reserved opcode (RFC 6455 §5.2), then the server hangs up.
    const bad = await rawServer((socket, request) =>
      socket.end(Buffer.concat([Buffer.from(accept(request)), Buffer.from([0x8f, 0x00])])),
    );
    const run = await runAgainst(bad);
    expect(run.errors.map((error) => [error.code, (error.cause as Error).message])).toEqual([
      ['SOCKET_ERROR', 'Invalid WebSocket frame: invalid opcode 15'],
    ]);
    expect(run.closes[0]).toMatchObject({ code: 1006, wasClean: false, willReconnect: true });
    expect(run.good.received).toEqual(['queued while reconnecting', 'last']);
  });

  it('invalid UTF-8 in a text frame: SOCKET_ERROR, 1007 to the server, reconnects, queued messages delivered once', async () => {
    // ws does not validate what it sends: this is a text frame carrying the bytes ff fe.
    const serverSaw: number[] = [];
    const bad = await startWsServer((socket) => {
      socket.on('close', (code) => serverSaw.push(code));
      socket.send(Buffer.from([0xff, 0xfe]), { binary: false });
    });
    closers.push(bad.close);
    const run = await runAgainst(bad.url);
    expect(run.errors.map((error) => [error.code, (error.cause as Error).message])).toEqual([
      ['SOCKET_ERROR', 'Invalid WebSocket frame: invalid UTF-8 sequence'],
    ]);
    // ws sends the server a 1007 close frame (RFC 6455 §7.4.1) and stops reading, so it never sees
    // the server's answering close frame: the client's own close event says 1006.
    expect(serverSaw).toEqual([1007]);
    expect(run.closes[0]).toMatchObject({ code: 1006, wasClean: false, willReconnect: true });
    expect(run.good.received).toEqual(['queued while reconnecting', 'last']);
  });
});
