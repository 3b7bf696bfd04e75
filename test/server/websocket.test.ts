// The express-ws adapter on its own: a handler that fails must not leave its socket open.
import { createServer, type Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { attachWebSockets, type WebSocketHandler } from '../../server/websocket.js';
import { waitFor } from '../helpers/next-event.js';
import { Clients, closeOf, nextMessage, refusalOf, WAIT_MS } from '../helpers/ws-clients.js';

describe('attachWebSockets()', () => {
  let httpServer: Server | undefined;
  const clients = new Clients();
  const errors: unknown[] = [];

  afterEach(async () => {
    clients.closeAll();
    errors.length = 0;
    if (httpServer?.listening) {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer?.close(resolve));
    }
  });

  async function serve(path: string, handler: WebSocketHandler): Promise<string> {
    const app = express();
    httpServer = createServer(app);
    const layer = attachWebSockets(app, httpServer, {
      maxPayload: 1024,
      checkUpgrade: () => undefined,
      onRefused: () => {},
      onServerError: (error) => errors.push(error),
      onHandlerError: (error) => errors.push(error),
    });
    layer.route(path, handler);
    httpServer.listen(0, '127.0.0.1');
    await waitFor(httpServer, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'], label: 'http server' });
    const address = httpServer.address();
    if (typeof address !== 'object' || address === null) throw new Error('no address');
    return `ws://127.0.0.1:${address.port}`;
  }

  it('closes with 1011 and reports the error when a handler throws', async () => {
    const url = await serve('/', () => {
      throw new Error('sync failure');
    });
    const socket = await clients.open(url);
    expect(await closeOf(socket)).toEqual({ code: 1011, reason: 'Internal error' });
    expect(errors).toEqual([new Error('sync failure')]);
  });

  it('closes with 1011 and reports the error when an async handler rejects', async () => {
    const url = await serve('/', async () => {
      await Promise.resolve();
      throw new Error('async failure');
    });
    const socket = await clients.open(url);
    expect(await closeOf(socket)).toEqual({ code: 1011, reason: 'Internal error' });
    expect(errors).toEqual([new Error('async failure')]);
  });

  it('routes an exact path and refuses others with 404', async () => {
    const url = await serve('/echo', (socket) => {
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    const socket = await clients.open(`${url}/echo`);
    socket.send('routed');
    expect(await nextMessage(socket)).toMatchObject({ text: 'routed' });
    expect((await refusalOf(clients.connect(`${url}/`), 1000)).status).toBe(404);
  });

  it('survives an oversize message on a handler that added no error listener', async () => {
    const url = await serve('/', () => {});
    const socket = await clients.open(url);
    socket.send(Buffer.alloc(2048));
    expect((await closeOf(socket)).code).toBe(1009);
  });

  it('rejects route paths with parameters or wildcards', () => {
    const app = express();
    const layer = attachWebSockets(app, createServer(app), {
      maxPayload: 1,
      checkUpgrade: () => undefined,
      onRefused: () => {},
      onServerError: () => {},
      onHandlerError: () => {},
    });
    expect(() => layer.route('/room/:id', () => {})).toThrow(
      'WebSocket route must be an exact path such as "/"; got "/room/:id".',
    );
  });
});
