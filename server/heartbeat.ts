/**
 * Application-level heartbeat, as the tether-ws client sends it by default: the text message `__ping__`
 * is answered with `__pong__` instead of being echoed. It lets the client notice a dead connection
 * from the browser, where WebSocket protocol pings (RFC 6455 §5.5.2) are invisible to scripts.
 */
export const HEARTBEAT_PING = '__ping__';
export const HEARTBEAT_PONG = '__pong__';

/** True for a text frame that is exactly {@link HEARTBEAT_PING}; a binary frame with those bytes is data. */
export function isHeartbeatPing(data: Buffer, isBinary: boolean): boolean {
  return !isBinary && data.length === HEARTBEAT_PING.length && data.toString('utf8') === HEARTBEAT_PING;
}
