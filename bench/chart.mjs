// bench/results.svg: a hand-built bar chart, one panel per figure that has a ratio to the raw
// WebSocket (throughput, p50 latency), plus min+gzip bytes. No dependencies, no scripts in the SVG.
import { validMedian } from './report.mjs';
import { ratio } from './stats.mjs';

const ROW = 22;
const LABEL_W = 190;
const BAR_W = 300;
const PANEL_GAP = 28;
const escapeXml = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function panel(title, rows, format, top, { mark } = {}) {
  const max = Math.max(...rows.map((r) => r.value ?? 0), mark ?? 0) || 1;
  const scale = (v) => (v / max) * BAR_W;
  const parts = [`<text x="0" y="${top + 14}" class="title">${escapeXml(title)}</text>`];
  rows.forEach((r, i) => {
    const y = top + 24 + i * ROW;
    const w = r.value === undefined ? 0 : Math.max(1, scale(r.value));
    parts.push(
      `<text x="${LABEL_W - 8}" y="${y + 14}" text-anchor="end">${escapeXml(r.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 7}" class="${r.ours ? 'ours' : 'bar'}"/>`,
      `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 14}">${r.value === undefined ? 'n/a' : escapeXml(format(r.value))}</text>`,
    );
  });
  if (mark !== undefined) {
    const x = LABEL_W + scale(mark);
    const bottom = top + 24 + rows.length * ROW;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top + 22}" x2="${x.toFixed(1)}" y2="${bottom}" class="mark"/>`,
    );
  }
  return { svg: parts.join('\n'), height: 24 + rows.length * ROW };
}

/** The panels drawn as a ratio to the raw WebSocket's median: measurement, field, title. */
const RATIO_PANELS = [
  ['throughput', 'messagesPerSecond', 'Throughput, × raw WebSocket (higher is better; line = 1.00)'],
  ['latency', 'p50', 'p50 latency, × raw WebSocket (lower is better; line = 1.00)'],
];

export function renderChart(run) {
  const row = (l, value) => ({ label: l.label, ours: l.name.startsWith('tether-ws'), value });
  const panels = [];
  for (const [key, field, title] of RATIO_PANELS) {
    if (!run.browser[key]) continue;
    const raw = validMedian(run, key, 'raw', field);
    panels.push([
      title,
      run.libraries.map((l) => row(l, ratio(validMedian(run, key, l.name, field), raw))),
      (v) => `${v.toFixed(2)}×`,
      { mark: 1 },
    ]);
  }
  panels.push([
    'Size, min+gzip bytes (lower is better)',
    run.libraries
      .filter((l) => l.name !== 'raw' && run.sizes[l.name])
      .map((l) => row(l, run.sizes[l.name].gzip)),
    (v) => `${Math.round(v).toLocaleString('en-US')} B`,
    {},
  ]);
  let top = 40;
  const body = panels.map(([title, data, format, options]) => {
    const p = panel(title, data, format, top, options);
    top += p.height + PANEL_GAP;
    return p.svg;
  });
  const width = LABEL_W + BAR_W + 90;
  const { machine } = run;
  const subtitle = `${run.date.slice(0, 10)} · ${machine.cpu}, ${machine.cores} cores · Chromium ${machine.chromium} · medians${run.quick ? ' · QUICK RUN' : ''}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top}" viewBox="0 0 ${width} ${top}" font-family="system-ui, sans-serif" font-size="12">
<style>.title{font-weight:600;font-size:13px}.bar{fill:#9aa5b1}.ours{fill:#2b6cb0}.mark{stroke:#c53030;stroke-dasharray:3 2}text{fill:#1a202c}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="0" y="16" class="title">tether-ws against the raw WebSocket and its peers</text>
<text x="0" y="32" fill="#4a5568">${escapeXml(subtitle)}</text>
${body.join('\n')}
</svg>
`;
}
