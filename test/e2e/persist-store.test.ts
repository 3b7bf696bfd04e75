/**
 * `browserStore()` in real Chromium, Firefox and WebKit: IndexedDB across reloads, one owner per name (Web Locks) with
 * a second tab and a duplicated one, and each way storage can fail: quota exceeded, no IndexedDB,
 * a database of a newer format, another page upgrading the database under us.
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import type { PersistStore } from '../../client/persist/index.js';
import { startDevServer, type TestDevServer } from '../helpers/dev-server';
import { describeEachEngine, type EngineContext, type EnginePage, itUnless } from '../helpers/engines';
import { openPersistPage, type PersistWindow, persistPageReady } from '../helpers/persist-page';

/** The quota test lowers the origin's quota through CDP, which only Chromium offers. */
const QUOTA_SKIP = {
  firefox: 'no way to lower one origin’s quota from the test (Chromium’s CDP Storage.overrideQuotaForOrigin)',
  webkit: 'no way to lower one origin’s quota from the test (Chromium’s CDP Storage.overrideQuotaForOrigin)',
};

describeEachEngine('tether-ws/persist: browserStore()', (suite) => {
  let dev: TestDevServer;

  beforeAll(async () => {
    dev = await startDevServer();
    return () => dev.close();
  });
  const newContext = (): Promise<EngineContext> => suite.newContext();

  /** In the page: loads `name` (claiming it), applies `changes`, returns the name owned and what was loaded. */
  const loadAndWrite = (page: EnginePage, name: string, changes: Array<[number, unknown]> = []) =>
    page.evaluate(
      async ({ name, changes }) => {
        const store = (window as unknown as PersistWindow).P.browserStore(name);
        // Kept, so that a later step of the test can write through the same store.
        (window as unknown as { stores: Record<string, unknown> }).stores = { [name]: store };
        const records = await store.load();
        await store.write(changes.map(([key, value]) => [key, value ?? undefined]));
        return { owned: store.owned, records: records.sort((a, b) => a[0] - b[0]) };
      },
      { name, changes },
    );

  it('keeps what was written across a reload: puts, overwrites and deletes', async () => {
    const page = await openPersistPage(await newContext(), dev.url);
    const bytes = [1, 2, 255];
    expect(
      await page.evaluate(async (bytes) => {
        const store = (window as unknown as PersistWindow).P.browserStore('chat');
        await store.load();
        await store.write([
          [0, { v: 1 }],
          [1, { wire: 'one' }],
          [2, { wire: new Uint8Array(bytes).buffer }],
          [3, { wire: 'three' }],
        ]);
        await store.write([
          [1, undefined],
          [3, { wire: 'three, again' }],
        ]);
        return store.owned;
      }, bytes),
    ).toBe('chat');
    await page.reload();
    await persistPageReady(page);
    const loaded = await page.evaluate(async () => {
      const store = (window as unknown as PersistWindow).P.browserStore('chat');
      const records = await store.load();
      return records.map(([key, value]) => {
        const wire = (value as { wire?: unknown }).wire;
        return [key, wire instanceof ArrayBuffer ? [...new Uint8Array(wire)] : value];
      });
    });
    expect(loaded).toEqual([
      [0, { v: 1 }],
      [2, bytes],
      [3, { wire: 'three, again' }],
    ]);
  });

  it('gives a second tab with the same name its own slot, and the first one back once its owner is gone', async () => {
    const context = await newContext();
    const first = await openPersistPage(context, dev.url);
    expect(await loadAndWrite(first, 'chat', [[1, { wire: 'from the first tab' }]])).toEqual({
      owned: 'chat',
      records: [],
    });
    const second = await openPersistPage(context, dev.url);
    expect(await loadAndWrite(second, 'chat', [[1, { wire: 'from the second tab' }]])).toEqual({
      owned: 'chat#2',
      records: [],
    });
    // Another name is unaffected.
    expect((await loadAndWrite(second, 'other')).owned).toBe('other');

    await first.close();
    // The first tab is gone: the next page gets its slot and what it left.
    const third = await openPersistPage(context, dev.url);
    expect(await loadAndWrite(third, 'chat')).toEqual({
      owned: 'chat',
      records: [[1, { wire: 'from the first tab' }]],
    });
    // The second tab still owns its slot; a reload of it gets it back with its own record.
    await second.reload();
    await persistPageReady(second);
    expect(await loadAndWrite(second, 'chat')).toEqual({
      owned: 'chat#2',
      records: [[1, { wire: 'from the second tab' }]],
    });
  });

  it('does not let a duplicated tab, whose sessionStorage is a copy, share the slot', async () => {
    const context = await newContext();
    const original = await openPersistPage(context, dev.url);
    expect((await loadAndWrite(original, 'chat')).owned).toBe('chat');
    await original.evaluate(() => sessionStorage.setItem('tab', 'original'));
    // window.open of the same URL copies sessionStorage, as "Duplicate tab" does.
    const duplicate = await context.waitForPage(() =>
      original.evaluate(() => {
        window.open(location.href);
      }),
    );
    await persistPageReady(duplicate);
    expect(await duplicate.evaluate(() => sessionStorage.getItem('tab'))).toBe('original');
    expect((await loadAndWrite(duplicate, 'chat')).owned).toBe('chat#2');
  });

  itUnless(suite, QUOTA_SKIP)(
    'rejects a write past the quota with the QuotaExceededError, writing none of it',
    async () => {
      const context = await newContext();
      const page = await openPersistPage(context, dev.url);
      // A quota of 256 KiB for the origin, set before its database exists (Chromium applies an
      // override set later only to later databases): the write below needs 512 KiB of random bytes.
      const native = page.native as Page;
      const cdp = await native.context().newCDPSession(native);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: dev.url, quotaSize: 256 * 1024 });
      await loadAndWrite(page, 'chat', [[1, { wire: 'small' }]]);
      const outcome = await page.evaluate(async () => {
        const { stores } = window as unknown as { stores: Record<string, PersistStore> };
        const random = new Uint8Array(512 * 1024);
        // getRandomValues fills at most 64 KiB per call.
        for (let at = 0; at < random.length; at += 65_536)
          crypto.getRandomValues(random.subarray(at, at + 65_536));
        const error = await (stores.chat as PersistStore)
          .write([
            // Random, so that no compression of the storage layer makes it fit.
            [2, { wire: random.buffer }],
            [1, undefined],
          ])
          .then(
            () => undefined,
            (e: DOMException) => e.name,
          );
        return { error };
      });
      expect(outcome.error).toBe('QuotaExceededError');
      // Read back by another page (this one owns the name): the failed write left nothing behind.
      await page.close();
      const reader = await openPersistPage(context, dev.url);
      expect((await loadAndWrite(reader, 'chat')).records).toEqual([[1, { wire: 'small' }]]);
    },
  );

  it('rejects load() without IndexedDB, and where opening it throws (SecurityError)', async () => {
    const context = await newContext();
    const page = await openPersistPage(context, dev.url);
    // Taken away before the store looks for it (browserStore() reads it when it opens the database).
    await page.evaluate(() => {
      Object.defineProperty(window, 'indexedDB', { value: undefined });
    });
    const missing = await page.evaluate(() =>
      (window as unknown as PersistWindow).P.browserStore('chat')
        .load()
        .then(
          () => 'loaded',
          (e: Error) => e.message,
        ),
    );
    expect(missing).toBe('IndexedDB is not available here');

    const other = await openPersistPage(context, dev.url);
    await other.evaluate(() => {
      indexedDB.open = () => {
        throw new DOMException('access denied', 'SecurityError');
      };
    });
    const denied = await other.evaluate(() =>
      (window as unknown as PersistWindow).P.browserStore('chat')
        .load()
        .then(
          () => 'loaded',
          (e: DOMException) => `${e.name}: ${e.message}`,
        ),
    );
    expect(denied).toBe('SecurityError: access denied');
  });

  it('refuses a database of a newer format (VersionError) and leaves it as it is', async () => {
    const page = await openPersistPage(await newContext(), dev.url);
    const outcome = await page.evaluate(async () => {
      const open = (version: number) =>
        new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open('tether-ws/chat', version);
          request.onupgradeneeded = () => request.result.createObjectStore('records-v2');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      (await open(2)).close();
      const error = await (window as unknown as PersistWindow).P.browserStore('chat')
        .load()
        .then(
          () => 'loaded',
          (e: DOMException) => e.name,
        );
      const db = await open(2);
      const stores = [...db.objectStoreNames];
      db.close();
      return { error, stores };
    });
    expect(outcome).toEqual({ error: 'VersionError', stores: ['records-v2'] });
  });

  it('lets another page upgrade the database without being blocked, then fails its own writes', async () => {
    const context = await newContext();
    const owner = await openPersistPage(context, dev.url);
    await loadAndWrite(owner, 'chat', [[1, { wire: 'a' }]]);
    const upgrader = await openPersistPage(context, dev.url);
    const upgraded = await upgrader.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const request = indexedDB.open('tether-ws/chat', 2);
          request.onblocked = () => resolve('blocked');
          request.onsuccess = () => {
            request.result.close();
            resolve(`upgraded to ${request.result.version}`);
          };
          request.onerror = () => resolve(`error ${request.error?.name}`);
        }),
    );
    expect(upgraded).toBe('upgraded to 2');
    const write = await owner.evaluate(() => {
      const { stores } = window as unknown as { stores: Record<string, PersistStore> };
      return (stores.chat as PersistStore).write([[2, { wire: 'b' }]]).then(
        () => 'written',
        (e: Error) => e.message,
      );
    });
    expect(write).toBe('The database of "chat" was upgraded or deleted by another page');
  });
});
