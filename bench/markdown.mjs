// Formatting shared by the reports that turn bench runs into Markdown (report.mjs, store-report.mjs):
// a missing figure prints as "—", never as "NaN" or "undefined".
import { range } from './stats.mjs';

/** A whole number with thousands separators. */
export const int = (v) => (v === undefined ? '—' : Math.round(v).toLocaleString('en-US'));
/** A ratio, two decimals. */
export const x = (v) => (v === undefined ? '—' : `${v.toFixed(2)}×`);
/** The min–max of `values`, each formatted by `fmt`. */
export const span = (values, fmt = int) => {
  const r = range(values);
  return r ? `${fmt(r[0])}–${fmt(r[1])}` : '—';
};
/** A Markdown table. */
export const table = (header, rows) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
