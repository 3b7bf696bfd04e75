// The dev server's /reliable endpoint: the adapter behind express-ws, next to the plain echo at `/`.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LogFields, Logger } from '../../server/app.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server.js';
import { waitFor } from '../helpers/next-event.js';
import { binaryMessage, hello, textMessage, WirePeer } from '../helpers/tether-wire.js';
import { refusalOf } from '../helpers/ws-clients.js';

describe('dev server: /reliable', () => {
  let dev: TestDevServer | undefined;
  const peers: WirePeer[] = [];

  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.terminate();
    await dev?.close();
    dev = undefined;
  });

  async function connect(sid: string, recv = 0) {
    if (!dev) throw new Error('no server');
    const result = await WirePeer.connect(`${dev.wsUrl}/reliable`, sid, recv);
    peers.push(result.peer);
    return result;
  }

  it('selects tether.v1 and echoes text as text and binary as binary through a session', async () => {
    dev = await startDevServer();
    const { peer, welcome } = await connect('dev-echo');
    expect(peer.socket.protocol).toBe('tether.v1');
    expect(welcome).toMatchObject({ resumed: false, window: 60_000 });
    peer.send(textMessage(1, 'hi'));
    peer.send(binaryMessage(2, new Uint8Array([1, 2])));
    peer.send('__ping__');
    await peer.until(
      () => peer.messages().length === 2 && peer.frames.some((f) => f.type === 'pong'),
      'echoes',
    );
    expect(peer.messages()).toEqual([
      { type: 'message', seq: 1, data: 'hi', isBinary: false },
      { type: 'message', seq: 2, data: Buffer.from([1, 2]), isBinary: true },
    ]);
  });

  it('logs every message with "Data received: …", as the plain echo does', async () => {
    const lines: string[] = [];
    const logger: Logger = {
      info: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    dev = await startDevServer({ logger, quiet: false });
    const { peer } = await connect('log-check');
    peer.send(textMessage(1, 'hello reliable'));
    peer.send(binaryMessage(2, new Uint8Array([1, 2, 255])));
    await peer.until(() => peer.messages().length === 2, 'both echoes');
    expect(lines.filter((line) => line.includes('Data received'))).toEqual([
      '[reliable log-c…] Data received: text, 14 bytes: "hello reliable"',
      '[reliable log-c…] Data received: binary, 3 bytes: <01 02 ff>',
    ]);
  });

  it('resumes across a dropped connection and resends the unacknowledged echoes', async () => {
    const lines: string[] = [];
    const logger: Logger = {
      info: (line: string, _fields?: LogFields) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    dev = await startDevServer({ logger, quiet: false });
    const { peer } = await connect('dev-resume');
    peer.send(textMessage(1, 'first'));
    await peer.until(() => peer.messages().length === 1, 'first echo');
    peer.terminate(); // the echo of 1 was never acknowledged
    const { peer: again, welcome } = await connect('dev-resume', 0);
    expect(welcome).toMatchObject({ resumed: true, recv: 1 });
    again.send(textMessage(2, 'second'));
    await again.until(() => again.messages().length === 2, 'resent echo and new echo');
    expect(again.messages().map((m) => [m.seq, m.data])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
    // Never the whole session id (issue 12, point 7): it is the routing key of a live session.
    expect(lines).toEqual(
      expect.arrayContaining([
        '[reliable dev-r…] new session',
        '[reliable dev-r…] connection closed 1006; resume window started',
        '[reliable dev-r…] resumed, 1 unacknowledged message(s) resent',
      ]),
    );
    expect(lines.filter((line) => line.includes('dev-resume'))).toEqual([]);
  });

  it('never writes a whole session id to the log, neither in lines nor in fields', async () => {
    const written: string[] = [];
    const logger: Logger = {
      info: (line, fields) => written.push(line, JSON.stringify(fields ?? {})),
      error: (line, fields) => written.push(line, JSON.stringify(fields ?? {})),
    };
    dev = await startDevServer({ logger, quiet: false });
    const sid = 'Zq0V3rY5ecretS1dValue7';
    const { peer } = await connect(sid);
    peer.send(textMessage(1, 'hi'));
    await peer.until(() => peer.messages().length === 1, 'echo');
    peer.terminate();
    const refused = new WebSocket(`${dev.wsUrl}/reliable?tether_sid=${sid}`, ['tether.v1'], {
      headers: { Origin: 'https://evil.example' },
    });
    refused.on('error', () => {});
    await refusalOf(refused);
    const intruder = await WirePeer.open(`${dev.wsUrl}/reliable`, sid);
    peers.push(intruder);
    intruder.send(hello(sid, 0, 'another-key-0123456789'));
    await intruder.closed;
    expect(written.join('\n')).toContain('Zq0V3r…');
    expect(written.filter((entry) => entry.includes(sid))).toEqual([]);
  });

  it('counts sessions held, bytes buffered and refused hellos in /healthz and /metrics', async () => {
    dev = await startDevServer();
    const { peer } = await connect('counted');
    peer.send(textMessage(1, 'unacknowledged echo'));
    await peer.until(() => peer.messages().length === 1, 'echo');
    const intruder = await WirePeer.open(`${dev.wsUrl}/reliable`, 'counted');
    peers.push(intruder);
    intruder.send(hello('counted', 0, 'another-key-0123456789'));
    expect(await intruder.closed).toEqual({ code: 1008, reason: 'Session refused' });
    const health = await (await fetch(`${dev.url}/healthz`)).json();
    expect(health.sessions).toMatchObject({
      held: 1,
      bufferedBytes: 'unacknowledged echo'.length,
      refused: { 'wrong-key': 1, 'max-sessions': 0 },
      ended: { evicted: 0 },
    });
    const metrics = await (await fetch(`${dev.url}/metrics`)).text();
    expect(metrics).toContain('tether_sessions_held 1\n');
    expect(metrics).toContain(`tether_session_buffered_bytes ${'unacknowledged echo'.length}\n`);
    expect(metrics).toContain('tether_sessions_refused_total{reason="wrong-key"} 1\n');
    expect(metrics).toContain('tether_sessions_ended_total{reason="evicted"} 0\n');
  });

  it('applies the origin check to /reliable as to /', async () => {
    dev = await startDevServer();
    const socket = new WebSocket(`${dev.wsUrl}/reliable?tether_sid=x`, ['tether.v1'], {
      headers: { Origin: 'https://evil.example' },
    });
    socket.on('error', () => {});
    expect(await refusalOf(socket)).toEqual({ status: 403, body: 'Origin not allowed' });
  });

  it('does not select tether.v1 on the plain echo at /, and keeps its other subprotocols', async () => {
    dev = await startDevServer();
    const tetherOnly = new WebSocket(`${dev.wsUrl}/`, ['tether.v1']);
    tetherOnly.on('error', () => {});
    const error = await waitFor<Error>(tetherOnly, 'error', { timeoutMs: 2000 });
    expect(error.message).toBe('Server sent no subprotocol');

    const mixed = new WebSocket(`${dev.wsUrl}/`, ['tether.v1', 'chat']);
    await waitFor(mixed, 'open', { timeoutMs: 2000 });
    expect(mixed.protocol).toBe('chat');
    mixed.send(hello('s', 0));
    const [echo] = await new Promise<[Buffer]>((resolve) =>
      mixed.once('message', (data: Buffer) => resolve([data])),
    );
    expect(echo.toString()).toBe(hello('s', 0)); // a plain echo, not a welcome
    mixed.terminate();
  });

  it('ends its sessions on close(), without waiting for their resume window', async () => {
    const lines: string[] = [];
    const logger: Logger = { info: (line) => lines.push(line), error: (line) => lines.push(line) };
    dev = await startDevServer({ logger, quiet: false });
    const { peer } = await connect('dev-close');
    const closing = dev.close();
    expect(await peer.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    await closing;
    // The shutdown's own 1001 to every socket would also reach the peer: only the session's end
    // (and no resume window started) shows that the adapter itself was closed.
    expect(lines.filter((line) => line.startsWith('[reliable dev-c…]'))).toEqual([
      '[reliable dev-c…] new session',
      '[reliable dev-c…] ended (closed), 0 message(s) not acknowledged',
    ]);
  });
});
