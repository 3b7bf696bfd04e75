// Turns one `npm run bench:store` run into bench/store-results.md: medians over rounds with their
// min–max, ratios to the memory store of the same run, and the floor and aim of issue 16.
import { int, span, table, x } from './markdown.mjs';
import { median, ratio } from './stats.mjs';

/** Issue 16: the Redis store at 0.5× the memory store's throughput or better; aim 0.8×. */
const FLOOR = 0.5;
const AIM = 0.8;

const ms = (v) => (v === undefined ? '—' : v.toFixed(2));

export function storeReport(run) {
  const field = (name, part, key) => run.samples[name].map((s) => s[part][key]);
  const throughputOf = (name) => median(field(name, 'throughput', 'perSecond'));
  const base = throughputOf('memory');
  const redisRatio = ratio(throughputOf('redis'), base);
  const floorMet = redisRatio !== undefined && redisRatio >= FLOOR;

  const throughputRows = run.scenarios.map(({ name, label }) => {
    const values = field(name, 'throughput', 'perSecond');
    return [
      label,
      int(median(values)),
      span(values, int),
      x(ratio(median(values), base)),
      ms(median(field(name, 'throughput', 'p50Ms'))),
      ms(median(field(name, 'throughput', 'p99Ms'))),
    ];
  });
  const latencyRows = run.scenarios.map(({ name, label }) => {
    const p50 = field(name, 'latency', 'p50Ms');
    const p99 = field(name, 'latency', 'p99Ms');
    return [label, ms(median(p50)), span(p50, ms), ms(median(p99)), span(p99, ms)];
  });
  const commandRows = run.scenarios
    .filter(({ name }) => run.samples[name][0]?.calls)
    .map(({ name, label }) => {
      const perMessage = (pick) => run.samples[name].map((s) => pick(s.calls) / s.throughput.messages);
      const scripts = perMessage((calls) => (calls.evalsha ?? 0) + (calls.eval ?? 0));
      const all = perMessage((calls) => Object.values(calls).reduce((a, b) => a + b, 0));
      return [label, median(scripts).toFixed(3), int(1 / median(scripts)), median(all).toFixed(2)];
    });

  const { machine, load, latency } = run;
  const markdown = `# Session store cost: memory against Redis

Written by \`npm run bench:store\` (\`bench/store.mjs\`); do not edit by hand. What it
measures and why: the comment at the top of that file and [docs/benchmarks.md](../docs/benchmarks.md).

Run on ${run.date.slice(0, 10)} (${run.date}), ${run.seconds.toFixed(0)} s, ${run.rounds} interleaved round${run.rounds === 1 ? '' : 's'}. Machine: ${machine.cpu}, ${machine.cores} cores (shared with the load generator, every node and redis-server); Node ${machine.node}; Redis ${machine.redis}. All on 127.0.0.1.

**Floor** (issue 16): the Redis store at ${FLOOR}× the memory store's throughput or better, aim ${AIM}×. This run: **${x(redisRatio)}**, ${floorMet ? 'met' : 'NOT met'}${redisRatio !== undefined && redisRatio >= AIM ? ', aim met' : ', aim not met'}.

## Throughput

${load.clients} exactly-once clients, ${int(load.messages)} messages in all, ${load.window} in flight per client; the adapter's handler echoes each one (a reply stored with the receive counter). A message counts when its echo arrived, checked exactly once and in order. Latency under this load is from \`send()\` to the echo.

${table(['store', 'msg/s (median)', 'min–max', '× memory', 'p50 ms under load', 'p99 ms under load'], throughputRows)}

## Latency

${latency.clients} client, ${int(latency.messages)} messages, one in flight: a round trip through the store, without queueing.

${table(['store', 'p50 ms', 'min–max', 'p99 ms', 'min–max'], latencyRows)}

## Redis commands per message

From INFO commandstats of the bench's own redis-server over the throughput run (reset before it; its ${load.clients} claims and closes included). A message is one round trip: a client message and its echo. Script calls are what the nodes send (pipelined EVALSHAs: per batch of a session, everything it received, sent and had acknowledged since its last write, one for the session's keys and one for the store-wide count of buffered bytes, which lives in its own hash slot); all commands include those the scripts run inside Redis.

${table(['store', 'script calls per message', 'messages per script call', 'all commands per message'], commandRows)}
`;
  return { markdown, floorMet };
}
