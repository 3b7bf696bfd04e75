// Exactly-once client behaviour the issue-12 review found missing (points 3 and 4), through the
// public API against real `ws` servers (a scripted tether.v1 server, and the dev server):
// - acknowledgements come in batches, also when a burst arrives in one tick, as it does with ws;
// - a server that lost the session but says otherwise (a resume below what it acknowledged, or
//   messages numbered below what the client acknowledged) makes the client report `session-lost`
//   and start over, instead of dropping messages as duplicates without a word.
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type RawData, WebSocket as WsWebSocket } from 'ws';
import { handleProtocols } from '../../adapter/index.js';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { type ClientEventMap, WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { startDevServer } from '../helpers/dev-server.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { startWsServer } from '../helpers/tether-wire.js';

const WAIT = 5000;
const RECONNECT = { minDelay: 10, maxDelay: 20, factor: 2, jitter: 0 };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One connection to the scripted server: the text frames the client wrote, and a way to answer. */
class Scripted {
  readonly frames: string[] = [];
  constructor(readonly socket: WsWebSocket) {
    socket.on('message', (raw: RawData) => {
      this.frames.push(String(raw));
      socket.emit('frame');
    });
  }
  async hello(): Promise<{ sid: string; recv: number }> {
    const frame = await this.next((text) => text.startsWith('h'), 'hello');
    return JSON.parse(frame.slice(1));
  }
  welcome(sid: string, recv: number, resumed: boolean): void {
    this.socket.send(`w${JSON.stringify({ v: 1, sid, recv, resumed, window: 60_000 })}`);
  }
  acks(): number[] {
    return this.frames.filter((frame) => /^a\d+$/.test(frame)).map((frame) => Number(frame.slice(1)));
  }
  async next(match: (frame: string) => boolean, what: string): Promise<string> {
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      await waitFor(this.socket, 'frame', { timeoutMs: WAIT, label: `scripted connection (${what})` });
    }
  }
}

/** A ws server selecting tether.v1 that hands each connection to the test, in order. */
async function startScripted() {
  const connections: Scripted[] = [];
  const arrived = new EventTarget();
  const server = await startWsServer(
    (socket: WsWebSocket, _request: IncomingMessage) => {
      connections.push(new Scripted(socket));
      arrived.dispatchEvent(new Event('connection'));
    },
    { handleProtocols },
  );
  cleanups.push(() => server.close());
  return {
    url: server.url,
    async connection(index: number): Promise<Scripted> {
      while (connections.length <= index) {
        await waitFor(arrived, 'connection', { timeoutMs: WAIT, label: `connection ${index}` });
      }
      return connections[index] as Scripted;
    },
  };
}

function client(url: string) {
  const created = new WebSocketClient<string, string>(url, {
    WebSocket: WsWebSocket as unknown as WebSocketConstructor,
    binaryType: 'arraybuffer',
    delivery: exactlyOnce(),
    reconnect: RECONNECT,
  });
  cleanups.push(() => created.close());
  const messages: string[] = [];
  const lost: Array<ClientEventMap<string, string>['session-lost']> = [];
  created.on('message', (message) => messages.push(message));
  created.on('session-lost', (report) => lost.push(report));
  return { client: created, messages, lost };
}

describe('exactly-once client: acknowledgements (issue 12, point 3)', () => {
  it('acknowledges a burst that arrives in one tick in batches: at most one ack per 32 messages', async () => {
    const COUNT = 20_000;
    const server = await startScripted();
    const { client: c, messages } = client(server.url);
    c.open();
    const first = await server.connection(0);
    const { sid } = await first.hello();
    first.welcome(sid, 0, false);
    for (let seq = 1; seq <= COUNT; seq += 1) first.socket.send(`m${seq}:${seq}`);
    await first.next((frame) => frame === `a${COUNT}`, `a${COUNT}`);
    const acks = first.acks();
    expect(messages).toHaveLength(COUNT);
    // Before: one ack per message once the first batch was full (19,969 here).
    expect(acks.length).toBeLessThanOrEqual(Math.ceil(COUNT / 32));
    expect(acks).toEqual([...acks].sort((a, b) => a - b)); // each covers more
    expect(new Set(acks).size).toBe(acks.length); // never the same twice
  });

  it("exchanges 1,500 messages with the dev server's /reliable without tripping its message rate limit", async () => {
    const dev = await startDevServer();
    cleanups.push(() => dev.close());
    const { client: c, messages } = client(`${dev.wsUrl}/reliable`);
    const closes: number[] = [];
    c.on('close', ({ code }) => closes.push(code));
    await c.open();
    for (let n = 0; n < 1500; n += 1) c.send(`echo ${n}`);
    await waitUntil(() => messages.length === 1500, { timeoutMs: 10_000, message: '1,500 echoes' });
    const health = await (await fetch(`${dev.url}/healthz`)).json();
    expect(health.refusals['rate-limit']).toBe(0);
    expect(closes).toEqual([]);
    // Received by the server: the hello, 1,500 messages, the acks (batched) and heartbeat pings.
    expect(health.messages.in).toBeLessThan(1500 + 1500 / 32 + 20);
  });
});

describe('exactly-once client: a server that lost the session (issue 12, point 4)', () => {
  it('reports session-lost when a "resumed" server numbers from 1 again, instead of dropping its messages', async () => {
    const server = await startScripted();
    const { client: c, messages, lost } = client(server.url);
    c.open();
    const first = await server.connection(0);
    const { sid } = await first.hello();
    first.welcome(sid, 0, false);
    for (const [seq, text] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      first.socket.send(`m${seq}:${text}`);
    await first.next((frame) => frame === 'a3', 'a3');
    first.socket.terminate();

    const second = await server.connection(1);
    expect(await second.hello()).toMatchObject({ sid, recv: 3 });
    second.welcome(sid, 0, true); // claims a resume, but has forgotten everything
    second.socket.send('m1:new 1');
    second.socket.send('m2:new 2');
    second.socket.send('m3:new 3');

    const third = await server.connection(2);
    const next = await third.hello();
    expect(next.sid).not.toBe(sid); // a new session
    expect(lost).toEqual([{ reason: 'not-resumed', undelivered: [] }]);
    expect(await second.next((frame) => frame === 'x', 'bye')).toBe('x');
    expect(messages).toEqual(['a', 'b', 'c']);
  });

  it('reports what the server had not acknowledged when its resume is below its own acknowledgement', async () => {
    const server = await startScripted();
    const { client: c, lost } = client(server.url);
    c.open();
    const first = await server.connection(0);
    const { sid } = await first.hello();
    first.welcome(sid, 0, false);
    await waitFor(c, 'open', { timeoutMs: WAIT });
    c.send('one');
    c.send('two');
    c.send('three');
    await first.next((frame) => frame === 'm3:three', 'm3');
    first.socket.send('a2');
    // The client handles frames in order: its ack of a message sent after a2 proves a2 applied.
    first.socket.send('m1:sync');
    await first.next((frame) => frame === 'a1', 'a1');
    first.socket.terminate();

    const second = await server.connection(1);
    await second.hello();
    // Before: taken as a resume; 'three' was resent as m3 to a server that expects m1.
    second.welcome(sid, 0, true);
    const third = await server.connection(2);
    expect((await third.hello()).sid).not.toBe(sid);
    expect(lost).toEqual([{ reason: 'not-resumed', undelivered: ['three'] }]);
  });
});

describe('exactly-once client: the send buffer and the queue limits', () => {
  it('counts written, unacknowledged messages against queue.maxMessages, never evicts them, and resends only what the resume lacks', async () => {
    const server = await startScripted();
    const c = new WebSocketClient<string, string>(server.url, {
      WebSocket: WsWebSocket as unknown as WebSocketConstructor,
      delivery: exactlyOnce(),
      reconnect: RECONNECT,
      queue: { maxMessages: 3, overflow: 'drop-oldest' },
    });
    cleanups.push(() => c.close());
    const drops: string[] = [];
    c.on('drop', ({ data, reason }) => drops.push(`${data}:${reason}`));
    c.open();
    const first = await server.connection(0);
    const { sid } = await first.hello();
    first.welcome(sid, 0, false);
    await waitFor(c, 'open', { timeoutMs: WAIT });
    expect([c.send('a'), c.send('b'), c.send('c')]).toEqual([true, true, true]);
    expect(c.queued).toBe(3);
    // Full of messages the server may or may not have: the new one is refused, none is evicted.
    expect(c.send('d')).toBe(false);
    expect(drops).toEqual(['d:queue-full']);
    first.socket.send('a2');
    first.socket.send('m1:sync');
    await first.next((frame) => frame === 'a1', 'a1');
    expect(c.queued).toBe(1);
    expect(c.send('e')).toBe(true);
    await first.next((frame) => frame === 'm4:e', 'm4:e');
    expect(first.frames.filter((frame) => frame.startsWith('m'))).toEqual(['m1:a', 'm2:b', 'm3:c', 'm4:e']);
    first.socket.terminate();

    const second = await server.connection(1);
    await second.hello();
    second.welcome(sid, 3, true); // the server got c before the drop
    await second.next((frame) => frame === 'm4:e', 'resent m4:e');
    expect(second.frames.filter((frame) => frame.startsWith('m'))).toEqual(['m4:e']);
    expect(c.queued).toBe(1);
  });
});
