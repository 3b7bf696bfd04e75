// Turns one run (the object written to results/raw.json) into bench/results.md: one table per
// measurement, medians with their min–max over rounds, ratios to the raw WebSocket of the same run,
// and the floors of issue 6 checked against those figures.
import { int, span, table, x } from './markdown.mjs';
import { median, range, ratio, spread, sum } from './stats.mjs';

/** The exactly-once variant of tether-ws (config.mjs), compared with tether-ws best-effort. */
const EXACTLY_ONCE = 'tether-ws-exactly-once';
/** Issue 8's aims for the cost of exactly-once delivery, as ratios to best-effort in the same run. */
const EXACTLY_ONCE_AIMS = { throughput: 0.85, p99: 1.2 };

/** Samples of one measurement and library that produced a result (errors are listed apart). */
const samples = (run, key, name) => (run.browser[key]?.[name] ?? []).filter((s) => !s.error);
/** Those of them that passed the page's own check (`ok`): the only ones throughput and latency figures use. */
const valid = (run, key, name) => samples(run, key, name).filter((s) => s.ok);
const pick = (list, field) => list.map((s) => s[field]);
/** The median of `field` over the valid samples (also the figure the chart draws). */
export const validMedian = (run, key, name, field) => median(pick(valid(run, key, name), field));
const errorsOf = (run, key) =>
  Object.entries(run.browser[key] ?? {}).flatMap(([name, list]) =>
    list.filter((s) => s.error).map((s) => `${name}: ${s.error}`),
  );

function throughputTable(run) {
  const base = validMedian(run, 'throughput', 'raw', 'messagesPerSecond');
  const rows = run.libraries.map(({ name, label }) => {
    const values = pick(valid(run, 'throughput', name), 'messagesPerSecond');
    return [
      label,
      int(median(values)),
      span(values),
      x(ratio(median(values), base)),
      `${values.length}/${samples(run, 'throughput', name).length}`,
    ];
  });
  return table(['library', 'msg/s (median)', 'min–max', '× raw', 'valid runs'], rows);
}

function latencyTable(run) {
  const raw = valid(run, 'latency', 'raw');
  const rows = run.libraries.map(({ name, label }) => {
    const list = valid(run, 'latency', name);
    const cells = ['p50', 'p99'].flatMap((q) => {
      const values = pick(list, q);
      return [int(median(values)), span(values), x(ratio(median(values), median(pick(raw, q))))];
    });
    return [label, ...cells];
  });
  return table(['library', 'p50 µs', 'min–max', '× raw', 'p99 µs', 'min–max', '× raw'], rows);
}

function offlineTable(run) {
  const rows = run.libraries.map(({ name, label }) => {
    const list = samples(run, 'offline', name);
    const times = pick(list, 'msToAllEchoes');
    return [
      label,
      int(median(times)),
      span(times),
      `${int(median(pick(list, 'lost')))} (max ${int(range(pick(list, 'lost'))?.[1])})`,
      int(sum(pick(list, 'duplicated'))),
      int(sum(pick(list, 'outOfOrder'))),
      int(median(pick(list, 'threw'))),
    ];
  });
  return table(
    [
      'library',
      'ms until every echo is back',
      'min–max',
      'lost (median, max)',
      'duplicated (all rounds)',
      'out of order (all rounds)',
      'send() threw (median)',
    ],
    rows,
  );
}

function reconnectTable(run) {
  const rows = run.libraries.map(({ name, label }) => {
    const list = samples(run, 'reconnect', name);
    const reopened = pick(list, 'reopenedMs');
    return [
      label,
      `${int(median(reopened))} (${span(reopened)})`,
      int(median(pick(list, 'reopenedAfterLiftMs'))),
      `${list.filter((s) => s.reopenedMs !== undefined).length}/${list.length}`,
      int(median(pick(list, 'outageSent'))),
      int(sum(pick(list, 'lostOutage'))),
      int(sum(pick(list, 'lostInFlight'))),
      int(sum(pick(list, 'lostAfter'))),
      int(sum(pick(list, 'duplicated'))),
      int(sum(pick(list, 'outOfOrder'))),
    ];
  });
  return table(
    [
      'library',
      'open again, ms after the drop (min–max)',
      'ms after refusal ended',
      'reopened',
      'sent during outage (median)',
      'lost of those (all rounds)',
      'lost in flight at the drop',
      'lost after reopening',
      'duplicated',
      'out of order',
    ],
    rows,
  );
}

function halfOpenTable(run) {
  const rows = run.libraries.map(({ name, label }) => {
    const list = samples(run, 'halfOpen', name);
    const noticed = pick(list, 'noticedMs');
    const reopened = pick(list, 'reopenedMs');
    const lost = list.map((s) => s.lostInFlight + s.lostOutage + s.lostAfter);
    const endings = [...new Set(list.map((s) => s.liftReason))].join(', ');
    const closedLater = median(pick(list, 'closedAfterFaultEndedMs'));
    const later = closedLater === undefined ? '' : `; its socket closed ${int(closedLater)} ms after that`;
    return [
      label,
      noticed.some((v) => v !== undefined) ? `${int(median(noticed))} (${span(noticed)})` : 'never',
      reopened.some((v) => v !== undefined)
        ? `${int(median(reopened))} (${span(reopened)})`
        : 'kept the old socket',
      `${int(median(lost))} (max ${int(range(lost)?.[1])})`,
      `${int(median(pick(list, 'outageSent')))}`,
      int(sum(pick(list, 'lostAfter'))),
      int(sum(pick(list, 'duplicated'))),
      endings === 'new connection'
        ? 'it reconnected'
        : endings === 'deadline'
          ? `hole lifted after ${run.size.halfOpenMaxMs} ms${later}`
          : endings,
    ];
  });
  return table(
    [
      'library',
      'noticed, ms after the hole (min–max)',
      'open again, ms after the hole',
      'lost (median, max)',
      'sent from hole to reopen (median)',
      'lost after reopening',
      'duplicated',
      'how the hole ended',
    ],
    rows,
  );
}

function sizeTable(run) {
  const ours = run.sizes['tether-ws'].gzip;
  const rows = run.libraries
    .filter(({ name }) => name !== 'raw' && run.sizes[name])
    .map(({ name, label, lacks }) => {
      const s = run.sizes[name];
      return [label, int(s.min), int(s.gzip), int(s.brotli), x(ratio(s.gzip, ours)), lacks || '—'];
    });
  return table(
    [
      'library',
      'min B',
      'min+gzip B',
      'min+brotli B',
      '× tether-ws (gzip)',
      'lacks, compared with tether-ws',
    ],
    rows,
  );
}

function serverTable(run) {
  if (!run.server) return '_Not run (`--only` without `server`)._';
  const rows = Object.entries(run.server).map(([clients, bySever]) => {
    const bare = bySever['bare-ws'] ?? [];
    const dev = bySever['dev-server'] ?? [];
    return [
      int(Number(clients)),
      int(median(bare)),
      span(bare),
      int(median(dev)),
      span(dev),
      x(ratio(median(dev), median(bare))),
    ];
  });
  return table(['clients', 'bare ws msg/s', 'min–max', 'dev server msg/s', 'min–max', '× bare'], rows);
}

/** Medians of the exactly-once variant and of tether-ws best-effort, and their ratios (issue 8). */
function exactlyOnceOverhead(run) {
  const figure = (key, field) => {
    const be = pick(valid(run, key, 'tether-ws'), field);
    const eo = pick(valid(run, key, EXACTLY_ONCE), field);
    return { be, eo, ratio: ratio(median(eo), median(be)) };
  };
  return {
    throughput: figure('throughput', 'messagesPerSecond'),
    p50: figure('latency', 'p50'),
    p99: figure('latency', 'p99'),
  };
}

function exactlyOnceSection(run) {
  const o = exactlyOnceOverhead(run);
  const measured = (f) => f.be.length > 0 && f.eo.length > 0;
  if (!measured(o.throughput) && !measured(o.p50)) return '';
  const row = (label, f, aim, met) => [
    label,
    `${int(median(f.be))} (${span(f.be)})`,
    `${int(median(f.eo))} (${span(f.eo)})`,
    `**${x(f.ratio)}**`,
    aim,
    f.ratio === undefined ? '—' : met(f.ratio) ? 'yes' : '**NO**',
  ];
  const rows = [];
  if (measured(o.throughput))
    rows.push(
      row(
        'throughput, msg/s',
        o.throughput,
        `≥ ${EXACTLY_ONCE_AIMS.throughput.toFixed(2)}×`,
        (r) => r >= EXACTLY_ONCE_AIMS.throughput,
      ),
    );
  if (measured(o.p50)) {
    rows.push(row('p50 latency, µs', o.p50, '—', () => true));
    rows.push(
      row(
        'p99 latency, µs',
        o.p99,
        `≤ ${EXACTLY_ONCE_AIMS.p99.toFixed(2)}×`,
        (r) => r <= EXACTLY_ONCE_AIMS.p99,
      ),
    );
  }
  const parts = [
    '## Exactly-once overhead (issue 8)',
    '',
    `tether-ws with \`delivery: exactlyOnce()\` (the opt-in entry \`tether-ws/exactly-once\`) against the echo server's \`/reliable\` path (the \`tether.v1\` adapter, \`tether-ws/server\` as built in \`dist/adapter\`), as a ratio to tether-ws best-effort against the raw echo in the same run: same settings otherwise, same rounds (interleaved with every other library); its page loads the core and the exactly-once entry bundled together. Medians over rounds, min–max in brackets.`,
    '',
    table(['figure', 'best-effort', 'exactly-once', '× best-effort', 'aim', 'met'], rows),
  ];
  const sizes = run.exactlyOnceSizes;
  if (sizes) {
    const both = run.sizes[EXACTLY_ONCE];
    const sizeRow = (label, s, bold = false) => [
      label,
      int(s.min),
      bold ? `**${int(s.gzip)}**` : int(s.gzip),
      int(s.brotli),
    ];
    parts.push(
      '',
      table(
        ['bundle (minified)', 'min B', 'min+gzip B', 'min+brotli B'],
        [
          sizeRow(
            'core entry `tether-ws` (`client/index.ts`, every export, as `dist/tether-ws.js`): no exactly-once code',
            sizes.bestEffort,
          ),
          sizeRow(
            '**added by `tether-ws/exactly-once`**: `client/exactly-once/index.ts` with `tether-ws` external, as `dist/exactly-once.js`',
            sizes.added,
            true,
          ),
          ...(both
            ? [
                sizeRow(
                  'both bundled into one file (`client/umd.ts`; the page of tether-ws exactly-once)',
                  both,
                ),
              ]
            : []),
        ],
      ),
      '',
      `Exactly-once is an opt-in entry: a page enables it with \`import { exactlyOnce } from 'tether-ws/exactly-once'\` and \`delivery: exactlyOnce()\`. The core bundle does not contain it, so a best-effort page downloads ${int(sizes.bestEffort.gzip)} B min+gzip of tether-ws, and importing exactly-once adds ${int(sizes.added.gzip)} B min+gzip (the entry imports the core rather than copying it).${both ? ` Bundled into one file with the core, the two come to ${int(both.gzip)} B.` : ''}`,
    );
  }
  const fault = (key, field) => sum(pick(samples(run, key, EXACTLY_ONCE), field));
  const rounds = (key) => samples(run, key, EXACTLY_ONCE).length;
  const notes = [];
  if (rounds('offline'))
    notes.push(
      `offline burst: lost ${fault('offline', 'lost')}, duplicated ${fault('offline', 'duplicated')}, out of order ${fault('offline', 'outOfOrder')} over ${rounds('offline')} rounds`,
    );
  if (rounds('reconnect'))
    notes.push(
      `reconnect: lost in flight at the drop ${fault('reconnect', 'lostInFlight')} (best-effort: ${sum(pick(samples(run, 'reconnect', 'tether-ws'), 'lostInFlight'))}), during the outage ${fault('reconnect', 'lostOutage')}, after ${fault('reconnect', 'lostAfter')}, duplicated ${fault('reconnect', 'duplicated')}, out of order ${fault('reconnect', 'outOfOrder')} over ${rounds('reconnect')} rounds`,
    );
  if (rounds('halfOpen')) {
    const lost = (name) =>
      sum(samples(run, 'halfOpen', name).map((s) => s.lostInFlight + s.lostOutage + s.lostAfter));
    notes.push(
      `half-open: lost ${lost(EXACTLY_ONCE)} (best-effort: ${lost('tether-ws')}), duplicated ${fault('halfOpen', 'duplicated')}, out of order ${fault('halfOpen', 'outOfOrder')} over ${rounds('halfOpen')} rounds`,
    );
  }
  if (notes.length)
    parts.push('', 'Exactly-once in the fault scenarios (all rounds):', '', ...notes.map((n) => `- ${n}`));
  return `${parts.join('\n')}\n`;
}

/** The floors of issue 6, each with the figure it was judged on. */
function checkFloors(run) {
  const floors = [];
  const add = (name, ok, detail) => floors.push({ name, ok, detail });
  const tp = (name) => validMedian(run, 'throughput', name, 'messagesPerSecond');
  if (run.browser.throughput) {
    const rawValues = pick(valid(run, 'throughput', 'raw'), 'messagesPerSecond');
    const ours = ratio(tp('tether-ws'), tp('raw'));
    add('Throughput ≥ 0.97× raw', ours !== undefined && ours >= 0.97, `${x(ours)}`);
    const noise = spread(rawValues) ?? 0;
    const peers = run.libraries.filter((l) => !['raw', 'tether-ws', EXACTLY_ONCE].includes(l.name));
    const best = peers
      .map((l) => ({ l, r: ratio(tp(l.name), tp('tether-ws')) }))
      .sort((a, b) => (b.r ?? 0) - (a.r ?? 0))[0];
    add(
      'No peer ahead by more than the noise',
      best?.r === undefined || best.r - 1 <= noise,
      `best peer ${best?.l.label} at ${x(best?.r)} of tether-ws; noise (raw's half-range / median) ±${(noise * 100).toFixed(1)} %`,
    );
  }
  if (run.browser.latency) {
    const p50 = (name) => validMedian(run, 'latency', name, 'p50');
    const r = ratio(p50('tether-ws'), p50('raw'));
    const noise = spread(pick(valid(run, 'latency', 'raw'), 'p50')) ?? 0;
    add(
      'p50 latency ≤ 1.05× raw',
      r !== undefined && r <= 1.05,
      `${x(r)}; noise (raw's half-range / median) ±${(noise * 100).toFixed(1)} %`,
    );
  }
  if (run.browser.offline) {
    const list = samples(run, 'offline', 'tether-ws');
    const bad = sum(list.map((s) => s.lost + s.duplicated + s.outOfOrder));
    add(
      'Offline burst: 0 lost, 0 duplicated, in order',
      list.length > 0 && bad === 0,
      `lost ${sum(pick(list, 'lost'))}, duplicated ${sum(pick(list, 'duplicated'))}, out of order ${sum(pick(list, 'outOfOrder'))} over ${list.length} rounds`,
    );
  }
  if (run.browser.reconnect) {
    const list = samples(run, 'reconnect', 'tether-ws');
    const lost = sum(list.map((s) => s.lostOutage + s.lostAfter));
    const bad = lost + sum(list.map((s) => s.duplicated + s.outOfOrder));
    add(
      'Reconnect: 0 lost, 0 duplicated, in order (messages sent during the outage and after)',
      list.length > 0 && bad === 0 && list.every((s) => s.reopenedMs !== undefined),
      `lost ${lost}, duplicated ${sum(pick(list, 'duplicated'))}, out of order ${sum(pick(list, 'outOfOrder'))}; lost in flight at the drop (written before it, no delivery guarantee yet): ${sum(pick(list, 'lostInFlight'))}`,
    );
  }
  if (run.browser.halfOpen) {
    const list = samples(run, 'halfOpen', 'tether-ws');
    const limit = 2_000; // heartbeat interval + timeout in config.mjs
    const ok =
      list.length > 0 &&
      list.every(
        (s) =>
          s.noticedMs !== undefined &&
          s.noticedMs <= limit + 100 &&
          s.reopenedMs !== undefined &&
          s.lostAfter === 0 &&
          s.duplicated === 0,
      );
    add(
      'Half-open: noticed within interval + timeout (2,000 ms; 100 ms slack for timers) and recovered; losses only before detection',
      ok,
      `noticed after ${list.map((s) => int(s.noticedMs)).join(', ')} ms; lost ${list.map((s) => s.lostInFlight + s.lostOutage).join(', ')} (written into the dead socket before detection), lost after reopening ${sum(pick(list, 'lostAfter'))}`,
    );
  }
  const gzip = run.sizes['tether-ws'].gzip;
  add('Size: ESM bundle < 2,600 B min+gzip', gzip < 2_600, `${int(gzip)} B`);
  return floors;
}

export function renderReport(run) {
  const { machine, size } = run;
  const floors = checkFloors(run);
  const errors = ['throughput', 'latency', 'offline', 'reconnect', 'halfOpen'].flatMap((k) =>
    errorsOf(run, k),
  );
  const section = (key, title, body) => (run.browser[key] ? `## ${title}\n\n${body}\n` : '');
  return `${[
    '# tether-ws benchmark results',
    '',
    `${run.quick ? '**Quick smoke run (`--quick`): small samples, not for comparison.**\n\n' : ''}` +
      `Run on ${run.date.slice(0, 10)} (${run.date}), ${run.seconds.toFixed(0)} s. Machine: ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}; headless Chromium ${machine.chromium}.`,
    ...(run.reruns ?? []).map(
      (r) =>
        `\n**Rerun** (\`--merge\`) on ${r.date}, ${r.seconds.toFixed(0)} s, same machine: ${r.measurements.join(', ')} for ${r.libraries.join(', ')}; these figures replace the first run's, everything else is from the first run.`,
    ),
    '',
    `Every browser figure is the median over rounds (throughput: ${size.rounds} rounds; latency: ${size.latencyRounds}; fault scenarios: ${size.faultRounds}), with the min–max over rounds, and × raw is that median divided by the raw WebSocket's median in the same run. Rounds interleave the libraries (A B C …, rotated each round), each in a fresh page, against one \`ws\` echo server on 127.0.0.1 in its own process. Method: [bench/README.md](README.md).`,
    '',
    '![ratios to the raw WebSocket](results.svg)',
    '',
    '## Floors (issue 6)',
    '',
    table(
      ['floor', 'met', 'figure'],
      floors.map((f) => [f.name, f.ok ? 'yes' : '**NO**', f.detail]),
    ),
    '',
    section(
      'throughput',
      `Throughput: ${int(size.throughputMessages)} × 64 B text, sent in one loop, until every echo is back in order`,
      throughputTable(run),
    ),
    section(
      'latency',
      `Latency: ${int(size.latencyRoundTrips)} sequential round trips (after ${int(size.latencyWarmup)} warm-up)`,
      latencyTable(run),
    ),
    section(
      'offline',
      `Offline burst: ${int(size.offlineMessages)} messages sent while the server is unreachable`,
      `The proxy refuses connections while the page sends, and for ${run.faults.offlineHoldMs} ms more; time counts from when it lets them through. A library without an offline buffer loses what it was given (a raw WebSocket or sockette throw while connecting: \`send() threw\`).\n\n${offlineTable(run)}`,
    ),
    section(
      'reconnect',
      'Reconnect: every connection reset, new ones refused for 1 s, while the page keeps sending',
      `The page sends one message every ${run.faults.sendIntervalMs} ms. The proxy resets every connection (TCP RST, as when a server crashes) and refuses new ones for ${run.faults.refuseMs} ms. "In flight at the drop": sent before the reset and not echoed (written into a socket that died; only tether-ws exactly-once has acknowledgements, and resends them).\n\n${reconnectTable(run)}`,
    ),
    section(
      'halfOpen',
      'Half-open: the proxy stops forwarding both ways without closing, while the page keeps sending',
      `The hole lasts until a new connection arrives (the client noticed and reconnected; the old connection stays dead) or ${run.size.halfOpenMaxMs} ms pass (nobody noticed; the old connection carries on without what fell into the hole). Only tether-ws has a heartbeat (interval 1000 ms, timeout 1000 ms), in both modes; the others have no way to notice. Exactly-once resends what fell into the hole once it has reconnected.\n\n${halfOpenTable(run)}`,
    ),
    exactlyOnceSection(run),
    "## Size: each library's ESM entry bundled alone (Vite library mode, rolldown minify), gzip -9, brotli max",
    '',
    sizeTable(run),
    '',
    `## Server: echo throughput with concurrent Node \`ws\` clients (${run.serverLoad.window} messages of ${run.serverLoad.messageBytes} B in flight per client, ${run.size.serverDurationMs} ms per cell, ${run.size.serverRounds} round(s))`,
    '',
    'The dev server runs with `quiet: true`, `messageRate: 0` and `maxConnections: 0` (limits off); the bare server is `ws` echoing, nothing else. Each in its own process, the load generator in a third.',
    '',
    serverTable(run),
    '',
    '## Settings of each library',
    '',
    ...run.libraries.map((l) => `- **${l.label}**: ${l.settingsText}`),
    '',
    errors.length ? `## Errors\n\n${errors.map((e) => `- ${e}`).join('\n')}\n` : '',
  ].join('\n')}`.replace(/\n{3,}/g, '\n\n');
}
