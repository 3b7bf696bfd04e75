/**
 * The client's lifecycle. `idle` is the state before the first `open()`; `closed` is the state after
 * `close()` or after giving up. Both accept `open()` again.
 *
 * ```
 *  idle ──open()──▶ connecting ──socket open──▶ open
 *   │                │   ▲                       │
 *   │ close()        │   └── backoff timer ──┐   │ connection lost
 *   ▼                ▼ attempt failed        │   ▼
 *  closed ◀──────── reconnecting ◀───────────┴───┘
 *   ▲                      close() / gave up
 *   └──── closing ◀── close() while connecting or open
 * ```
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'closing' | 'reconnecting' | 'closed';

/** Legal moves. `transition()` checks every move against this table: an illegal move is a bug. */
export const ALLOWED: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['open', 'closing', 'reconnecting', 'closed'],
  open: ['closing', 'reconnecting', 'closed'],
  closing: ['closed'],
  reconnecting: ['connecting', 'closed'],
  closed: ['connecting'],
};
