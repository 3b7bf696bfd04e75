/**
 * The parts of tether-ws/persist that carry exactly-once to the edge of the page, on the fake
 * socket and the memory store: the inbox (what the server sent, kept until its listeners ran),
 * `queued` from the constructor on, a stored session that cannot be valid on the wire, the
 * journal kept while the page is going, and `flushed()`. The browser runs are
 * test/e2e/persist-edges.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { type MessageInfo, WebSocketClient } from '../../client/index.js';
import { memoryStore, type PersistStore, persist, type StoredRecord } from '../../client/persist/index.js';
import { FORMAT_VERSION } from '../../client/persist/record.js';
import { Writer } from '../../client/persist/writer.js';
import { fakeWebSocket } from '../helpers/fake-socket.js';

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const TEST_URL = 'ws://persist.test/';
const session = {
  id: 'stored-session-id',
  key: 'k'.repeat(22),
  sent: 2,
  received: 5,
  acknowledged: 3,
  peerAcked: 1,
  at: 1,
};

const clients: WebSocketClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function exactly(records: StoredRecord[]) {
  const store = memoryStore(records);
  const { WebSocket, sockets } = fakeWebSocket();
  const client = new WebSocketClient(TEST_URL, {
    WebSocket,
    delivery: await persist(store, exactlyOnce()),
    heartbeat: false,
  });
  clients.push(client);
  const events: string[] = [];
  const got: Array<[unknown, MessageInfo | undefined]> = [];
  client.on('error', (error) => events.push(`error ${error.code}: ${error.message}`));
  client.on('session-lost', ({ reason, undelivered }) => events.push(`lost ${reason} ${undelivered}`));
  client.on('message', (data, info) => got.push([data, info]));
  return { store, client, sockets, events, got };
}

describe('persist() around exactlyOnce(): the inbox', () => {
  it('stores a message from the server before its acknowledgement, delivers it with its seq and session, and deletes it once its listeners ran', async () => {
    const { store, client, sockets, got } = await exactly([]);
    client.open();
    await settle();
    const socket = sockets[0] as NonNullable<(typeof sockets)[0]>;
    socket.protocol = 'tether.v1';
    socket.serverOpen();
    const sid = new URL(socket.url).searchParams.get('tether_sid') as string;
    socket.serverMessage(`w${JSON.stringify({ v: 1, sid, recv: 0, resumed: false, window: 60_000 })}`);
    await settle();
    socket.serverMessage('m1:a');
    const inbox = () => [...store.records.values()].filter((value) => (value as { in?: unknown }).in);
    expect(got).toEqual([]);
    await settle(); // the write holding it commits, then it is delivered, then its deletion is written
    expect(got).toEqual([['a', { seq: 1, sessionId: sid, redelivered: false }]]);
    await settle();
    expect(inbox()).toEqual([]);
  });

  it('delivers what the last page stored and did not handle first, flagged redelivered after a crash and not after pagehide', async () => {
    for (const left of [false, true]) {
      const { store, client, sockets, got } = await exactly([
        [0, { v: FORMAT_VERSION, w: 7, session, ...(left ? { left } : {}) }],
        [11, { in: 'five', seq: 5 }],
        [10, { in: 'four', seq: 4 }],
      ]);
      client.open();
      expect(got).toEqual([
        ['four', { seq: 4, sessionId: session.id, redelivered: !left }],
        ['five', { seq: 5, sessionId: session.id, redelivered: !left }],
      ]);
      // The hello resumes from the stored count: the server sends nothing of these again.
      sockets[0]?.serverOpen('tether.v1');
      await settle(); // the hello waits for the write of what came before it
      expect(sockets[0]?.sent[0]).toBe(
        `h${JSON.stringify({ v: 1, sid: session.id, recv: 5, key: session.key })}`,
      );
      await settle();
      expect([...store.records.keys()].filter((key) => key >= 10)).toEqual([]);
    }
  });

  it('counts stored messages in queued from the constructor on', async () => {
    const stored: StoredRecord[] = Array.from({ length: 50 }, (_, i) => [i + 1, { wire: `m${i}` }]);
    const delivery = await persist(memoryStore([[0, { v: FORMAT_VERSION, w: 1 }], ...stored]), exactlyOnce());
    const { WebSocket } = fakeWebSocket();
    const client = new WebSocketClient(TEST_URL, { WebSocket, delivery, heartbeat: false });
    clients.push(client);
    expect(client.queued).toBe(50); // before restoring, which waits for the end of the constructor's task
    await settle();
    expect(client.queued).toBe(50);
  });

  it('skips and reports a stored session that cannot be valid on the wire, and reports its written messages as lost, never sending its hello', async () => {
    for (const broken of [
      { id: 'has space' },
      { id: 'x'.repeat(65) },
      { key: 'abc' },
      { received: 2 ** 40, acknowledged: 0 },
    ]) {
      const { client, sockets, events } = await exactly([
        [0, { v: FORMAT_VERSION, w: 1, session: { ...session, ...broken } }],
        [1, { wire: 'written', seq: 2 }],
        [2, { wire: 'queued' }],
      ]);
      await settle();
      expect(events, JSON.stringify(broken)).toEqual([
        'error PERSIST_FAILED: Storage failed (read), going on in memory: a stored session not valid on the wire (skipped)',
        'lost not-resumed written',
      ]);
      expect(client.queued).toBe(1);
      client.open();
      await settle();
      sockets[0]?.serverOpen('tether.v1');
      await settle();
      const hello = JSON.parse(String(sockets[0]?.sent[0]).slice(1)) as { sid: string; recv: number };
      expect(hello.sid).not.toBe((broken as { id?: string }).id ?? session.id);
      expect(hello.recv).toBe(0);
    }
  });
});

describe('Writer: the journal and flushed()', () => {
  function journalled() {
    const writes: Array<{ changes: StoredRecord[]; done: () => void }> = [];
    const kept: Array<string | undefined> = [];
    const store: PersistStore = {
      load: () => Promise.resolve([]),
      write: (changes) => new Promise<void>((resolve) => writes.push({ changes, done: resolve })),
      keep: (journal) => kept.push(journal),
    };
    return { store, writes, kept };
  }

  it('keeps nothing while the page is visible; once it is going, journals every write not yet committed, and removes the journal once all are', async () => {
    const { store, writes, kept } = journalled();
    const writer = new Writer(
      store,
      () => {},
      () => {},
      5,
    );
    writer.put(1, 'a');
    await settle();
    expect(kept).toEqual([]);
    writer.put(2, 'b');
    writer.hide(); // the first write is in flight: the second starts at once, both journalled
    expect(writes.length).toBe(2);
    expect(kept.map((journal) => journal && JSON.parse(journal))).toEqual([
      [
        [5, [[1, 'a']]],
        [6, [[2, 'b']]],
      ],
    ]);
    // From now on every change is written and journalled at the end of its task.
    writer.put(1, undefined);
    await settle();
    expect(JSON.parse(kept.at(-1) as string)).toEqual([
      [5, [[1, 'a']]],
      [6, [[2, 'b']]],
      [7, [[1, null]]],
    ]);
    for (const write of writes.splice(0)) write.done();
    await settle();
    expect(kept.at(-1)).toBeUndefined();
  });

  it('flushed() resolves once what changed before it is stored, and rejects once the store failed', async () => {
    const { store, writes } = journalled();
    const writer = new Writer(
      store,
      () => {},
      () => {},
    );
    await writer.flushed(); // nothing waiting
    writer.put(1, 'a');
    let flushed = false;
    const done = writer.flushed().then(() => {
      flushed = true;
    });
    await settle();
    expect(flushed).toBe(false);
    writes[0]?.done();
    await done;
    expect(flushed).toBe(true);
    writer.fail(new Error('gone'));
    await expect(writer.flushed()).rejects.toThrow(/Storage failed/);
  });
});
