import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../client/persist/index.js';
import { FORMAT_VERSION, readRecords } from '../../client/persist/record.js';

const session = { id: 'sid', key: 'k', sent: 3, received: 2, acknowledged: 2, peerAcked: 1, at: 1000 };

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
    });
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
