import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { Clients } from '../helpers/ws-clients.js';

describe('HTTP routes', () => {
  let root: string;
  let dev: TestDevServer;
  const clients = new Clients();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tether-ws-server-'));
    await mkdir(join(root, 'demo'));
    await mkdir(join(root, 'dist'));
    await writeFile(join(root, 'demo', 'index.html'), '<title>demo page</title>');
    await writeFile(join(root, 'dist', 'tether-ws.umd.js'), 'var TetherWS = {};');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  afterEach(async () => {
    clients.closeAll();
    await dev?.close();
  });

  const start = () => startDevServer({ demoDir: join(root, 'demo'), distDir: join(root, 'dist') });

  it('serves the demo page at /', async () => {
    dev = await start();
    const response = await fetch(`${dev.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toBe('<title>demo page</title>');
  });

  it("serves the client's builds under /dist/", async () => {
    dev = await start();
    const response = await fetch(`${dev.url}/dist/tether-ws.umd.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(await response.text()).toBe('var TetherWS = {};');
  });

  it.each(['/nope', '/dist/missing.js', '/index.htm', '/.websocket'])(
    'answers GET %s with 404',
    async (path) => {
      dev = await start();
      const response = await fetch(`${dev.url}${path}`);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(`Not found: GET ${path}`);
    },
  );

  it('answers 404 at / when the demo folder does not exist', async () => {
    dev = await startDevServer({ demoDir: join(root, 'absent') });
    expect((await fetch(`${dev.url}/`)).status).toBe(404);
  });

  it('reports status, open WebSocket connections and uptime at /healthz', async () => {
    dev = await start();
    const health = async () => (await fetch(`${dev.url}/healthz`)).json();
    expect(await health()).toEqual({
      status: 'ok',
      connections: 0,
      connectionsTotal: 0,
      uptime: expect.any(Number),
      messages: { in: 0, out: 0 },
      bytes: { in: 0, out: 0 },
      refusals: {
        host: 0,
        origin: 0,
        'not-found': 0,
        'shutting-down': 0,
        'max-connections': 0,
        'rate-limit': 0,
        'heartbeat-timeout': 0,
        'max-payload': 0,
      },
      sessions: {
        held: 0,
        bufferedBytes: 0,
        refused: {
          unauthorized: 0,
          'wrong-key': 0,
          'authorize-failed': 0,
          'max-sessions': 0,
          'session-rate': 0,
          'store-unavailable': 0,
        },
        ended: { expired: 0, overflow: 0, evicted: 0, closed: 0 },
      },
      memory: { rss: expect.any(Number), heapUsed: expect.any(Number) },
    });
    const first = await clients.open(dev.wsUrl);
    await clients.open(dev.wsUrl);
    expect(await health()).toMatchObject({ connections: 2 });
    first.close();
    // The server counts a connection as gone when its side of the close completes: poll for it.
    await vi.waitFor(async () => expect(await health()).toMatchObject({ connections: 1 }), { timeout: 3000 });
  });
});
