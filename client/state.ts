/**
 * The client's lifecycle. `idle` is the state before the first `open()`; `closed` is the state after
 * `close()` or after giving up. Both accept `open()` again. The diagram of these moves is in
 * docs/api.md ("State"); test/unit/state-diagram.test.ts checks it against {@link ALLOWED}.
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
