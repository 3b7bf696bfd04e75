import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../client/persist/index.js';
import { FORMAT_VERSION, readRecords } from '../../client/persist/record.js';

const session = {
  id: 'sid',
  key: 'k'.repeat(22),
  sent: 3,
  received: 2,
  acknowledged: 2,
  peerAcked: 1,
  at: 1000,
};
const nothing = { inbox: [], left: false, written: 0, replay: [] };

describe('readRecords()', () => {
  it('returns the messages in key order, whatever order the store gave, and the next key', () => {
    const outbox = readRecords([
      [7, { wire: 'c' }],
      [0, { v: FORMAT_VERSION, session }],
      [2, { wire: 'a', seq: 2 }],
      [5, { data: { text: 'b' }, wire: '{"text":"b"}' }],
    ]);
    expect(outbox).toEqual({
      session,
      messages: [
        { key: 2, data: 'a', wire: 'a', seq: 2 },
        { key: 5, data: { text: 'b' }, wire: '{"text":"b"}', seq: undefined },
        { key: 7, data: 'c', wire: 'c', seq: undefined },
      ],
      nextKey: 8,
      skipped: 0,
      ...nothing,
    });
  });

  it('keeps binary wire forms', () => {
    const bytes = new Uint8Array([1, 2]);
    const outbox = readRecords([[1, { wire: bytes }]]);
    expect(outbox.messages[0]?.wire).toBe(bytes);
  });

  it('skips and counts records that are not of this format, and a header with a broken session', () => {
    const outbox = readRecords([
      [0, { v: FORMAT_VERSION, session: { ...session, sent: -1 } }],
      [1, { wire: 42 }],
      [2, null],
      [3, { wire: 'ok', seq: 1.5 }],
      [-4, { wire: 'negative key' }],
      [5, { wire: 'kept' }],
    ]);
    expect(outbox.session).toBeUndefined();
    expect(outbox.messages.map((m) => m.wire)).toEqual(['kept']);
    expect(outbox.skipped).toBe(5);
  });

  it('reads nothing from a header of a newer format, and says which', () => {
    const outbox = readRecords([
      [0, { v: FORMAT_VERSION + 1, session }],
      [1, { wire: 'a' }],
    ]);
    expect(outbox).toEqual({
      session: undefined,
      messages: [],
      nextKey: 1,
      skipped: 0,
      newer: FORMAT_VERSION + 1,
      ...nothing,
    });
  });

  it('reads the inbox (messages from the server not yet handled) in seq order, and whether the last page left by pagehide', () => {
    const outbox = readRecords([
      [0, { v: FORMAT_VERSION, w: 4, session, left: true }],
      [9, { in: 'second', seq: 2 }],
      [8, { in: 'first', seq: 1 }],
    ]);
    expect(outbox.inbox).toEqual([
      { key: 8, in: 'first', seq: 1 },
      { key: 9, in: 'second', seq: 2 },
    ]);
    expect(outbox).toMatchObject({ left: true, written: 4, nextKey: 10 });
  });

  it('applies the journal: only the writes the store lacks (numbered above its header), in order, to be written again', () => {
    const journal = JSON.stringify([
      [3, [[1, { wire: 'stale' }]]],
      [
        4,
        [
          [0, { v: FORMAT_VERSION, w: 4 }],
          [1, null],
          [2, { wire: 'b' }],
        ],
      ],
      [
        5,
        [
          [0, { v: FORMAT_VERSION, w: 5, left: true }],
          [3, { wire: 'c' }],
        ],
      ],
    ]);
    const outbox = readRecords(
      [
        [0, { v: FORMAT_VERSION, w: 3 }],
        [1, { wire: 'a' }],
      ],
      journal,
    );
    expect(outbox.messages.map((m) => m.wire)).toEqual(['b', 'c']);
    expect(outbox).toMatchObject({ written: 5, left: true, skipped: 0 });
    expect(outbox.replay).toEqual([
      [0, { v: FORMAT_VERSION, w: 5, left: true }],
      [1, undefined],
      [2, { wire: 'b' }],
      [3, { wire: 'c' }],
    ]);
    // A journal that is not of this format is counted, and the store is read as it is.
    const broken = readRecords([[1, { wire: 'a' }]], '{not json');
    expect(broken.messages.map((m) => m.wire)).toEqual(['a']);
    expect(broken.skipped).toBe(1);
  });
});

describe('memoryStore()', () => {
  it('applies each write in order: a later put wins, undefined deletes', async () => {
    const store = memoryStore([[1, 'old']]);
    await store.write([
      [1, 'new'],
      [2, 'two'],
      [3, 'three'],
      [2, undefined],
    ]);
    expect(await store.load()).toEqual([
      [1, 'new'],
      [3, 'three'],
    ]);
    expect([...store.records.keys()]).toEqual([1, 3]);
  });
});
