import type { RequestHandler } from 'express';

/** Body of `GET /healthz`. */
export interface HealthReport {
  status: 'ok';
  /** Open WebSocket connections. */
  connections: number;
  /** Seconds since the server was created, to the millisecond. */
  uptime: number;
}

/** `GET /healthz`: answers while the server can serve; never cached. */
export function healthHandler(
  countConnections: () => number,
  startedAt: number = performance.now(),
): RequestHandler {
  return (_req, res) => {
    const uptime = Math.round(performance.now() - startedAt) / 1000;
    const body: HealthReport = { status: 'ok', connections: countConnections(), uptime };
    res.set('Cache-Control', 'no-store').json(body);
  };
}
