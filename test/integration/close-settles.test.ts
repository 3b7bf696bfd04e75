/**
 * `close()` settles in exactly-once mode (issue 24, point 4; docs/protocol.md "Ending a session"):
 * a clean close reports only what the server truly never acknowledged, in both directions. Real
 * `ws` servers on 127.0.0.1:0: the `tether-ws/server` adapter, a fault proxy in front of it to lose
 * what the client writes, and a raw scripted server that answers bye as an adapter from before
 * this change did (close at once, no acknowledgement), or that acknowledges without closing.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { type RawData } from 'ws';
import {
  createTetherServer,
  handleProtocols,
  type TetherServerOptions,
  type TetherSession,
} from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { type SendData, WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { createFaultProxy } from '../helpers/fault-proxy.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const WAIT = 3000;
/** Generous where the server answers (a loaded machine), short where nothing ever will. */
const CLOSE_TIMEOUT = 3000;
const CUT_CLOSE_TIMEOUT = 400;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The adapter, echoing every message (the setup), with every session's `lost` kept. */
async function startAdapter(options: TetherServerOptions = {}) {
  const tether = createTetherServer(options);
  const sessions: TetherSession[] = [];
  const lost: Array<{ reason: string; undelivered: Array<string | Buffer> }> = [];
  const received: string[] = [];
  tether.on('session', (session) => {
    sessions.push(session);
    session.on('lost', (event) => lost.push({ reason: event.reason, undelivered: [...event.undelivered] }));
    session.on('message', (data) => {
      received.push(String(data));
      session.send(data);
    });
  });
  const server = await startWsServer((socket, request) => tether.handle(socket, request), {
    handleProtocols,
  });
  cleanups.push(server.close, () => tether.close());
  return {
    url: server.url,
    port: (server.wss.address() as AddressInfo).port,
    tether,
    sessions,
    lost,
    received,
  };
}

/** A `ws` constructor that records the text frames the client writes. */
function recordingWebSocket(): { WebSocket: WebSocketConstructor; written: string[] } {
  const written: string[] = [];
  class Recording extends WS {
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') written.push(data);
      (WS.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest);
    }
  }
  return { WebSocket: Recording as unknown as WebSocketConstructor, written };
}

function exactlyOnceClient(url: string, closeTimeout = CLOSE_TIMEOUT) {
  const { WebSocket, written } = recordingWebSocket();
  const client = new WebSocketClient<string, SendData>(url, {
    delivery: exactlyOnce(),
    closeTimeout,
    reconnect: { minDelay: 10, maxDelay: 20, jitter: 0 },
    WebSocket,
  });
  const messages: string[] = [];
  const sessionLost: Array<{ reason: string; undelivered: SendData[] }> = [];
  const closes: Array<{ code: number; wasClean: boolean }> = [];
  client.on('message', (data) => messages.push(String(data)));
  client.on('session-lost', (event) => sessionLost.push(event));
  client.on('close', ({ code, wasClean }) => closes.push({ code, wasClean }));
  cleanups.push(() => client.close());
  return { client, written, messages, sessionLost, closes };
}

describe('close() in exactly-once mode settles', () => {
  it('send, echo, close: no session-lost, in 10 of 10 runs (the issue reported 15 of 15)', async () => {
    const server = await startAdapter();
    for (let run = 0; run < 10; run++) {
      const { client, messages, sessionLost, closes } = exactlyOnceClient(server.url);
      await client.open();
      client.send(`msg ${run}`);
      await waitUntil(() => messages.includes(`msg ${run}`), {
        timeoutMs: WAIT,
        message: `the echo of msg ${run}`,
      });
      await client.close();

      expect(sessionLost).toEqual([]);
      expect(closes).toEqual([{ code: 1000, wasClean: true }]);
      expect(client.queued).toBe(0);
    }
    // The server's side: each session ended by bye, its echo acknowledged by the client's bye.
    expect(server.lost).toEqual(Array.from({ length: 10 }, () => ({ reason: 'closed', undelivered: [] })));
  });

  it('a burst written just before close() is acknowledged, not reported, and reached the server once', async () => {
    const server = await startAdapter();
    const { client, sessionLost, written } = exactlyOnceClient(server.url);
    await client.open();
    for (let i = 0; i < 200; i++) client.send(`c${i}`);
    await client.close();

    expect(sessionLost).toEqual([]);
    expect(server.received).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
    // Acknowledgement of what the client got, then bye, then nothing: the close frame is not a text frame.
    expect(written.at(-1)).toBe('x');
  });

  it('what the server sent and the client delivered is acknowledged before bye: the server reports nothing', async () => {
    // The server would wait a minute before acknowledging on its own: only bye can do it.
    const server = await startAdapter({ ackBatch: 1000, ackDelay: 60_000 });
    const { client, messages } = exactlyOnceClient(server.url);
    await client.open();
    const session = server.sessions[0] as TetherSession;
    session.send('s1');
    session.send('s2');
    await waitUntil(() => messages.length === 2, { timeoutMs: WAIT, message: 's1 and s2 at the client' });
    const ended = waitFor(session, 'lost', { timeoutMs: WAIT, label: 'server session' });
    await client.close();

    expect(await ended).toEqual({ reason: 'closed', undelivered: [] });
  });

  it('a message the server never received is still reported, once closeTimeout has passed', async () => {
    const server = await startAdapter();
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
    cleanups.push(() => proxy.close());
    const { client, messages, sessionLost } = exactlyOnceClient(proxy.url('/'), CUT_CLOSE_TIMEOUT);
    await client.open();
    client.send('delivered');
    await waitUntil(() => messages.includes('delivered') && client.queued === 0, {
      timeoutMs: WAIT,
      message: 'the echo and the acknowledgement of "delivered"',
    });
    // Both directions now swallow every byte: neither 'lost' nor bye nor the close frame arrive.
    proxy.blackhole(true);
    client.send('lost');
    await client.close();

    expect(sessionLost).toEqual([{ reason: 'closed', undelivered: ['lost'] }]);
    expect(server.received).toEqual(['delivered']);
  });
});

/** A raw server that speaks just enough tether.v1, its answer to bye chosen by the test. */
async function startRawServer(onBye: 'close' | 'ack') {
  const closes: Array<{ code: number; reason: string }> = [];
  const server = await startWsServer(
    (socket) => {
      let received = 0;
      socket.on('message', (raw: RawData) => {
        const frame = String(raw);
        if (frame.startsWith('h')) {
          const { sid } = JSON.parse(frame.slice(1)) as { sid: string };
          socket.send(`w${JSON.stringify({ v: 1, sid, recv: 0, resumed: false, window: 60_000 })}`);
        } else if (frame.startsWith('m')) {
          received = Number(/^m(\d+):/.exec(frame)?.[1]);
        } else if (frame === 'x') {
          // 'close': as the adapter did before bye was acknowledged. 'ack': acknowledge, stay open.
          if (onBye === 'close') socket.close(1000, 'Session closed');
          else socket.send(`a${received}`);
        }
      });
      socket.on('close', (code, reason) => closes.push({ code, reason: String(reason) }));
    },
    { handleProtocols },
  );
  cleanups.push(server.close);
  return { url: server.url, closes };
}

describe('close() against other servers', () => {
  it('a server that closes on bye without acknowledging (the adapter before this change): the unacknowledged are reported at once', async () => {
    const server = await startRawServer('close');
    const { client, sessionLost, closes } = exactlyOnceClient(server.url);
    await client.open();
    client.send('c1');
    await client.close();

    expect(sessionLost).toEqual([{ reason: 'closed', undelivered: ['c1'] }]);
    // The server's own close frame ended it, not closeTimeout.
    expect(closes).toEqual([{ code: 1000, wasClean: true }]);
  });

  it('a server that acknowledges bye and waits: the client sends its close frame, with its code, once acknowledged', async () => {
    const server = await startRawServer('ack');
    const { client, sessionLost, closes } = exactlyOnceClient(server.url);
    await client.open();
    client.send('c1');
    client.send('c2');
    await client.close(4000, 'done');

    expect(sessionLost).toEqual([]);
    expect(closes).toEqual([{ code: 4000, wasClean: true }]);
    await waitUntil(() => server.closes.length === 1, {
      timeoutMs: WAIT,
      message: 'the server socket closed',
    });
    expect(server.closes).toEqual([{ code: 4000, reason: 'done' }]);
  });
});
