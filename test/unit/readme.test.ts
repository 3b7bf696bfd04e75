import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../client/index.js';

/** Rows of the README's options table: option name → the default column's text, backticks removed. */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Options'), readme.indexOf('### Events'));
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

describe('README options table', () => {
  const rows = readmeDefaults();

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

  it('says that reconnect is on and heartbeat is off by default', () => {
    expect(rows.get('reconnect')).toBe('true');
    expect(rows.get('heartbeat')).toBe('false');
  });
});
