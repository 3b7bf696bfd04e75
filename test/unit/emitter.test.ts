import { describe, expect, it } from 'vitest';
import { WebSocketClient } from '../../client/index.js';
import {
  advance,
  MOCK_DELAY,
  mockOptions,
  mockServer,
  TEST_URL,
  useMockClock,
} from '../helpers/fake-network.js';

useMockClock();

async function openClient() {
  const mock = mockServer();
  const client = new WebSocketClient(TEST_URL, mockOptions());
  await Promise.all([client.open(), advance(MOCK_DELAY)]);
  return { mock, client };
}

describe('WebSocketClient events', () => {
  it('on() returns a function that unsubscribes that listener', async () => {
    const { mock, client } = await openClient();
    const seen: unknown[] = [];
    const off = client.on('message', (m) => seen.push(m));
    mock.emit('1');
    off();
    off();
    mock.emit('2');
    expect(seen).toEqual(['1']);
  });

  it('does not skip the next listener when one unsubscribes itself during emit', async () => {
    const { mock, client } = await openClient();
    const seen: string[] = [];
    const offA = client.on('message', () => {
      seen.push('a');
      offA();
    });
    client.on('message', () => seen.push('b'));
    client.on('message', () => seen.push('c'));
    mock.emit('x');
    mock.emit('y');
    expect(seen).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('calls the listeners of this emit even if one of them unsubscribes another', async () => {
    const { mock, client } = await openClient();
    const seen: string[] = [];
    let offC = () => {};
    client.on('message', () => {
      seen.push('a');
      offC();
    });
    client.on('message', () => seen.push('b'));
    offC = client.on('message', () => seen.push('c'));
    mock.emit('x');
    mock.emit('y');
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('does not call a listener added during emit until the next emit', async () => {
    const { mock, client } = await openClient();
    const seen: string[] = [];
    client.once('message', () => {
      seen.push('first');
      client.on('message', (m) => seen.push(`late:${String(m)}`));
    });
    mock.emit('x');
    mock.emit('y');
    expect(seen).toEqual(['first', 'late:y']);
  });

  it('once() fires a single time and returns an unsubscribe that works before it fires', async () => {
    const { mock, client } = await openClient();
    const seen: unknown[] = [];
    client.once('message', (m) => seen.push(m));
    const off = client.once('message', (m) => seen.push(`never:${String(m)}`));
    off();
    mock.emit('1');
    mock.emit('2');
    expect(seen).toEqual(['1']);
  });

  it('off() removes a listener added with on(), and ignores one never added', async () => {
    const { mock, client } = await openClient();
    const seen: unknown[] = [];
    const listener = (m: unknown) => seen.push(m);
    client.on('message', listener);
    client.off('message', listener);
    client.off('message', () => {});
    mock.emit('1');
    expect(seen).toEqual([]);
  });

  it('emits "state" before the event specific to the new state', async () => {
    const mock = mockServer();
    const client = new WebSocketClient(TEST_URL, mockOptions({ reconnect: { minDelay: 10 } }));
    const seen: string[] = [];
    client.on('state', ({ to }) => seen.push(`state:${to}`));
    client.on('open', ({ url }) => seen.push(`open:${url}`));
    client.on('close', ({ code, wasClean, willReconnect }) =>
      seen.push(`close:${code}:${wasClean}:${willReconnect}`),
    );
    client.on('reconnecting', ({ attempt }) => seen.push(`reconnecting:${attempt}`));
    await Promise.all([client.open(), advance(MOCK_DELAY)]);
    mock.drop(1011);
    await advance(MOCK_DELAY);
    expect(seen).toEqual([
      'state:connecting',
      'state:open',
      'open:ws://tether.test/live',
      'state:reconnecting',
      'close:1011:true:true', // a close frame from the server: clean
      'reconnecting:1',
    ]);
  });

  it('rejects a listener that is not a function', () => {
    const client = new WebSocketClient(TEST_URL, mockOptions());
    expect(() => client.on('open', 'nope' as never)).toThrow(
      expect.objectContaining({ name: 'TetherTypeError', code: 'INVALID_ARGUMENT', argument: 'listener' }),
    );
  });
});

describe('WebSocketClient once() and off()', () => {
  it('off() removes a listener that was added with once()', async () => {
    const client = new WebSocketClient('ws://localhost:1/');
    const seen: string[] = [];
    const listener = (event: { from: string; to: string }) => seen.push(event.to);
    client.once('state', listener);
    client.off('state', listener);
    await client.close();
    expect(seen).toEqual([]);
  });
});
