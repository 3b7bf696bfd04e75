import { TetherTypeError } from 'tether-ws';
import { claimName } from './ownership.js';
import type { PersistStore, StoredRecord } from './store.js';

/**
 * IndexedDB, written by hand rather than through `idb` or `idb-keyval`: what is needed is one
 * object store, one read at start and atomic batches of puts and deletes, plus closing on
 * `versionchange`, which neither wrapper does for you (docs/persist.md has the byte counts).
 */
const DB_VERSION = 1;
const RECORDS = 'records';

export interface BrowserStore extends PersistStore {
  /** The name asked for. */
  readonly name: string;
  /**
   * The name this page owns once `load()` resolved: `name`, or `name#2`, `name#3`, … when other
   * pages own the first ones; `''` before.
   */
  readonly owned: string;
}

/** Turns an IndexedDB request into a promise of its result. */
function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Opens this page's database. A database of a newer format (a newer version of this library in
 * another tab) fails with `VersionError`; an upgrade that other pages block fails here rather than
 * waiting for them.
 */
function openDatabase(name: string): Promise<IDBDatabase> {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) return Promise.reject(new Error('IndexedDB is not available here'));
  return new Promise((resolve, reject) => {
    const request = idb.open(`tether-ws/${name}`, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(RECORDS);
    request.onblocked = () =>
      reject(new Error(`Opening "${name}" is blocked by another page that holds it open`));
    request.onerror = () => reject(request.error);
    request.onsuccess = () => resolve(request.result);
  });
}

/**
 * The outbox kept in this browser's IndexedDB under `name`, owned by one page at a time (a Web
 * Lock): a second tab with the same name gets its own (`name#2`). Choose the name per outbox of the
 * application (`'chat'`), not per page load; see docs/persist.md.
 *
 * @example
 * const client = new WebSocketClient(url, { delivery: await persist(browserStore('chat')) });
 * @throws TetherTypeError if `name` is not a non-empty string.
 */
export function browserStore(name: string): BrowserStore {
  if (typeof name !== 'string' || name === '')
    throw new TetherTypeError('argument', 'name', name, 'a non-empty string');
  let owned = '';
  let db: Promise<IDBDatabase> | undefined;
  /** Set once the database was closed under us (another page upgrades or deletes it). */
  let lost: Error | undefined;

  const open = async (): Promise<IDBDatabase> => {
    owned = await claimName(name);
    const database = await openDatabase(owned);
    // Never block another page's upgrade or deletion: let go, and fail every later write.
    database.onversionchange = () => {
      database.close();
      lost = new Error(`The database of "${owned}" was upgraded or deleted by another page`);
    };
    return database;
  };

  const transaction = async (mode: IDBTransactionMode): Promise<IDBObjectStore> => {
    db ??= open();
    const database = await db;
    if (lost) throw lost;
    return database.transaction(RECORDS, mode).objectStore(RECORDS);
  };

  // The journal (store.ts, `keep`): localStorage is written synchronously, so what a page keeps
  // there in `pagehide` is there for the next page, which IndexedDB does not promise.
  const journal = () => (globalThis as { localStorage?: Storage }).localStorage;
  const journalKey = () => `tether-ws/${owned}`;
  return {
    name,
    get owned() {
      return owned;
    },
    keep(value) {
      const storage = journal();
      if (!owned || !storage) return;
      if (value === undefined) storage.removeItem(journalKey());
      else storage.setItem(journalKey(), value);
    },
    kept() {
      return (owned && journal()?.getItem(journalKey())) || undefined;
    },
    async load() {
      const store = await transaction('readonly');
      const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
      return keys.map((key, i): StoredRecord => [key as number, values[i]]);
    },
    async write(changes) {
      const store = await transaction('readwrite');
      const tx = store.transaction;
      const committed = new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        // A quota error arrives here, as the transaction's error, when it aborts.
        tx.onabort = () => reject(tx.error ?? new Error('The write was aborted'));
      });
      try {
        for (const [key, value] of changes) {
          if (value === undefined) store.delete(key);
          else store.put(value, key);
        }
      } catch (error) {
        // put() throws at once on a value it cannot clone (DataCloneError): nothing is written.
        tx.abort();
        committed.catch(() => {});
        throw error;
      }
      // Commit now rather than when the task ends: the write is on its way before the page can go.
      tx.commit?.();
      return committed;
    },
  };
}
