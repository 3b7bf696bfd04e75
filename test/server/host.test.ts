// The dev server's Host check (issue 12, point 7): DNS rebinding. A page on attacker.example whose
// name was made to resolve to 127.0.0.1 reads the server as same-origin, but its requests still say
// `Host: attacker.example`; before this check `/healthz` answered them.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { refusalOf } from '../helpers/ws-clients.js';

/** GET `path` with exactly these headers (fetch() would not let a test set `Host`). */
function get(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dev server: Host check', () => {
  let dev: TestDevServer | undefined;
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
  });

  it.each([
    ['localhost on any port', 'localhost:9999'],
    ['a *.localhost name', 'app.localhost:3000'],
    ['a loopback address', '127.0.0.1:3000'],
    ['an IPv6 address', '[::1]:3000'],
    ['a LAN address (an address cannot be rebound)', '192.168.1.20:3000'],
    ['a name listed in allowedHosts', 'dev.example.com'],
  ])('serves a request naming %s', async (_label, host) => {
    dev = await startDevServer({ allowedHosts: ['dev.example.com'] });
    expect(await get(dev.url, '/healthz', { host })).toMatchObject({ status: 200 });
  });

  it('refuses HTTP requests naming an unknown host with 403, and counts them', async () => {
    dev = await startDevServer();
    expect(await get(dev.url, '/healthz', { host: 'attacker.example' })).toEqual({
      status: 403,
      body: 'Host not allowed',
    });
    expect(await get(dev.url, '/', { host: 'localhost.attacker.example:3000' })).toMatchObject({
      status: 403,
    });
    const health = await get(dev.url, '/healthz', { host: 'localhost' });
    expect(JSON.parse(health.body).refusals.host).toBe(2);
  });

  it('checks the forwarded host behind a proxy, and the Host header as well', async () => {
    dev = await startDevServer({ allowedHosts: ['public.example'] });
    const proxied = { host: '127.0.0.1:3000', 'x-forwarded-host': 'public.example' };
    expect(await get(dev.url, '/healthz', proxied)).toMatchObject({ status: 200 });
    const rebound = { host: '127.0.0.1:3000', 'x-forwarded-host': 'attacker.example' };
    expect(await get(dev.url, '/healthz', rebound)).toMatchObject({ status: 403 });
    // A rebound page can add the header itself: a known forwarded host does not excuse its Host.
    const forged = { host: 'attacker.example', 'x-forwarded-host': 'localhost' };
    expect(await get(dev.url, '/healthz', forged)).toMatchObject({ status: 403 });
  });

  it('refuses WebSocket upgrades naming an unknown host with 403', async () => {
    dev = await startDevServer();
    const socket = new WebSocket(dev.wsUrl, { headers: { Host: 'attacker.example' } });
    socket.on('error', () => {});
    expect(await refusalOf(socket)).toEqual({ status: 403, body: 'Host not allowed' });
  });
});
