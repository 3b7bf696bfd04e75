import { Counter, Gauge, Registry } from 'prom-client';

/** Every {@link RefusalReason}, in the order `/healthz` and `/metrics` list them. */
export const REFUSAL_REASONS = [
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

  /** @param countOpen reads the number of open WebSocket connections (the ws server's `clients.size`). */
  constructor(countOpen: () => number) {
    this.#countOpen = countOpen;
    const registers = [this.registry];
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
    return {
      connections: { current: this.#countOpen(), total: await total(this.#connectionsTotal) },
      messages: { in: await total(this.#messagesIn), out: await total(this.#messagesOut) },
      bytes: { in: await total(this.#bytesIn), out: await total(this.#bytesOut) },
      refusals,
    };
  }
}
