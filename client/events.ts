import type { CloseInfo } from './close.js';
import type { TetherError } from './errors.js';
import type { DropReason } from './queue.js';
import type { ConnectionState } from './state.js';

/** Payload of `close`: the socket's close frame ({@link CloseInfo}), and whether the client will try again. */
export interface CloseEvent extends CloseInfo {
  /** True when a retry is scheduled; false once the client is `closed`. */
  willReconnect: boolean;
}

/**
 * The second argument of a `message` listener in exactly-once mode (`undefined` in best-effort):
 * where the message stands in its session, so that an application can make its effect idempotent
 * on (`sessionId`, `seq`).
 */
export interface MessageInfo {
  /** The server's number for this message in its session, from 1. */
  seq: number;
  /** The session it belongs to (a new session numbers from 1 again). */
  sessionId: string;
  /**
   * True when this message may have reached the listeners once already: a page delivering what an
   * earlier page stored and perhaps handled just before it crashed (tether-ws/persist, docs/persist.md).
   */
  redelivered: boolean;
}

/** Events whose listeners get a second argument, and its type. */
export interface ClientEventInfo {
  message: MessageInfo | undefined;
}

/**
 * Every event the client emits and what its listeners receive. `message` listeners get the decoded
 * data itself; every other event gets one object, so fields can be added without breaking anyone.
 */
export interface ClientEventMap<In = unknown, Out = unknown> {
  /** A connection opened; the queue has already been flushed into it. */
  open: { url: string; protocol: string };
  /** A message arrived (decoded by the codec). */
  message: In;
  /** A socket closed or was abandoned; after a retry is scheduled or the client stopped. */
  close: CloseEvent;
  /** Something went wrong; see `code`. The client keeps working unless it says it closed. */
  error: TetherError;
  /**
   * A retry is scheduled: `attempt` (1-based) starts after `delay` ms; or, when `offline` is true
   * (`navigator.onLine` is false), as soon as the browser's `online` event fires.
   */
  reconnecting: { attempt: number; delay: number; offline: boolean };
  /** The state changed. Emitted before the event specific to the new state. */
  state: { from: ConnectionState; to: ConnectionState };
  /**
   * A message you sent was discarded unwritten: by the queue limits, or because `close()` found it
   * queued with no open connection (`'closed'`). Nothing is dropped without this event.
   */
  drop: { data: Out; reason: DropReason };
  /**
   * Exactly-once only: a session ended without being resumed: `'not-resumed'` (the server no longer
   * knew it), `'expired'` (`resumeWindow` passed while disconnected), `'closed'` (your `close()`, or
   * the server ended it, e.g. its buffer overflowed). `undelivered` holds, in order, every
   * message that was written but never acknowledged by the server: it may or may not have reached
   * the server's application, and it is not resent. After `close()` from `open`, that is only what
   * the server did not acknowledge within `closeTimeout`. Messages never written stay queued, or,
   * at `close()`, are reported by `drop`.
   */
  'session-lost': { reason: 'not-resumed' | 'expired' | 'closed'; undelivered: Out[] };
}
