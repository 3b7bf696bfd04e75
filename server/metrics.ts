import { Counter, Gauge, Registry } from 'prom-client';
import type { TetherStats } from 'tether-ws/server';

/** Every {@link RefusalReason}, in the order `/healthz` and `/metrics` list them. */
export const REFUSAL_REASONS = [
  'host',
  'origin',
  'not-found',
  'shutting-down',
  'max-connections',
  'rate-limit',
  'heartbeat-timeout',
  'max-payload',
] as const;

/** Why the server refused or ended a connection; the `reason` label of `tether_refusals_total`. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The counters as `/healthz` reports them. */
export interface MetricsSnapshot {
  connections: { current: number; total: number };
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
  refusals: Record<RefusalReason, number>;
  /**
   * The exactly-once endpoint's sessions: `held` (attached or detached), `bufferedBytes` across
   * them, hellos `refused` and sessions `ended`, by reason (the adapter's `tether.stats`).
   */
  sessions: {
    held: number;
    bufferedBytes: number;
    refused: TetherStats['refused'];
    ended: TetherStats['ended'];
  };
}

/**
 * The server's counters, kept in a prom-client {@link Registry} of its own rather than the global one:
 * each `createServer()` counts for itself, so tests can run many servers in one process, and `/metrics`
 * shows exactly one server.
 */
export class ServerMetrics {
  /** Serialise with `await registry.metrics()`; `registry.contentType` is the header to send. */
  readonly registry = new Registry();
  readonly #connectionsTotal: Counter;
  readonly #messagesIn: Counter;
  readonly #messagesOut: Counter;
  readonly #bytesIn: Counter;
  readonly #bytesOut: Counter;
  readonly #refusals: Counter<'reason'>;
  readonly #countOpen: () => number;
  readonly #readSessions: () => TetherStats;

  /**
   * @param countOpen reads the number of open WebSocket connections (the ws server's `clients.size`).
   * @param readSessions reads the exactly-once adapter's `stats`.
   */
  constructor(countOpen: () => number, readSessions: () => TetherStats) {
    this.#countOpen = countOpen;
    this.#readSessions = readSessions;
    const registers = [this.registry];
    new Gauge({
      name: 'tether_sessions_held',
      help: 'Exactly-once sessions held, attached or detached.',
      registers,
      collect() {
        this.set(readSessions().sessions);
      },
    });
    new Gauge({
      name: 'tether_session_buffered_bytes',
      help: 'Payload bytes buffered across exactly-once sessions, not yet acknowledged.',
      registers,
      collect() {
        this.set(readSessions().bufferedBytes);
      },
    });
    // Counted by the adapter; copied at each scrape (a Counter with no `set`, so reset, then add).
    new Counter({
      name: 'tether_sessions_refused_total',
      help: 'Hellos refused by the exactly-once adapter, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(readSessions().refused)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: 'tether_sessions_ended_total',
      help: 'Exactly-once sessions ended, by reason (evicted: to stay within a server-wide limit).',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(readSessions().ended)) this.inc({ reason }, count);
      },
    });
    new Gauge({
      name: 'tether_connections_current',
      help: 'Open WebSocket connections.',
      registers,
      collect() {
        this.set(countOpen());
      },
    });
    this.#connectionsTotal = new Counter({
      name: 'tether_connections_total',
      help: 'WebSocket connections accepted since start.',
      registers,
    });
    this.#messagesIn = new Counter({
      name: 'tether_messages_received_total',
      help: 'WebSocket data messages received (text and binary, heartbeat pings included).',
      registers,
    });
    this.#messagesOut = new Counter({
      name: 'tether_messages_sent_total',
      help: 'WebSocket data messages sent (echoes and heartbeat pongs).',
      registers,
    });
    this.#bytesIn = new Counter({
      name: 'tether_received_bytes_total',
      help: 'Payload bytes of the messages received.',
      registers,
    });
    this.#bytesOut = new Counter({
      name: 'tether_sent_bytes_total',
      help: 'Payload bytes of the messages sent.',
      registers,
    });
    this.#refusals = new Counter({
      name: 'tether_refusals_total',
      help: 'Upgrades refused and connections ended by a limit, by reason.',
      labelNames: ['reason'],
      registers,
    });
    // Every reason appears from the start with 0, so a dashboard can graph a rate before the first refusal.
    for (const reason of REFUSAL_REASONS) this.#refusals.inc({ reason }, 0);
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      registers,
      collect() {
        this.set(process.memoryUsage().rss);
      },
    });
  }

  connectionOpened(): void {
    this.#connectionsTotal.inc();
  }

  received(bytes: number): void {
    this.#messagesIn.inc();
    this.#bytesIn.inc(bytes);
  }

  sent(bytes: number): void {
    this.#messagesOut.inc();
    this.#bytesOut.inc(bytes);
  }

  refused(reason: RefusalReason): void {
    this.#refusals.inc({ reason });
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const total = async (counter: Counter) => (await counter.get()).values[0]?.value ?? 0;
    const refusals = Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, 0])) as Record<
      RefusalReason,
      number
    >;
    for (const { labels, value } of (await this.#refusals.get()).values) {
      refusals[labels.reason as RefusalReason] = value;
    }
    const { sessions: held, bufferedBytes, refused, ended } = this.#readSessions();
    return {
      connections: { current: this.#countOpen(), total: await total(this.#connectionsTotal) },
      messages: { in: await total(this.#messagesIn), out: await total(this.#messagesOut) },
      bytes: { in: await total(this.#bytesIn), out: await total(this.#bytesOut) },
      refusals,
      sessions: { held, bufferedBytes, refused, ended },
    };
  }
}
