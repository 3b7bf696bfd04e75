// `exactlyOnce({ fallback })` against the servers a user actually has (issue 12, point 5), none of
// which speaks tether.v1: within a few attempts 'fail' ends with PROTOCOL_UNSUPPORTED and
// 'best-effort' ends up connected best-effort (messages echoed as they are, unframed).
// - a plain ws echo and express-ws without handleProtocols select tether.v1 (ws picks the first
//   offered subprotocol) and echo the hello back;
// - express-ws with tether's handleProtocols on a plain route selects it too;
// - the dev server's `/` selects no subprotocol, so every handshake offering tether.v1 fails (as
//   it would against any server whose handleProtocols accepts only its own protocols).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressWs from 'express-ws';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawData, WebSocket as WsWebSocket } from 'ws';
import { handleProtocols } from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { type TetherError, WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { startDevServer } from '../helpers/dev-server.js';
import { waitFor } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const WAIT = 5000;
/** Attempts allowed to reach the outcome: the verdict comes within two (issue 25). */
const FEW = 2;
/** With 'best-effort', the attempt after the verdict is the plain one that opens. */
const FEW_THEN_PLAIN = 3;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function echo(socket: WsWebSocket): void {
  socket.on('message', (data: RawData, isBinary: boolean) => socket.send(data, { binary: isBinary }));
}

async function plainWs(): Promise<string> {
  const server = await startWsServer(echo);
  cleanups.push(() => server.close());
  return server.url;
}

async function expressEcho(withHandleProtocols: boolean): Promise<string> {
  const app = express();
  const http: Server = createServer(app);
  const instance = expressWs(app, http, withHandleProtocols ? { wsOptions: { handleProtocols } } : {});
  instance.app.ws('/echo', (socket) => echo(socket));
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  cleanups.push(async () => {
    for (const socket of instance.getWss().clients) socket.terminate();
    await new Promise((done) => http.close(done));
  });
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}/echo`;
}

async function devServerRoot(): Promise<string> {
  const dev = await startDevServer();
  cleanups.push(() => dev.close());
  return `${dev.wsUrl}/`;
}

const SERVERS: Array<[string, () => Promise<string>]> = [
  ['a plain ws echo server', plainWs],
  ['express-ws without handleProtocols', () => expressEcho(false)],
  ['express-ws with handleProtocols, on a plain route', () => expressEcho(true)],
  ["the dev server's plain /", devServerRoot],
];

function start(url: string, fallback: 'fail' | 'best-effort') {
  const client = new WebSocketClient<string, string>(url, {
    WebSocket: WsWebSocket as unknown as WebSocketConstructor,
    delivery: exactlyOnce({ fallback }),
    reconnect: { minDelay: 10, maxDelay: 20, factor: 2, jitter: 0 },
  });
  cleanups.push(() => client.close());
  let attempts = 0;
  const errors: TetherError[] = [];
  client.on('state', ({ to }) => {
    if (to === 'connecting') attempts += 1;
  });
  client.on('error', (error) => errors.push(error));
  client.open().catch(() => {});
  return { client, errors, attempts: () => attempts };
}

describe("exactlyOnce({ fallback: 'fail' }) against servers that do not speak tether.v1", () => {
  it.each(SERVERS)('ends with PROTOCOL_UNSUPPORTED within a few attempts: %s', async (_name, serve) => {
    const { client, errors, attempts } = start(await serve(), 'fail');
    const closed = await waitFor<{ code: number; willReconnect: boolean }>(client, 'close', {
      timeoutMs: WAIT,
      filter: (close) => !close.willReconnect,
      label: 'client (final close)',
    });
    expect(client.state).toBe('closed');
    expect(closed.code).toBe(1002);
    expect(errors.at(-1)?.code).toBe('PROTOCOL_UNSUPPORTED');
    expect(errors.map((error) => error.code)).not.toContain('PROTOCOL_ERROR');
    expect(attempts()).toBeLessThanOrEqual(FEW);
  });
});

describe('exactly-once pointed at a path without the adapter (issue 25, point 8)', () => {
  it('says why in the verdict, decides within 2 attempts with the defaults, and open() rejects with the verdict', async () => {
    const url = await devServerRoot();
    const client = new WebSocketClient<string, string>(url, {
      WebSocket: WsWebSocket as unknown as WebSocketConstructor,
      delivery: exactlyOnce(),
    });
    cleanups.push(() => client.close());
    let attempts = 0;
    client.on('state', ({ to }) => {
      if (to === 'connecting') attempts += 1;
    });
    const errors: TetherError[] = [];
    client.on('error', (error) => errors.push(error));
    const verdict = await client.open().then(
      () => undefined,
      (error: TetherError) => error,
    );
    expect(verdict?.code).toBe('PROTOCOL_UNSUPPORTED');
    expect(verdict?.message).toBe(
      `The server takes plain connections but fails every handshake offering tether.v1 (it sent no subprotocol): no tether-ws/server at this URL: ${url}`,
    );
    expect(attempts).toBeLessThanOrEqual(2);
    expect(errors.at(-1)).toBe(verdict);
    // Before the verdict, only the failed handshakes: each a SOCKET_ERROR whose message carries the
    // socket's own reason ("Server sent no subprotocol" from ws; a browser's error event has none).
    expect(errors.length).toBeGreaterThan(1);
    expect(errors.slice(0, -1).map((error) => [error.code, error.message])).toEqual(
      errors
        .slice(0, -1)
        .map(() => ['SOCKET_ERROR', `WebSocket error on ${url}: Server sent no subprotocol`]),
    );
    expect(client.state).toBe('closed');
  });
});

describe("exactlyOnce({ fallback: 'best-effort' }) against servers that do not speak tether.v1", () => {
  it.each(SERVERS)('ends up connected best-effort within a few attempts: %s', async (_name, serve) => {
    const { client, errors, attempts } = start(await serve(), 'best-effort');
    await waitFor(client, 'open', { timeoutMs: WAIT, label: 'client' });
    expect(client.protocol).not.toBe('tether.v1');
    const echoed = waitFor(client, 'message', { timeoutMs: WAIT, label: 'client' });
    client.send('plain as it is');
    expect(await echoed).toBe('plain as it is'); // unframed: no "m1:" in front
    expect(attempts()).toBeLessThanOrEqual(FEW_THEN_PLAIN);
    expect(errors.map((error) => error.code)).not.toContain('PROTOCOL_ERROR');
    expect(client.state).toBe('open');
  });
});

describe('exactlyOnce() fallback detection and a tether.v1 server that is down for a while', () => {
  it('keeps exactly-once, without PROTOCOL_UNSUPPORTED, when its server comes back after several failed attempts', async () => {
    const { createTetherServer } = await import('../../adapter/index.js');
    const serveTether = async (port = 0) => {
      const tether = createTetherServer();
      tether.on('session', (session) => session.on('message', (data) => session.send(data)));
      const server = await startWsServer((socket, request) => tether.handle(socket, request), {
        handleProtocols,
        port,
      });
      const stop = async () => {
        await server.close();
        tether.close();
      };
      return { ...server, stop };
    };
    const first = await serveTether();
    const port = Number(new URL(first.url).port);
    const { client, errors } = start(first.url, 'fail');
    await waitFor(client, 'open', { timeoutMs: WAIT, label: 'client' });
    await first.stop();
    // Several attempts fail while it is down (each followed by a probe, which fails too).
    for (let failed = 0; failed < 4; failed += 1) {
      await waitFor(client, 'reconnecting', { timeoutMs: WAIT, label: 'client' });
    }
    const second = await serveTether(port);
    cleanups.push(() => second.stop());
    await waitFor(client, 'open', { timeoutMs: WAIT, label: 'client (back)' });
    expect(client.protocol).toBe('tether.v1');
    expect(errors.map((error) => error.code)).not.toContain('PROTOCOL_UNSUPPORTED');
    const echoed = waitFor(client, 'message', { timeoutMs: WAIT, label: 'client' });
    client.send('still exactly-once');
    expect(await echoed).toBe('still exactly-once');
  });
});
