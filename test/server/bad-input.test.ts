// The server side of the bad-input table (docs/api.md): one test per row. Each row checks what the
// misbehaving peer sees (an HTTP status or a close code with its reason) and that a well-behaved
// client connected before the abuse keeps its echo.
import { type IncomingMessage, request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { waitFor, waitForArgs, waitUntil } from '../helpers/next-event.js';
import { Clients, closeOf, nextMessage, refusalOf, WAIT_MS } from '../helpers/ws-clients.js';

describe('server bad-input table', () => {
  let dev: TestDevServer | undefined;
  const clients = new Clients();

  afterEach(async () => {
    clients.closeAll();
    await dev?.close();
    dev = undefined;
  });

  /** A client that connected before the abuse; `assertEchoes()` proves it was not harmed. */
  async function bystander(server: TestDevServer) {
    const socket = await clients.open(server.wsUrl);
    return {
      socket,
      async assertEchoes(text = 'still here') {
        socket.send(text);
        expect(await nextMessage(socket)).toMatchObject({ text, isBinary: false });
      },
    };
  }

  const refusals = async (server: TestDevServer) => (await server.server.metrics.snapshot()).refusals;

  it('oversize frame: that connection is closed with 1009, the others keep echoing', async () => {
    dev = await startDevServer({ maxPayload: 1024 });
    const other = await bystander(dev);
    const greedy = await clients.open(dev.wsUrl);
    greedy.send(Buffer.alloc(1025));
    expect(await closeOf(greedy)).toEqual({ code: 1009, reason: '' });
    expect((await refusals(dev))['max-payload']).toBe(1);
    await other.assertEchoes();
  });

  it('invalid UTF-8 in a text frame: that connection is closed with 1007, the others keep echoing', async () => {
    dev = await startDevServer();
    const other = await bystander(dev);
    const bad = await clients.open(dev.wsUrl);
    // ws does not validate outgoing text, so this puts a text frame with bytes 0xff 0xfe on the wire.
    bad.send(Buffer.from([0xff, 0xfe]), { binary: false });
    expect(await closeOf(bad)).toEqual({ code: 1007, reason: '' });
    await other.assertEchoes();
  });

  it('bad Origin: the upgrade is refused with HTTP 403 "Origin not allowed"', async () => {
    dev = await startDevServer();
    const other = await bystander(dev);
    const foreign = clients.connect(dev.wsUrl, { origin: 'https://evil.example' });
    expect(await refusalOf(foreign)).toEqual({ status: 403, body: 'Origin not allowed' });
    expect((await refusals(dev)).origin).toBe(1);
    await other.assertEchoes();
  });

  it('non-upgrade GET on the WebSocket path: answered as HTTP (the demo page), no socket opened', async () => {
    dev = await startDevServer();
    const other = await bystander(dev);
    const response = await fetch(`${dev.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    await response.text();
    expect(dev.server.wss.clients.size).toBe(1);
    await other.assertEchoes();
  });

  it('malformed upgrade on the WebSocket path (no Sec-WebSocket-Key): HTTP 400', async () => {
    dev = await startDevServer();
    const other = await bystander(dev);
    const req = request(dev.url, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
    req.end();
    const response = await waitFor<IncomingMessage>(req, 'response', {
      timeoutMs: WAIT_MS,
      failOn: ['error'],
      label: 'malformed upgrade',
    });
    let body = '';
    for await (const chunk of response) body += String(chunk);
    expect({ status: response.statusCode, body }).toEqual({
      status: 400,
      body: 'Missing or invalid Sec-WebSocket-Key header',
    });
    await other.assertEchoes();
  });

  it('flood: a connection over messageRate (after its burst) is closed with 1008 and a reason', async () => {
    dev = await startDevServer({ messageRate: 10, messageBurst: 20 });
    const other = await bystander(dev);
    const flooder = await clients.open(dev.wsUrl);
    const closed = closeOf(flooder);
    for (let i = 0; i < 200; i++) flooder.send(`flood ${i}`);
    expect(await closed).toEqual({ code: 1008, reason: 'Message rate limit exceeded' });
    expect((await refusals(dev))['rate-limit']).toBe(1);
    await other.assertEchoes();
  });

  it('a client that never answers pings is terminated; one that answers is kept', async () => {
    dev = await startDevServer({ heartbeatIntervalMs: 100 });
    const other = await bystander(dev);
    // ws answers protocol pings by itself unless told not to: this peer behaves like a dead one.
    const silent = await clients.open(dev.wsUrl, { autoPong: false });
    // No close frame: the server cuts the TCP connection, which the peer sees as 1006.
    expect((await closeOf(silent)).code).toBe(1006);
    expect((await refusals(dev))['heartbeat-timeout']).toBe(1);
    // The bystander lived through the same two or more intervals, answering each ping.
    await other.assertEchoes();
  });

  it.each([
    [
      'a half-finished upgrade (headers never completed)',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n',
    ],
    ['a connection that sends nothing', ''],
  ])('%s: answered 408 and closed after handshakeTimeoutMs', async (_label, partial) => {
    dev = await startDevServer({ handshakeTimeoutMs: 300 });
    const other = await bystander(dev);
    const socket = connect(dev.port, '127.0.0.1');
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    await waitFor(socket, 'connect', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'raw client' });
    if (partial) socket.write(partial);
    await waitFor(socket, 'close', { timeoutMs: 3000, failOn: ['error'], label: 'raw client' });
    expect(received).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    await other.assertEchoes();
  });

  it('too many connections: HTTP 503 with Retry-After, open ones keep echoing, room frees up on close', async () => {
    dev = await startDevServer({ maxConnections: 2 });
    const first = await bystander(dev);
    const second = await clients.open(dev.wsUrl);
    const third = clients.connect(dev.wsUrl);
    const [, response] = (await waitForArgs(third, 'unexpected-response', {
      timeoutMs: WAIT_MS,
      failOn: ['error'],
      label: 'third client',
    })) as [unknown, IncomingMessage];
    let body = '';
    for await (const chunk of response) body += String(chunk);
    expect({ status: response.statusCode, retryAfter: response.headers['retry-after'], body }).toEqual({
      status: 503,
      retryAfter: '5',
      body: 'Too many connections',
    });
    expect((await refusals(dev))['max-connections']).toBe(1);
    await first.assertEchoes();
    second.close();
    await waitUntil(() => dev?.server.wss.clients.size === 1, {
      timeoutMs: 3000,
      message: 'the server to count the closed connection',
    });
    const fourth: WebSocket = await clients.open(dev.wsUrl);
    fourth.send('room again');
    expect(await nextMessage(fourth)).toMatchObject({ text: 'room again' });
  });
});
