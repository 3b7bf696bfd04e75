import type { Delivery, DeliveryHost } from 'tether-ws';
import { TetherError, TetherTypeError } from 'tether-ws';
import { PersistedLayer } from './persisted-layer.js';
import { readRecords, type StoredOutbox } from './record.js';
import type { PersistStore } from './store.js';

/**
 * Keeps the client's outbox in `store`, so that the next page with the same store sends what this
 * one could not: the `delivery` option of `WebSocketClient`. Alone, best-effort delivery; around
 * `exactlyOnce()`, the session too, resumed by the next page within the resume window. Reads the
 * store first, hence the promise; a store that fails is reported as an `error` event of the client
 * (`PERSIST_FAILED`), which then goes on in memory. One client per result.
 *
 * @example
 * const client = new WebSocketClient(url, {
 *   delivery: await persist(browserStore('chat'), exactlyOnce()),
 * });
 * @throws TetherTypeError if `store` has no `load` and `write` methods, or `mode` is not a delivery mode.
 */
/** What `persist()` returns: a delivery mode, and a way to know when what was sent is stored. */
export interface PersistedDelivery extends Delivery {
  /**
   * Resolves once everything the client took before the call (sent, received, handled) is
   * committed to the store, so that it survives a crash of the browser (docs/persist.md); at once
   * if nothing is waiting or the client does not exist yet. Rejects if the store failed.
   */
  flushed(): Promise<void>;
}

export async function persist(store: PersistStore, mode?: Delivery): Promise<PersistedDelivery> {
  if (typeof store?.load !== 'function' || typeof store.write !== 'function')
    throw new TetherTypeError('argument', 'store', store, 'a store (load and write methods)');
  if (mode !== undefined && (typeof mode !== 'object' || typeof mode?.layer !== 'function'))
    throw new TetherTypeError('argument', 'mode', mode, 'a delivery mode such as exactlyOnce()');
  let loaded: StoredOutbox | Error;
  try {
    const records = await store.load();
    loaded = readRecords(records, store.kept?.());
  } catch (error) {
    loaded = error instanceof Error ? error : new Error(String(error));
  }
  let layer: PersistedLayer<unknown> | undefined;
  return {
    layer<Out>(host: DeliveryHost<Out>) {
      if (layer) throw new TetherError('INVALID_ARGUMENT', 'A persist() delivery serves one client');
      const created = new PersistedLayer<Out>(host, store, loaded as StoredOutbox<Out> | Error, mode);
      layer = created as PersistedLayer<unknown>;
      return created;
    },
    flushed: () => layer?.flushed() ?? Promise.resolve(),
  };
}
