import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { CLOSE_POLICY_VIOLATION } from '../protocol/close-codes.js';
import { startLiveness } from './liveness.js';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import { TokenBucket } from './rate-limit.js';
import type { UpgradeRefusal } from './websocket.js';

export const RATE_LIMIT_REASON = 'Message rate limit exceeded';
/** Seconds a client refused for `maxConnections` is asked to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly messageRate: number;
  readonly messageBurst: number;
  readonly heartbeatIntervalMs: number;
}

/** The 503 for an upgrade beyond `maxConnections`, or `undefined` while there is room (0 = no limit). */
export function checkCapacity(open: number, maxConnections: number): UpgradeRefusal | undefined {
  if (maxConnections === 0 || open < maxConnections) return undefined;
  return {
    status: 503,
    reason: 'Too many connections',
    kind: 'max-connections',
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  };
}

/**
 * Counts and polices every accepted connection, whatever its route: messages and bytes in, the
 * per-connection rate limit (1008 on a flood), oversize messages (ws closes those with 1009), and
 * the protocol heartbeat that terminates peers that stopped answering pings.
 * Must be called before any route handler sees a socket, so a flooding message is refused before
 * it is echoed. Returns a function that stops the heartbeat timer and detaches from `wss`.
 */
export function policeConnections(
  wss: WebSocketServer,
  limits: ConnectionLimits,
  metrics: ServerMetrics,
  log: Logger,
): () => void {
  const onConnection = (socket: WebSocket, req: IncomingMessage) => {
    metrics.connectionOpened();
    const remote = req.socket.remoteAddress ?? 'unknown address';
    const bucket =
      limits.messageRate > 0
        ? new TokenBucket(limits.messageRate, limits.messageBurst, performance.now())
        : undefined;
    socket.on('message', (data: RawData) => {
      metrics.received(byteLength(data));
      if (socket.readyState !== socket.OPEN || !bucket || bucket.take(performance.now())) return;
      metrics.refused('rate-limit');
      log.info(
        `[limit] closing a connection from ${remote} with 1008: over ${limits.messageRate} messages/s`,
        {
          event: 'refused',
          reason: 'rate-limit',
          remote,
        },
      );
      socket.close(CLOSE_POLICY_VIOLATION, RATE_LIMIT_REASON);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') metrics.refused('max-payload');
    });
  };
  wss.prependListener('connection', onConnection);
  const stopLiveness =
    limits.heartbeatIntervalMs === 0
      ? () => {}
      : startLiveness(wss, limits.heartbeatIntervalMs, () => {
          metrics.refused('heartbeat-timeout');
          log.info('[limit] terminating a connection that did not answer the last ping', {
            event: 'refused',
            reason: 'heartbeat-timeout',
          });
        });
  return () => {
    stopLiveness();
    wss.off('connection', onConnection);
  };
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}
