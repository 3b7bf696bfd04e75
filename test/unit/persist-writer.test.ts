import { describe, expect, it } from 'vitest';
import type { PersistStore, StoredRecord } from '../../client/persist/index.js';
import { Writer } from '../../client/persist/writer.js';

/** A store whose writes complete when the test says so. */
function controlledStore() {
  const writes: Array<{ changes: StoredRecord[]; done: () => void; fail: (error: Error) => void }> = [];
  const store: PersistStore = {
    load: () => Promise.resolve([]),
    write: (changes) =>
      new Promise<void>((resolve, reject) => writes.push({ changes, done: resolve, fail: reject })),
  };
  return { store, writes };
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('Writer', () => {
  it('puts the changes of one task in one write, and holds a frame back until that write is done', async () => {
    const { store, writes } = controlledStore();
    const writer = new Writer(
      store,
      () => {},
      () => {},
    );
    const sent: string[] = [];
    writer.put(1, 'a');
    writer.put(2, 'b');
    writer.put(1, undefined);
    writer.gate(() => sent.push('frame'));
    await tick();
    expect(writes.map((w) => w.changes)).toEqual([
      [
        [1, undefined],
        [2, 'b'],
      ],
    ]);
    expect(sent).toEqual([]);
    writes[0]?.done();
    await tick();
    expect(sent).toEqual(['frame']);
    // Nothing pending or in flight: a frame goes at once.
    writer.gate(() => sent.push('now'));
    expect(sent).toEqual(['frame', 'now']);
  });

  it('coalesces what changes while a write is in flight into the next one, and keeps frames in order', async () => {
    const { store, writes } = controlledStore();
    const writer = new Writer(
      store,
      () => {},
      () => {},
    );
    const sent: string[] = [];
    writer.put(1, 'a');
    writer.gate(() => sent.push('1'));
    await tick();
    writer.put(2, 'b');
    writer.gate(() => sent.push('2'));
    writer.put(3, 'c');
    await tick();
    expect(writes).toHaveLength(1); // the second waits for the first
    writes[0]?.done();
    await tick();
    expect(sent).toEqual(['1']);
    expect(writes[1]?.changes).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    writes[1]?.done();
    await tick();
    expect(sent).toEqual(['1', '2']);
  });

  it('gives up on a failed write: the frames held back go, nothing more is written, failed() hears why', async () => {
    const { store, writes } = controlledStore();
    const failures: unknown[] = [];
    const writer = new Writer(
      store,
      () => {},
      (cause) => failures.push(cause),
    );
    const sent: string[] = [];
    writer.put(1, 'a');
    writer.gate(() => sent.push('frame'));
    await tick();
    const quota = new Error('QuotaExceededError');
    writes[0]?.fail(quota);
    await tick();
    expect(failures).toEqual([quota]);
    expect(sent).toEqual(['frame']);
    expect(writer.storing).toBe(false);
    writer.put(2, 'b');
    writer.gate(() => sent.push('after'));
    await tick();
    expect(writes).toHaveLength(1);
    expect(sent).toEqual(['frame', 'after']);
  });
});
