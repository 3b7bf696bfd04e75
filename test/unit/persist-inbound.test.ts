/**
 * Inbound write-ahead in exactly-once mode, on the fake socket and a store whose commits the test
 * releases: a message reaches the listeners only once the received count covering it is stored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient } from '../../client/index.js';
import { memoryStore, persist, type StoredRecord } from '../../client/persist/index.js';
import { fakeWebSocket } from '../helpers/fake-socket.js';

/** Lets the client's microtasks (restoring, the store's writes) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const TEST_URL = 'ws://persist.test/';

const clients: WebSocketClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

describe('persist() around exactlyOnce()', () => {
  it('hands a message to the listeners only once the received count covering it is stored, one write per batch, in order', async () => {
    // A store whose writes commit when the test says so, recording the header each one stores.
    const inner = memoryStore();
    const commits: Array<() => void> = [];
    const storedReceived: number[] = [];
    const store = {
      load: () => inner.load(),
      write: (changes: StoredRecord[]) => {
        for (const [key, value] of changes) {
          const session = key === 0 && (value as { session?: { received: number } }).session;
          if (session) storedReceived.push(session.received);
        }
        return new Promise<void>((resolve) => commits.push(() => inner.write(changes).then(resolve)));
      },
    };
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new WebSocketClient(TEST_URL, {
      WebSocket,
      delivery: await persist(store, exactlyOnce()),
      heartbeat: false,
    });
    clients.push(client);
    const got: string[] = [];
    client.on('message', (text) => got.push(String(text)));
    client.open();
    await settle();
    const socket = sockets[0] as NonNullable<(typeof sockets)[0]>;
    socket.protocol = 'tether.v1';
    socket.serverOpen();
    const sid = new URL(socket.url).searchParams.get('tether_sid');
    socket.serverMessage(`w${JSON.stringify({ v: 1, sid, recv: 0, resumed: false, window: 60_000 })}`);
    for (let write = commits.shift(); write; write = commits.shift()) {
      write();
      await settle();
    }
    expect(client.state).toBe('open');

    // Two messages in one task: one write (received 2); nothing delivered before it commits.
    socket.serverMessage('m1:a');
    socket.serverMessage('m2:b');
    await settle();
    expect(got).toEqual([]);
    expect(commits.length).toBe(1);
    expect(storedReceived.at(-1)).toBe(2);
    // A third while that write is in flight: it waits for the next write, after the first two.
    socket.serverMessage('m3:c');
    await settle();
    (commits.shift() as () => void)();
    await settle();
    expect(got).toEqual(['a', 'b']);
    expect(storedReceived.at(-1)).toBe(3);
    // The connection goes before the next commit: the stored count covers 'c', so it is delivered.
    socket.serverClose(1006);
    (commits.shift() as () => void)();
    await settle();
    expect(got).toEqual(['a', 'b', 'c']);
  });
});
