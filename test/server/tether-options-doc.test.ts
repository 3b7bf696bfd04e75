// The adapter's options table in docs/server.md against DEFAULT_TETHER_OPTIONS: every option is
// documented, with the default the code uses (one source of truth, checked).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TETHER_OPTIONS } from '../../adapter/index.js';

/** Rows of the table after "## Server adapter": `a` / `b` names map to `x` / `y` defaults, units dropped. */
function documentedDefaults(): Map<string, string> {
  const doc = readFileSync(resolve(__dirname, '../../docs/server.md'), 'utf8');
  const start = doc.indexOf('## Server adapter');
  const table = doc.slice(doc.indexOf('| option | default | meaning |', start)).split('\n\n')[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of table.split('\n').slice(2)) {
    const [, names = '', defaults = ''] = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const values = defaults.split(' / ');
    names.split(' / ').forEach((name, index) => {
      const value = (values[index] ?? '').replace(/`/g, '').replace(/ ms$/, '');
      rows.set(name.replace(/`/g, ''), value);
    });
  }
  return rows;
}

describe('docs/server.md adapter options table', () => {
  const rows = documentedDefaults();
  it.each(Object.entries(DEFAULT_TETHER_OPTIONS))('documents %s with its default', (name, value) => {
    expect(rows.get(name)).toBe(String(value));
  });

  // Not in DEFAULT_TETHER_OPTIONS: each server gets a memory store of its own.
  it('documents store, whose default is a new memory store per server', () => {
    expect(rows.get('store')).toBe('createMemoryStore()');
  });

  it('documents no option the adapter does not have', () => {
    const known = (name: string) => Object.hasOwn(DEFAULT_TETHER_OPTIONS, name) || name === 'store';
    expect([...rows.keys()].filter((name) => !known(name))).toEqual([]);
  });
});
