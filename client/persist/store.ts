/**
 * Where a client's outbox and session live between pages (docs/persist.md). Deliberately small, so
 * that an application can give its own (a wrapper over its own database, an encrypted store): two
 * methods over numbered records.
 *
 * The client keeps one record per queued message and one for its session; it never reads a record
 * back while it runs, it only writes changes, and reads everything once, when it starts.
 */
export interface PersistStore {
  /**
   * Everything the last page with this store's name left, in any order, as `[key, value]` pairs.
   * Called once per client, before it connects. A store shared between tabs claims the name for this
   * page here (see `browserStore`), so that two pages never write the same records.
   */
  load(): Promise<StoredRecord[]>;
  /**
   * Applies changes in order, atomically: a page that dies during the write leaves all of them or
   * none. `value` undefined deletes the key. Resolves once the changes would survive the page (and,
   * as far as the medium allows, the browser) going away. Calls are applied in the order made.
   */
  write(changes: StoredRecord[]): Promise<void>;
  /**
   * Optional: keeps `journal` synchronously where it survives the page going away at once (a
   * reload, a closed tab: `browserStore` uses localStorage), replacing what was kept; `undefined`
   * removes it. The client keeps there the writes not yet committed while the page is going or
   * hidden (client/persist/writer.ts).
   */
  keep?(journal: string | undefined): void;
  /** Optional: what `keep()` left, read once after `load()`. */
  kept?(): string | undefined;
}

/** One record: a non-negative integer key and a value the medium can keep (a structured clone). */
export type StoredRecord = [key: number, value: unknown];

/**
 * A store that keeps records in this page's memory: nothing survives a reload. For tests, and as
 * the model of the contract (every write applied at once, in order).
 *
 * @param records what an earlier "page" left, to test a restore.
 */
export function memoryStore(records: Iterable<StoredRecord> = []): PersistStore & {
  /** The records held now, by key. */
  readonly records: ReadonlyMap<number, unknown>;
} {
  const held = new Map<number, unknown>(records);
  return {
    records: held,
    load: () => Promise.resolve([...held]),
    write(changes) {
      for (const [key, value] of changes) {
        if (value === undefined) held.delete(key);
        else held.set(key, value);
      }
      return Promise.resolve();
    },
  };
}
