import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as WsWebSocket } from 'ws';
import type { WebSocketConstructor } from '../../client/index.js';
import { WebSocketClient } from '../../client/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';

const TIMEOUT = 5000;

/** A `ws` echo server on 127.0.0.1 that records every number it receives, across restarts. */
class EchoServer {
  wss: WebSocketServer | undefined;
  port = 0;
  readonly received: number[] = [];
  connections = 0;

  async listen(port = 0): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    wss.on('connection', (socket) => {
      this.connections++;
      socket.on('error', () => {});
      socket.on('message', (data, isBinary) => {
        this.received.push(Number(data.toString()));
        socket.send(data, { binary: isBinary });
      });
    });
    await waitFor(wss, 'listening', { timeoutMs: TIMEOUT, label: 'echo server', failOn: ['error'] });
    this.wss = wss;
    this.port = (wss.address() as AddressInfo).port;
  }

  /** Terminates every client (no close frame: the connection just dies), then stops listening. */
  async stop(): Promise<void> {
    const wss = this.wss;
    this.wss = undefined;
    if (!wss) return;
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
  }
}

let server: EchoServer | undefined;
let client: WebSocketClient<string, string> | undefined;
let ticker: ReturnType<typeof setInterval> | undefined;

afterEach(async () => {
  clearInterval(ticker);
  await client?.close();
  await server?.stop();
  client = undefined;
  server = undefined;
});

describe('WebSocketClient against a real ws server', () => {
  it('streams numbered messages through a server restart: in order, no duplicates, queued ones delivered once', async () => {
    const echo = new EchoServer();
    server = echo;
    await echo.listen();
    const port = echo.port;
    const c = new WebSocketClient<string, string>(`ws://127.0.0.1:${port}/`, {
      WebSocket: WsWebSocket as unknown as WebSocketConstructor,
      reconnect: { minDelay: 50, maxDelay: 200 },
    });
    client = c;
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    const echoed: number[] = [];
    c.on('message', (m) => echoed.push(Number(m)));
    await Promise.all([c.open(), waitFor(c, 'open', { timeoutMs: TIMEOUT, label: 'client' })]);

    const TOTAL = 400;
    const RESTART_AT = 150;
    const written = new Set<number>();
    const queued = new Set<number>();
    let next = 1;
    const sendOne = () => {
      if (next > TOTAL) return;
      const n = next++;
      (c.send(String(n)) ? written : queued).add(n);
    };
    // Several messages per tick, so some are in flight when the connection dies.
    ticker = setInterval(() => {
      for (let i = 0; i < 5; i++) sendOne();
    }, 2);

    await waitUntil(() => next > RESTART_AT, {
      timeoutMs: TIMEOUT,
      message: `message ${RESTART_AT} to be sent`,
    });
    const reconnecting = waitFor(c, 'reconnecting', { timeoutMs: TIMEOUT, label: 'client' });
    await echo.stop();
    await reconnecting;
    // Keep streaming while the server is down, until some messages wait in the queue.
    await waitUntil(() => c.queued >= 20, {
      timeoutMs: TIMEOUT,
      message: 'at least 20 messages to be queued',
    });
    const reopened = waitFor(c, 'open', { timeoutMs: TIMEOUT, label: 'client after restart' });
    await echo.listen(port);
    expect(echo.port).toBe(port);
    await reopened;

    await waitUntil(() => next > TOTAL, { timeoutMs: TIMEOUT, message: `all ${TOTAL} messages to be sent` });
    clearInterval(ticker);
    await waitUntil(
      () =>
        queued.size > 0 &&
        [...queued].every((n) => echo.received.includes(n)) &&
        echo.received.includes(TOTAL),
      {
        timeoutMs: TIMEOUT,
        message: `every queued message and message ${TOTAL} to reach the server`,
      },
    );
    expect(c.queued).toBe(0);

    const received = echo.received;
    const duplicates = received.filter((n, i) => received.indexOf(n) !== i);
    const outOfOrder = received.filter((n, i) => i > 0 && n <= (received[i - 1] as number));
    const lostQueued = [...queued].filter((n) => !received.includes(n));
    const lostWritten = [...written].filter((n) => !received.includes(n)).sort((a, b) => a - b);

    console.log(
      `[reconnect-stream] sent ${TOTAL}: ${written.size} written to an open socket, ${queued.size} queued while not open; ` +
        `server received ${received.length} over ${echo.connections} connections. ` +
        `Written to a socket that then died and never delivered: ${lostWritten.length}` +
        (lostWritten.length ? ` (${lostWritten.join(', ')})` : '') +
        `. Client errors: ${errors.join(', ') || 'none'}.`,
    );

    expect(duplicates).toEqual([]);
    expect(outOfOrder).toEqual([]);
    expect(lostQueued).toEqual([]);
    expect(queued.size).toBeGreaterThanOrEqual(20);
    expect(echo.connections).toBe(2);
    // Everything the server got is what the client sent, and what was lost was written, not queued.
    expect(received.length + lostWritten.length).toBe(TOTAL);
  });
});
