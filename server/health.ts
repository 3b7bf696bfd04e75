import type { RequestHandler } from 'express';
import type { MetricsSnapshot, ServerMetrics } from './metrics.js';

/** Body of `GET /healthz`. */
export interface HealthReport extends Omit<MetricsSnapshot, 'connections'> {
  status: 'ok';
  /** Open WebSocket connections. */
  connections: number;
  /** WebSocket connections accepted since start. */
  connectionsTotal: number;
  /** Seconds since the server was created, to the millisecond. */
  uptime: number;
  /** `process.memoryUsage()` in bytes: `rss` is what the soak divides by the connections. */
  memory: { rss: number; heapUsed: number };
}

/** `GET /healthz`: answers while the server can serve; never cached. */
export function healthHandler(metrics: ServerMetrics, startedAt: number = performance.now()): RequestHandler {
  return async (_req, res) => {
    const { connections, ...counters } = await metrics.snapshot();
    const { rss, heapUsed } = process.memoryUsage();
    const body: HealthReport = {
      status: 'ok',
      connections: connections.current,
      connectionsTotal: connections.total,
      uptime: Math.round(performance.now() - startedAt) / 1000,
      ...counters,
      memory: { rss, heapUsed },
    };
    res.set('Cache-Control', 'no-store').json(body);
  };
}

/** `GET /metrics`: the same counters in Prometheus text format, for a scraper. */
export function metricsHandler(metrics: ServerMetrics): RequestHandler {
  return async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type(metrics.registry.contentType)
      .send(await metrics.registry.metrics());
  };
}
