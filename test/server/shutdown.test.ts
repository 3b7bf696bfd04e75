import { randomBytes } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createServer } from '../../server/app.js';
import { startDevServer } from '../helpers/dev-server.js';
import { waitFor, waitForArgs } from '../helpers/next-event.js';
import { Clients, closeOf, refusalOf, WAIT_MS } from '../helpers/ws-clients.js';

describe('close()', () => {
  it('closes every connected client with 1001 "Server shutting down" and stops listening', async () => {
    const dev = await startDevServer();
    const clients = new Clients();
    try {
      const sockets = await Promise.all([
        clients.open(dev.wsUrl),
        clients.open(dev.wsUrl),
        clients.open(dev.wsUrl),
      ]);
      const closes = sockets.map(closeOf);
      await dev.close();
      expect(await Promise.all(closes)).toEqual(
        sockets.map(() => ({ code: 1001, reason: 'Server shutting down' })),
      );
      expect(dev.server.httpServer.listening).toBe(false);
      await expect(fetch(`${dev.url}/healthz`)).rejects.toThrow();
    } finally {
      clients.closeAll();
    }
  });

  it('does not wait for an HTTP request that is still arriving', async () => {
    const dev = await startDevServer();
    const socket = connect(dev.port, '127.0.0.1');
    await waitFor(socket, 'connect', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'raw HTTP client' });
    // Headers not finished: the connection is busy, so server.close() alone would wait for headersTimeout
    // (handshakeTimeoutMs, 10 s by default).
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    socket.on('error', () => {}); // being cut off may surface as ECONNRESET: that is the expected outcome
    const cut = new Promise((resolve) => socket.once('close', resolve));
    await withinMs(2000, 'close() with a half-sent request', dev.close());
    await withinMs(2000, 'the half-sent request being cut off', cut);
  });

  it('terminates a client that never answers the close frame once shutdownTimeoutMs has passed', async () => {
    const lines: string[] = [];
    const logger = { info: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    const dev = await startDevServer({ shutdownTimeoutMs: 100, quiet: false, logger });
    const socket = await rawUpgrade(dev.url);
    try {
      // This client never reads, so it never answers the close frame: only terminate() can end it.
      socket.pause();
      await dev.close();
      expect(dev.server.wss.clients.size).toBe(0);
      expect(lines).toContain('[server] terminated 1 WebSocket(s) that did not close in time');
    } finally {
      socket.destroy();
    }
  });

  it('stops the heartbeat interval', async () => {
    // Only intervals are faked: Node's own HTTP timers come from node:timers and are not counted.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const dev = await startDevServer({ heartbeatIntervalMs: 60_000 });
    expect(vi.getTimerCount()).toBe(1);
    await dev.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is idempotent: a second call returns the same promise', async () => {
    const dev = await startDevServer();
    const first = dev.close();
    expect(dev.close()).toBe(first);
    await first;
  });

  it('resolves for a server that never listened, and listen() is refused afterwards', async () => {
    const server = createServer({ quiet: true });
    await server.close();
    await expect(server.listen()).rejects.toThrow(/^listen\(\) can be called once per server/);
  });

  it('listen() rejects with the listen error as cause when the port is taken, without crashing', async () => {
    const first = await startDevServer();
    const second = createServer({ host: '127.0.0.1', port: first.port, quiet: true });
    try {
      const error = await second.listen().then(
        () => undefined,
        (error: Error) => error,
      );
      expect(error?.message).toBe(`Cannot listen on 127.0.0.1:${first.port}: EADDRINUSE.`);
      expect(error?.cause).toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('answers an upgrade already arriving when close() begins with 503 "Server shutting down"', async () => {
    const dev = await startDevServer();
    const clients = new Clients();
    try {
      // close() begins as the upgrade request comes in, before ws looks at it: the port is still
      // open, so only the shutting-down check can refuse this one.
      let closing: Promise<void> | undefined;
      dev.server.httpServer.prependOnceListener('upgrade', () => {
        closing = dev.close();
      });
      const late = clients.connect(dev.wsUrl);
      expect(await refusalOf(late)).toEqual({ status: 503, body: 'Server shutting down' });
      await closing;
      expect((await dev.server.metrics.snapshot()).refusals['shutting-down']).toBe(1);
    } finally {
      clients.closeAll();
    }
  });

  it('refuses new connections as soon as it starts shutting down', async () => {
    const dev = await startDevServer({ shutdownTimeoutMs: 2000 });
    const clients = new Clients();
    const lingering = await rawUpgrade(dev.url);
    try {
      lingering.pause(); // keeps the shutdown waiting on this client
      const closing = dev.close();
      const late = clients.connect(dev.wsUrl);
      await expect(
        waitFor(late, 'open', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'late client' }),
      ).rejects.toThrow(/ECONNREFUSED/);
      lingering.destroy();
      await closing;
    } finally {
      lingering.destroy();
      clients.closeAll();
    }
  });
});

/** A WebSocket handshake by hand, leaving the caller a bare socket that answers nothing. */
async function rawUpgrade(url: string): Promise<Socket> {
  const req = request(url, {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    },
  });
  req.end();
  const [response, socket] = (await waitForArgs(req, 'upgrade', {
    timeoutMs: WAIT_MS,
    failOn: ['error'],
    label: 'raw upgrade',
  })) as [IncomingMessage, Socket];
  expect(response.statusCode).toBe(101);
  return socket;
}

async function withinMs<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
