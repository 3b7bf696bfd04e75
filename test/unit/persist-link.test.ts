import { afterEach, describe, expect, it } from 'vitest';
import { TetherError, TetherTypeError, WebSocketClient } from '../../client/index.js';
import { memoryStore, persist, type StoredRecord } from '../../client/persist/index.js';
import { FORMAT_VERSION } from '../../client/persist/record.js';
import { fakeWebSocket } from '../helpers/fake-socket.js';

const header: StoredRecord = [0, { v: FORMAT_VERSION }];
/** Lets the client's microtasks (restoring, the store's writes) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

const clients: WebSocketClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function persisted(
  records: StoredRecord[],
  queue?: { maxMessages: number; overflow: 'throw' | 'drop-oldest' },
) {
  const store = memoryStore(records);
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new WebSocketClient(TEST_URL, {
    WebSocket,
    delivery: await persist(store),
    heartbeat: false,
    ...(queue ? { queue } : {}),
  });
  clients.push(client);
  const events: string[] = [];
  client.on('error', (error) => events.push(`error ${error.code} ${String(error.data)}`));
  client.on('drop', ({ data, reason }) => events.push(`drop ${reason} ${String(data)}`));
  return { store, client, sockets, events };
}

const TEST_URL = 'ws://persist.test/';

describe('persist() (best-effort)', () => {
  it('sends what the last page left first, then what was sent since, and deletes each record once written', async () => {
    const { store, client, sockets } = await persisted([header, [2, { wire: 'b' }], [1, { wire: 'a' }]]);
    client.send('c'); // before the stored ones are back: it still goes after them
    client.open();
    await settle();
    expect(client.queued).toBe(3);
    expect([...store.records.values()].map((value) => (value as { wire?: string }).wire)).toEqual([
      undefined,
      'b',
      'a',
      'c',
    ]);
    sockets[0]?.serverOpen();
    expect(sockets[0]?.sent).toEqual(['a', 'b', 'c']);
    await settle();
    expect([...store.records.keys()]).toEqual([0]);
  });

  it('puts stored messages through the queue limits: evicted ones are drop events, and leave the store', async () => {
    const { store, client, events } = await persisted(
      [header, [1, { wire: 'a' }], [2, { wire: 'b' }], [3, { wire: 'c' }]],
      { maxMessages: 2, overflow: 'drop-oldest' },
    );
    await settle();
    expect(events).toEqual(['drop queue-full a']);
    expect(client.queued).toBe(2);
    expect([...store.records.keys()].sort()).toEqual([0, 2, 3]);
  });

  it("with overflow 'throw', reports a stored message that does not fit as a QUEUE_FULL error, with the message", async () => {
    const { store, client, events } = await persisted([header, [1, { wire: 'a' }], [2, { wire: 'b' }]], {
      maxMessages: 1,
      overflow: 'throw',
    });
    await settle();
    expect(events).toEqual(['error QUEUE_FULL b']);
    expect(client.queued).toBe(1);
    expect([...store.records.keys()].sort()).toEqual([0, 1]);
  });

  it('reports a store that fails to load as PERSIST_FAILED after the constructor, and works in memory', async () => {
    const broken = { load: () => Promise.reject(new Error('disk on fire')), write: () => Promise.resolve() };
    const { WebSocket, sockets } = fakeWebSocket();
    const client = new WebSocketClient(TEST_URL, {
      WebSocket,
      delivery: await persist(broken),
      heartbeat: false,
    });
    clients.push(client);
    const errors: TetherError[] = [];
    client.on('error', (error) => errors.push(error));
    await settle();
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ['PERSIST_FAILED', 'Storage failed (load), going on in memory: Error: disk on fire'],
    ]);
    client.send('kept in memory');
    client.open();
    sockets[0]?.serverOpen();
    expect(sockets[0]?.sent).toEqual(['kept in memory']);
  });

  it('refuses a bad store or mode at the boundary, and a second client on one result', async () => {
    await expect(persist({} as never)).rejects.toThrow(TetherTypeError);
    await expect(persist(memoryStore(), 'exactly-once' as never)).rejects.toThrow(
      /^Invalid argument "mode": got "exactly-once"; expected a delivery mode such as exactlyOnce\(\)\.$/,
    );
    const delivery = await persist(memoryStore());
    const { WebSocket } = fakeWebSocket();
    clients.push(new WebSocketClient(TEST_URL, { WebSocket, delivery }));
    expect(() => new WebSocketClient(TEST_URL, { WebSocket, delivery })).toThrow(
      new TetherError('INVALID_ARGUMENT', 'A persist() delivery serves one client'),
    );
  });
});
