/**
 * Application-level heartbeat, as the tether-ws client sends it by default: the text message `__ping__`
 * (PING in protocol/heartbeat.ts) is answered with `__pong__` (PONG) instead of being echoed. It lets the client notice a dead connection
 * from the browser, where WebSocket protocol pings (RFC 6455 §5.5.2) are invisible to scripts.
 */
import { PING, PONG } from '../protocol/heartbeat.js';

export { PONG as HEARTBEAT_PONG };

/** True for a text frame that is exactly {@link PING}; a binary frame with those bytes is data. */
export function isHeartbeatPing(data: Buffer, isBinary: boolean): boolean {
  return !isBinary && data.length === PING.length && data.toString('utf8') === PING;
}
