export type { BrowserStore } from './browser-store.js';
export { browserStore } from './browser-store.js';
export type { PersistedDelivery } from './persist.js';
export { persist } from './persist.js';
export type { PersistStore, StoredRecord } from './store.js';
export { memoryStore } from './store.js';
