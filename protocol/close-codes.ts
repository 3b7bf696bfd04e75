/**
 * The WebSocket close codes the Node side sends (RFC 6455 §7.4.1; docs/protocol.md says when), once
 * for the adapter and the dev server. 4000–4999 are for applications: tether.v1 uses 4001. (The
 * browser client names its codes in client/close.ts, as literals its size budget can afford.)
 */
export const CLOSE_NORMAL = 1000;
/** The endpoint is going away: a server shutting down. */
export const CLOSE_GOING_AWAY = 1001;
/** The reason sent with {@link CLOSE_GOING_AWAY} on shutdown. */
export const SHUTDOWN_REASON = 'Server shutting down';
/** The peer broke the protocol (docs/protocol.md §3). */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** A message violates the server's policy: a flood, a refused session. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** The server hit an unexpected condition: a handler threw, the session store failed; clients retry. */
export const CLOSE_INTERNAL_ERROR = 1011;
/** Try Again Later (IANA registry): the server is over a limit; clients retry. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** tether.v1: another connection took the session over. */
export const CLOSE_TAKEN_OVER = 4001;
