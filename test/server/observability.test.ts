import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { Clients, nextMessage } from '../helpers/ws-clients.js';

function sink() {
  const lines: string[] = [];
  return { lines, write: (chunk: string) => lines.push(chunk) };
}

describe('createLogger()', () => {
  it('json: one JSON object per line with level, time, message and fields', () => {
    const out = sink();
    const log = createLogger('json', { out, err: out });
    log.info('[ws #1] open from 127.0.0.1 (no origin)', { event: 'open', conn: 1 });
    log.error('boom');
    expect(out.lines).toHaveLength(2);
    expect(out.lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(out.lines[0] ?? '')).toMatchObject({
      level: 30,
      time: expect.any(Number),
      msg: '[ws #1] open from 127.0.0.1 (no origin)',
      event: 'open',
      conn: 1,
    });
    expect(JSON.parse(out.lines[1] ?? '')).toMatchObject({ level: 50, msg: 'boom' });
  });

  it('text: "<ISO time> <message>" lines, errors on the error stream', () => {
    const out = sink();
    const err = sink();
    const log = createLogger('text', { out, err });
    log.info('hello', { conn: 1 });
    log.error('failed');
    expect(out.lines).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hello\n$/)]);
    expect(err.lines).toEqual([expect.stringMatching(/^\S+Z failed\n$/)]);
  });
});

describe('/healthz and /metrics', () => {
  const servers: TestDevServer[] = [];
  const clients = new Clients();

  afterEach(async () => {
    clients.closeAll();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('count connections, messages and bytes both ways, and refusals by reason, per server', async () => {
    const [a, b] = await Promise.all([startDevServer(), startDevServer()]);
    servers.push(a as TestDevServer, b as TestDevServer);
    if (!a || !b) throw new Error('servers did not start');
    const socket = await clients.open(a.wsUrl);
    socket.send('hello');
    await nextMessage(socket);
    socket.send('__ping__');
    await nextMessage(socket);
    clients.connect(`${a.wsUrl}/nope`).once('error', () => {});
    await expect.poll(async () => (await a.server.metrics.snapshot()).refusals['not-found']).toBe(1);

    const health = await (await fetch(`${a.url}/healthz`)).json();
    expect(health).toMatchObject({
      connections: 1,
      connectionsTotal: 1,
      messages: { in: 2, out: 2 },
      bytes: { in: 5 + 8, out: 5 + 8 },
      refusals: { 'not-found': 1, origin: 0 },
    });
    expect(health.memory.rss).toBeGreaterThan(0);

    const response = await fetch(`${a.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (const line of [
      'tether_connections_current 1',
      'tether_connections_total 1',
      'tether_messages_received_total 2',
      'tether_messages_sent_total 2',
      'tether_received_bytes_total 13',
      'tether_sent_bytes_total 13',
      'tether_refusals_total{reason="not-found"} 1',
      'tether_refusals_total{reason="rate-limit"} 0',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toContain('# TYPE tether_refusals_total counter');

    // The other server has a registry of its own.
    const other = await (await fetch(`${b.url}/metrics`)).text();
    expect(other.split('\n')).toContain('tether_connections_total 0');
  });
});
