import { describe, expect, it } from 'vitest';
import {
  advance,
  MockWebSocket,
  mockServer,
  NO_SERVER_URL,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

/** Records a socket's events as `open`, `message:<data>`, `error`, `close:<code>:<wasClean>`. */
function record(socket: MockWebSocket): string[] {
  const seen: string[] = [];
  socket.addEventListener('open', () => seen.push('open'));
  socket.addEventListener('message', (e) => seen.push(`message:${(e as MessageEvent).data}`));
  socket.addEventListener('error', () => seen.push('error'));
  socket.addEventListener('close', (e) => {
    const close = e as CloseEvent;
    seen.push(`close:${close.code}:${close.wasClean}`);
  });
  return seen;
}

// Pins the fake network the unit tests rely on (test/helpers/fake-network.ts): where it matters to
// the client, it behaves as a browser does.
describe('the fake network', () => {
  it('opens a socket MOCK_DELAY (4 ms) after construction, selecting the first subprotocol offered', async () => {
    mockServer();
    const socket = new MockWebSocket(TEST_URL, ['chat', 'other']);
    await advance(3);
    expect(socket.readyState).toBe(0);
    await advance(1);
    expect([socket.readyState, socket.protocol]).toEqual([1, 'chat']);
  });

  it('delivers a client send to the server 4 ms later, and a server send at once', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    const seen = record(socket);
    await advance(4);
    socket.send('hi');
    expect(mock.received).toEqual([]);
    await advance(4);
    expect(mock.received).toEqual(['hi']);
    mock.emit('back');
    expect(seen).toEqual(['open', 'message:back']);
  });

  it('fails a connection nobody accepts as a browser does: error, then close 1006, not clean', async () => {
    const socket = new MockWebSocket(NO_SERVER_URL);
    const seen = record(socket);
    await advance(4);
    expect(seen).toEqual(['error', 'close:1006:false']);
  });

  it('delivers a server close frame 4 ms later with its code, marking the socket CLOSING at once', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    const seen = record(socket);
    await advance(4);
    mock.drop(1011, 'restart');
    expect(socket.readyState).toBe(2);
    await advance(4);
    expect(seen).toEqual(['open', 'close:1011:true']);
    expect(mock.live()).toEqual([]);
  });

  it('reports a dropped connection (no closing handshake) as 1006, not clean', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    const seen = record(socket);
    await advance(4);
    mock.drop();
    await advance(4);
    expect(seen).toEqual(['open', 'close:1006:false']);
  });

  it('completes a client close with its code, and fails a close while connecting with 1006', async () => {
    mockServer();
    const open = new MockWebSocket(TEST_URL);
    const early = new MockWebSocket(TEST_URL);
    const [seenOpen, seenEarly] = [record(open), record(early)];
    early.close(4000);
    await advance(4);
    open.close(4001, 'bye');
    await advance(4);
    expect(seenEarly).toEqual(['error', 'close:1006:false']);
    expect(seenOpen).toEqual(['open', 'close:4001:true']);
  });

  it('discards a send on a closing socket, as a browser does, instead of throwing', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    await advance(4);
    socket.close();
    socket.send('late');
    await advance(8);
    expect(mock.received).toEqual([]);
  });

  it('refuses a second server on the same URL until the servers are forgotten', () => {
    mockServer();
    expect(() => mockServer()).toThrow(/^A server already listens on ws:\/\/tether\.test\/live$/);
  });
});
