// tether-ws/server: the server side of the tether.v1 resume protocol (docs/protocol.md).
// Public exports only. ws is a peer dependency, imported for its types alone.
export {
  createTetherServer,
  type TetherServer,
  type TetherServerEvents,
} from './adapter.js';
export type { Listener } from './emitter.js';
export { TetherServerError, type TetherServerErrorCode } from './errors.js';
export { SESSION_PARAM, TETHER_PROTOCOL } from './frames.js';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { handleProtocols } from './negotiation.js';
export type { Authorize, AuthorizeRequest } from './options.js';
export {
  DEFAULT_TETHER_OPTIONS,
  type ResolvedTetherOptions,
  type TetherServerOptions,
} from './options.js';
export type { RefusalReason, TetherStats } from './registry.js';
export type {
  LostReason,
  SendData,
  SessionEvents,
  SessionLost,
  SessionReleased,
  SessionState,
  TetherSession,
} from './session.js';
export type {
  Awaitable,
  ClaimRequest,
  ClaimResult,
  CommitResult,
  ReapedSession,
  SessionBatch,
  SessionStore,
  StoredPayload,
  StoredSession,
  StoreStats,
} from './store.js';
