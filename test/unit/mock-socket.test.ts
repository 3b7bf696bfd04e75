import { Server, WebSocket } from 'mock-socket';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// mock-socket 9.3.1 as it is, without test/helpers/fake-network.ts's layer: each place where it
// differs from a browser, which the layer corrects (fake-network.test.ts pins the corrected
// behaviour). The last one cannot be corrected from outside mock-socket: the layer sends
// server-to-client data itself instead of through mock-socket. If an upgrade fixes one of these,
// its test fails here, and the layer's correction can go.
const URL = 'ws://mock-socket.test/';
let server: Server | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  server?.stop();
  server = undefined;
  vi.clearAllTimers();
  vi.useRealTimers();
});

/** Events of `socket` as `open`, `error`, `close:<code>:<wasClean>`. */
function record(socket: WebSocket): string[] {
  const seen: string[] = [];
  socket.addEventListener('open', () => seen.push('open'));
  socket.addEventListener('error', () => seen.push('error'));
  socket.addEventListener('close', (event) => {
    const { code, wasClean } = event as CloseEvent;
    seen.push(`close:${code}:${wasClean}`);
  });
  return seen;
}

describe('mock-socket 9.3.1 where it differs from a browser', () => {
  it('reports a connection to no server as closed with 1000, clean (a browser: 1006, not clean)', async () => {
    const socket = new WebSocket('ws://nobody.test/');
    const seen = record(socket);
    await vi.advanceTimersByTimeAsync(4);
    expect(seen).toEqual(['error', 'close:1000:true']);
  });

  it('has no bufferedAmount', async () => {
    server = new Server(URL, { mock: false });
    const socket = new WebSocket(URL);
    await vi.advanceTimersByTimeAsync(4);
    socket.send('abc');
    expect((socket as unknown as { bufferedAmount?: number }).bufferedAmount).toBeUndefined();
  });

  it("fires error and no close on simulate('error')", async () => {
    server = new Server(URL, { mock: false });
    const socket = new WebSocket(URL);
    const seen = record(socket);
    await vi.advanceTimersByTimeAsync(4);
    server.simulate('error');
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual(['open', 'error']);
  });

  it('closes with 1000 when the server side closes without a code, and calls 4002 not clean', async () => {
    server = new Server(URL, { mock: false });
    const connections: Array<{ close(options?: { code?: number }): void }> = [];
    server.on('connection', (socket) => connections.push(socket as never));
    const first = new WebSocket(URL);
    const second = new WebSocket(URL);
    const seen = [record(first), record(second)];
    await vi.advanceTimersByTimeAsync(4);
    connections[0]?.close();
    connections[1]?.close({ code: 4002 });
    await vi.advanceTimersByTimeAsync(4);
    expect(seen).toEqual([
      ['open', 'close:1000:true'],
      ['open', 'close:4002:false'],
    ]);
  });

  it('hands the server the very object a client sent (a browser copies the bytes when sent)', async () => {
    server = new Server(URL, { mock: false });
    const received: unknown[] = [];
    server.on('connection', (socket) => socket.on('message', (data) => received.push(data)));
    const socket = new WebSocket(URL);
    await vi.advanceTimersByTimeAsync(4);
    const bytes = new Uint8Array([1, 2, 3]);
    socket.send(bytes as never);
    bytes[0] = 9;
    await vi.advanceTimersByTimeAsync(4);
    expect(received).toEqual([new Uint8Array([9, 2, 3])]);
  });

  it('turns bytes a server sends into a string: cannot be corrected from outside', async () => {
    server = new Server(URL, { mock: false });
    server.on('connection', (socket) => socket.send(new Uint8Array([1, 2, 3]) as never));
    const socket = new WebSocket(URL);
    socket.binaryType = 'arraybuffer';
    const data: unknown[] = [];
    socket.addEventListener('message', (event) => data.push((event as MessageEvent).data));
    await vi.advanceTimersByTimeAsync(4);
    expect(data).toEqual(['1,2,3']);
  });
});
