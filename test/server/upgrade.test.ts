import { randomBytes } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { Clients, closeOf, nextMessage, refusalOf, WAIT_MS } from '../helpers/ws-clients.js';

describe('WebSocket upgrade', () => {
  let dev: TestDevServer;
  const clients = new Clients();

  afterEach(async () => {
    clients.closeAll();
    await dev?.close();
  });

  describe('on an unknown path', () => {
    it('is refused at once with HTTP 404, before any handshake', async () => {
      dev = await startDevServer();
      const socket = clients.connect(`${dev.wsUrl}/nope`);
      // The timeout is the "at once": a handshake left hanging would fail here.
      expect(await refusalOf(socket, 1000)).toEqual({ status: 404, body: 'Not Found' });
    });

    // Express routes the path as sent: none of these reaches the `/` route, so none may be accepted
    // (express-ws would close it with 1005 after the handshake), and `//` must not crash the server.
    it.each(['//', '//x', '/x/../', '/./', '/x/../reliable'])(
      'refuses %s with 404 too, a path that only URL normalising turns into a route',
      async (path) => {
        dev = await startDevServer();
        expect(await upgradeStatus(dev.url, path)).toBe(404);
        const socket = await clients.open(dev.wsUrl);
        socket.send('still serving');
        expect(await nextMessage(socket)).toMatchObject({ text: 'still serving' });
      },
    );

    it('routes a request target in absolute form by its path', async () => {
      dev = await startDevServer();
      expect(await upgradeStatus(dev.url, `${dev.url}/?room=1`)).toBe(101);
      expect(await upgradeStatus(dev.url, `${dev.url}/nope`)).toBe(404);
    });
  });

  describe('Origin check', () => {
    it('refuses a foreign origin with 403', async () => {
      dev = await startDevServer();
      const socket = clients.connect(dev.wsUrl, { origin: 'https://evil.example' });
      expect(await refusalOf(socket, 1000)).toEqual({ status: 403, body: 'Origin not allowed' });
    });

    it.each([
      ['no Origin header (a non-browser client)', undefined],
      ["the server's own origin", 'own'],
      ['localhost on another port', 'http://localhost:5173'],
      ['127.0.0.1 on another port', 'http://127.0.0.1:1234'],
      ['[::1] over https', 'https://[::1]:8443'],
    ])('accepts %s', async (_label, origin) => {
      dev = await startDevServer();
      const header = origin === 'own' ? dev.url : origin;
      const socket = await clients.open(dev.wsUrl, header === undefined ? {} : { origin: header });
      socket.send('ok');
      expect(await nextMessage(socket)).toMatchObject({ text: 'ok', isBinary: false });
    });

    it('refuses a look-alike of a local origin', async () => {
      dev = await startDevServer();
      const socket = clients.connect(dev.wsUrl, { origin: 'http://localhost.evil.example:3000' });
      expect((await refusalOf(socket, 1000)).status).toBe(403);
    });

    it('accepts an origin listed in allowedOrigins', async () => {
      dev = await startDevServer({ allowedOrigins: ['https://app.example.com'] });
      await clients.open(dev.wsUrl, { origin: 'https://app.example.com' });
      const other = clients.connect(dev.wsUrl, { origin: 'https://other.example.com' });
      expect((await refusalOf(other, 1000)).status).toBe(403);
    });
  });

  describe('maxPayload', () => {
    it('closes a connection that sends a bigger message with 1009, and keeps echoing for the others', async () => {
      dev = await startDevServer({ maxPayload: 1024 });
      const greedy = await clients.open(dev.wsUrl);
      const modest = await clients.open(dev.wsUrl);
      greedy.send(Buffer.alloc(1025));
      expect((await closeOf(greedy)).code).toBe(1009);
      modest.send('x'.repeat(1024));
      expect(await nextMessage(modest)).toMatchObject({ text: 'x'.repeat(1024), isBinary: false });
      const next = await clients.open(dev.wsUrl);
      next.send('new');
      expect(await nextMessage(next)).toMatchObject({ text: 'new' });
    });

    it('defaults to 1 MiB', async () => {
      dev = await startDevServer();
      const atLimit = await clients.open(dev.wsUrl);
      atLimit.send(Buffer.alloc(1024 * 1024, 7));
      expect((await nextMessage(atLimit)).data.length).toBe(1024 * 1024);
      atLimit.send(Buffer.alloc(1024 * 1024 + 1));
      expect((await closeOf(atLimit)).code).toBe(1009);
    });
  });
});

/** The status an upgrade request for `path`, sent as is (ws clients normalise it), is answered with. */
function upgradeStatus(url: string, path: string): Promise<number> {
  const req = request(url, {
    path,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    },
  });
  req.setTimeout(WAIT_MS, () =>
    req.destroy(new Error(`No answer to an upgrade of ${path} within ${WAIT_MS} ms`)),
  );
  req.end();
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (response: IncomingMessage) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.once('upgrade', (_response: IncomingMessage, socket: Socket) => {
      socket.destroy();
      resolve(101);
    });
  });
}
