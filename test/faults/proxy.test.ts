import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { type RawData, WebSocketServer } from 'ws';
import {
  type CutInfo,
  createFaultProxy,
  type FaultProxy,
  type FaultProxyEvents,
} from '../helpers/fault-proxy';
import { waitFor } from '../helpers/next-event';

/** Bound on every wait: generous for a loaded 2-core machine, far below the test timeout. */
const timeoutMs = 3000;

/** ws's CLOSE_ABNORMAL: the connection ended without a closing handshake (RFC 6455 §7.1.5). */
const ABNORMAL = 1006;

type Payload<K extends keyof FaultProxyEvents> = FaultProxyEvents[K][0];

interface EchoServer {
  wss: WebSocketServer;
  port: number;
  close(): Promise<void>;
}

async function startEchoServer(): Promise<EchoServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await waitFor(wss, 'listening', { timeoutMs, label: 'echo server' });
  wss.on('connection', (socket) => {
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe('FaultProxy', () => {
  let server: EchoServer;
  let proxy: FaultProxy;
  const clients: WebSocket[] = [];

  beforeEach(async () => {
    server = await startEchoServer();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    await proxy.close();
    await server.close();
  });

  function connect(): WebSocket {
    const client = new WebSocket(proxy.url('/echo'));
    // Handshake failures are asserted through `close`; an unhandled `error` would crash the run.
    client.on('error', () => {});
    clients.push(client);
    return client;
  }

  /** Opens a client through the proxy; resolves with both ends once the client is open. */
  async function openPair(): Promise<{ client: WebSocket; peer: WebSocket }> {
    const peer = waitFor<WebSocket>(server.wss, 'connection', { timeoutMs, label: 'echo server' });
    const client = connect();
    await waitFor(client, 'open', { timeoutMs, failOn: ['error', 'close'], label: 'client' });
    return { client, peer: await peer };
  }

  function nextMessage(socket: WebSocket, text: string): Promise<RawData> {
    return waitFor<RawData>(socket, 'message', {
      timeoutMs,
      filter: (data) => data.toString() === text,
      label: `socket (expecting "${text}")`,
    });
  }

  async function echo(client: WebSocket, text: string): Promise<string> {
    const reply = nextMessage(client, text);
    client.send(text);
    return (await reply).toString();
  }

  function closeCode(socket: WebSocket): Promise<number> {
    return waitFor<number>(socket, 'close', { timeoutMs, failOn: ['open'], label: 'socket' });
  }

  function proxyEvent<K extends keyof FaultProxyEvents>(
    event: K,
    filter: (info: Payload<K>) => boolean = () => true,
  ): Promise<Payload<K>> {
    return waitFor<Payload<K>>(proxy, event, { timeoutMs, filter, label: 'proxy' });
  }

  describe('without faults', () => {
    it('relays a WebSocket echo both ways and counts the connection and the bytes', async () => {
      const { client } = await openPair();

      expect(await echo(client, 'hello')).toBe('hello');
      expect(proxy.url('x')).toBe(`ws://127.0.0.1:${proxy.port}/x`);
      expect(proxy.accepted).toBe(1);
      expect(proxy.connections).toBe(1);
      expect(proxy.bytes.up).toBeGreaterThan(0);
      expect(proxy.bytes.down).toBeGreaterThan(0);
      expect(proxy.dropped).toEqual({ up: 0, down: 0 });
    });
  });

  describe('resetAll()', () => {
    it('closes both ends abruptly (1006) and the proxy then accepts new connections', async () => {
      const { client, peer } = await openPair();
      const clientCode = closeCode(client);
      const peerCode = closeCode(peer);
      const gone = proxyEvent('disconnect');

      proxy.resetAll();

      expect(await clientCode).toBe(ABNORMAL);
      expect(await peerCode).toBe(ABNORMAL);
      await gone;
      expect(proxy.connections).toBe(0);
      const { client: again } = await openPair();
      expect(await echo(again, 'after reset')).toBe('after reset');
    });
  });

  describe('blackhole()', () => {
    it('drops traffic both ways while both ends still report OPEN (half-open)', async () => {
      const { client, peer } = await openPair();
      const clientMessages: string[] = [];
      const peerMessages: string[] = [];
      client.on('message', (data) => clientMessages.push(data.toString()));
      peer.on('message', (data) => peerMessages.push(data.toString()));

      proxy.blackhole(true);
      const droppedUp = proxyEvent('drop', (d) => d.direction === 'up');
      client.send('lost on the way up');
      expect(await droppedUp).toMatchObject({ reason: 'blackhole' });
      const droppedDown = proxyEvent('drop', (d) => d.direction === 'down');
      peer.send('lost on the way down');
      expect(await droppedDown).toMatchObject({ reason: 'blackhole' });

      // The proxy threw both frames away, so nothing is in flight that could still arrive.
      expect(clientMessages).toEqual([]);
      expect(peerMessages).toEqual([]);
      expect(client.readyState).toBe(WebSocket.OPEN);
      expect(peer.readyState).toBe(WebSocket.OPEN);
      expect(proxy.connections).toBe(1);

      // Lifting it resumes forwarding (the dropped bytes leave a hole, so no echo is asserted).
      proxy.blackhole(false);
      const forwarded = proxyEvent('forward', (f) => f.direction === 'up');
      client.send('after the black hole');
      await forwarded;
    });

    it('holds back a server-side close until it is lifted, then closes the client (1006)', async () => {
      const { client, peer } = await openPair();
      proxy.blackhole(true);
      // The server's FIN (`end`) is what reaches the proxy first.
      const held = proxyEvent('hold', (h) => h.direction === 'down');

      peer.terminate();

      await held;
      expect(client.readyState).toBe(WebSocket.OPEN);
      const clientCode = closeCode(client);
      proxy.blackhole(false);
      expect(await clientCode).toBe(ABNORMAL);
    });
  });

  describe('setLatency()', () => {
    it('delays each chunk in both directions: a 200 ms latency makes an echo take at least ~400 ms', async () => {
      const { client } = await openPair();
      proxy.setLatency(200);

      const started = performance.now();
      await echo(client, 'slow');
      const elapsed = performance.now() - started;

      // A lower bound only (delays only grow under load); slack for timer granularity.
      expect(elapsed).toBeGreaterThanOrEqual(350);
    });

    it('keeps order: a chunk sent after the latency drops to 0 does not overtake a delayed one', async () => {
      const { client, peer } = await openPair();
      const received: string[] = [];
      peer.on('message', (data) => received.push(data.toString()));
      const second = nextMessage(peer, 'second');

      proxy.setLatency(300);
      const firstArrived = proxyEvent('receive', (r) => r.direction === 'up');
      client.send('first');
      await firstArrived;
      proxy.setLatency(0);
      client.send('second');

      await second;
      expect(received).toEqual(['first', 'second']);
    });

    it('rejects a negative latency with a message naming the value', () => {
      expect(() => proxy.setLatency(-1)).toThrow(
        /^setLatency\(\): got -1; expected a finite number of milliseconds >= 0\.$/,
      );
    });
  });

  describe('cutMidFrame()', () => {
    it('by default cuts the next server → client chunk: the client gets no message and closes with 1006', async () => {
      const { client } = await openPair();
      const messages: RawData[] = [];
      client.on('message', (data) => messages.push(data));
      const cut = proxyEvent('cut');
      const clientCode = closeCode(client);

      proxy.cutMidFrame();
      client.send('x'.repeat(2000));

      expect(await cut).toMatchObject({ direction: 'down' });
      expect(await clientCode).toBe(ABNORMAL);
      expect(messages).toEqual([]);
    });

    it("cuts client → server: the server's socket receives only part of the frame, then 1006", async () => {
      const peerPromise = waitFor<WebSocket>(server.wss, 'connection', { timeoutMs });
      let rawBytesAtServer = 0;
      server.wss.once('connection', (_socket, request) => {
        request.socket.on('data', (chunk: Buffer) => {
          rawBytesAtServer += chunk.length;
        });
      });
      const client = connect();
      await waitFor(client, 'open', { timeoutMs, failOn: ['close'] });
      const peer = await peerPromise;
      const peerMessages: RawData[] = [];
      peer.on('message', (data) => peerMessages.push(data));
      const cut = proxyEvent('cut');
      const peerCode = closeCode(peer);
      const clientCode = closeCode(client);

      proxy.cutMidFrame('up');
      // A 2000-byte text frame from a client is 2008 bytes: 2 header, 2 length, 4 mask.
      client.send('y'.repeat(2000));

      const info: CutInfo = await cut;
      expect(info.direction).toBe('up');
      expect(await peerCode).toBe(ABNORMAL);
      expect(await clientCode).toBe(ABNORMAL);
      expect(info.forwarded).toBeGreaterThan(0);
      expect(info.dropped).toBeGreaterThan(0);
      expect(info.forwarded).toBeLessThan(2008);
      expect(rawBytesAtServer).toBe(info.forwarded);
      expect(peerMessages).toEqual([]);
    });
  });

  describe('refuse()', () => {
    it('resets new connections while on, leaves open ones alone, and accepts again when off', async () => {
      const { client: existing } = await openPair();
      proxy.refuse(true);
      const refused = proxyEvent('refuse');

      const rejected = connect();
      expect(await closeCode(rejected)).toBe(ABNORMAL);
      await refused;
      expect(await echo(existing, 'still here')).toBe('still here');
      expect(server.wss.clients.size).toBe(1);

      proxy.refuse(false);
      const { client: later } = await openPair();
      expect(await echo(later, 'accepted again')).toBe('accepted again');
      expect(proxy.accepted).toBe(3);
    });
  });

  describe('stall()', () => {
    it('accepts TCP but never answers the upgrade: the client stays CONNECTING', async () => {
      proxy.stall(true);
      const accepted = proxyEvent('accept');
      const requestDropped = proxyEvent('drop', (d) => d.reason === 'stall');
      const stalled = connect();
      let opened = false;
      stalled.on('open', () => {
        opened = true;
      });

      expect(await accepted).toMatchObject({ stalled: true });
      await requestDropped;
      // A full handshake through the proxy after the stalled request was swallowed: had the
      // stalled one been answered, its `open` would have had the same time to arrive.
      proxy.stall(false);
      const { client: other } = await openPair();
      expect(await echo(other, 'ping')).toBe('ping');

      expect(opened).toBe(false);
      expect(stalled.readyState).toBe(WebSocket.CONNECTING);
      expect(server.wss.clients.size).toBe(1);
      expect(proxy.connections).toBe(2);
    });
  });
});

describe('FaultProxy close()', () => {
  /** What keeps the event loop alive, by kind (public Node API, unlike `_getActiveHandles`). */
  function activeResources(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  }

  /**
   * Closed handles stay listed until libuv's close callbacks run, in the close phase that follows
   * the check phase: two `setImmediate` turns get past it. A loop-phase barrier, not a sleep.
   */
  async function afterCloseCallbacks(): Promise<void> {
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }

  it('releases the listener, every socket and every latency timer', async () => {
    await afterCloseCallbacks();
    const before = activeResources();
    const server = await startEchoServer();
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: server.port } });
    const client = new WebSocket(proxy.url());
    client.on('error', () => {});
    await waitFor(client, 'open', { timeoutMs, failOn: ['close'] });
    // A chunk parked in the latency queue holds a timer that close() must clear.
    proxy.setLatency(60_000);
    const parked = waitFor(proxy, 'receive', { timeoutMs });
    client.send('parked');
    await parked;
    const clientCode = waitFor<number>(client, 'close', { timeoutMs });

    await proxy.close();

    expect(proxy.listening).toBe(false);
    expect(proxy.connections).toBe(0);
    expect(await clientCode).toBe(ABNORMAL);
    await server.close();
    await afterCloseCallbacks();
    const after = activeResources();
    for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      expect({ kind, count: after[kind] ?? 0 }).toEqual({ kind, count: before[kind] ?? 0 });
    }
  });
});
