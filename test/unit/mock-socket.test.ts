import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { advance, MockWebSocket, mockServer, NO_SERVER_URL, stopServers, TEST_URL } from '../helpers/mock.js';

// Pins the mock-socket 9.3.1 behaviour the other unit tests rely on (see test/helpers/mock.ts).
describe('mock-socket under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    stopServers();
    vi.useRealTimers();
  });

  it('opens a socket only after its own 4 ms timer runs', async () => {
    mockServer();
    const socket = new MockWebSocket(TEST_URL);
    await advance(3);
    expect(socket.readyState).toBe(0);
    await advance(1);
    expect(socket.readyState).toBe(1);
  });

  it('delivers a client send to the server 4 ms later', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    await advance(4);
    socket.send('hi');
    expect(mock.received).toEqual([]);
    await advance(4);
    expect(mock.received).toEqual(['hi']);
  });

  it('closes with 1000 and wasClean true when no server listens (a browser gives 1006)', async () => {
    const socket = new MockWebSocket(NO_SERVER_URL);
    const seen: string[] = [];
    socket.addEventListener('error', () => seen.push('error'));
    socket.addEventListener('close', (e) => {
      const close = e as CloseEvent;
      seen.push(`close:${close.code}:${close.wasClean}`);
    });
    await advance(4);
    expect(seen).toEqual(['error', 'close:1000:true']);
  });

  it("fires error but no close on server.simulate('error')", async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    const seen: string[] = [];
    socket.addEventListener('error', () => seen.push('error'));
    socket.addEventListener('close', () => seen.push('close'));
    await advance(4);
    mock.server.simulate('error');
    await advance(100);
    expect(seen).toEqual(['error']);
  });

  it('delivers a server-side close({ code }) 4 ms later, marking the socket CLOSING at once', async () => {
    const mock = mockServer();
    const socket = new MockWebSocket(TEST_URL);
    const codes: number[] = [];
    socket.addEventListener('close', (e) => codes.push((e as CloseEvent).code));
    await advance(4);
    mock.drop(1011);
    expect(socket.readyState).toBe(2);
    await advance(4);
    expect(codes).toEqual([1011]);
    expect(mock.live()).toEqual([]);
  });

  it('refuses a second server on the same URL until the first is stopped', () => {
    mockServer();
    expect(() => mockServer()).toThrow(/^A mock server is already listening on this url$/);
  });
});
