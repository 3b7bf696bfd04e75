import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXACTLY_ONCE_DEFAULTS } from '../../client/exactly-once/index.js';
import { DEFAULT_OPTIONS } from '../../client/index.js';

const EXACTLY_ONCE_TABLE = '`exactlyOnce(options?)`';

/**
 * Rows of one options table of docs/api.md (the client reference the README links), between two
 * markers: option name → the default column's text, backticks removed.
 */
function readmeDefaults(from: string, to: string): Map<string, string> {
  const readme = readFileSync(resolve(__dirname, '../../docs/api.md'), 'utf8');
  if (!readme.includes(from)) throw new Error(`docs/api.md has no "${from}": where did the table go?`);
  const start = readme.indexOf(from);
  const section = readme.slice(start, readme.indexOf(to, start));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const name = cells[1]?.match(/^`([\w.]+)`$/)?.[1];
    if (name) rows.set(name, (cells[3] ?? '').replace(/`/g, ''));
  }
  return rows;
}

/** Every leaf of DEFAULT_OPTIONS that is plain data, as `group.key` → value. */
function defaultLeaves(): Array<[string, unknown]> {
  const leaves: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(DEFAULT_OPTIONS)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) leaves.push([`${key}.${inner}`, innerValue]);
    } else leaves.push([key, value]);
  }
  return leaves;
}

function asReadmeText(value: unknown): string {
  if (Array.isArray(value)) return JSON.stringify(value);
  if (typeof value === 'string') return `'${value}'`;
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  return String(value);
}

describe('docs/api.md options table', () => {
  const rows = readmeDefaults('## Options', EXACTLY_ONCE_TABLE);

  it('documents every option of DEFAULT_OPTIONS', () => {
    const missing = defaultLeaves()
      .map(([name]) => name)
      .filter((name) => !rows.has(name));
    expect(missing).toEqual([]);
  });

  it.each(defaultLeaves().filter(([, value]) => typeof value !== 'function'))(
    'gives the same default for %s as DEFAULT_OPTIONS',
    (name, value) => {
      expect(rows.get(name)).toBe(asReadmeText(value));
    },
  );

  it('documents nothing that is not an option (a removed option leaves no stale row)', () => {
    const known = new Set([
      ...defaultLeaves().map(([name]) => name),
      ...['reconnect', 'queue', 'heartbeat', 'codec', 'WebSocket', 'random'],
    ]);
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('says that reconnect is on and heartbeat is off by default', () => {
    expect(rows.get('reconnect')).toBe('true');
    expect(rows.get('heartbeat')).toBe('false');
  });
});

describe('docs/api.md exactlyOnce() options table', () => {
  const rows = readmeDefaults(EXACTLY_ONCE_TABLE, '## Events');

  it('lists exactly the options of EXACTLY_ONCE_DEFAULTS, with the same defaults', () => {
    expect(Object.fromEntries(rows)).toEqual(
      Object.fromEntries(Object.entries(EXACTLY_ONCE_DEFAULTS).map(([k, v]) => [k, asReadmeText(v)])),
    );
  });
});
