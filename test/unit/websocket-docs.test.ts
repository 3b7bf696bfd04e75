import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../client/index.js';
import { PEER_OPTIONS } from '../../client/websocket/index.js';

/** The migration table of docs/websocket.md: peer option → [tether-ws option, tether-ws default]. */
function migrationTable(): Map<string, [string, string]> {
  const doc = readFileSync(resolve(__dirname, '../../docs/websocket.md'), 'utf8');
  const start = doc.indexOf('### Migration table');
  const rows = new Map<string, [string, string]>();
  for (const line of doc.slice(start, doc.indexOf('\n## ', start)).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const peer = cells[1]?.match(/^`(\w+)`$/)?.[1];
    const ours = cells[2]?.match(/^`([\w.]+)`$/)?.[1];
    if (peer && ours) rows.set(peer, [ours, cells[4] ?? '']);
  }
  return rows;
}

/** The first column of docs/websocket.md's "What differs, behaviour by behaviour" table. */
function differsTable(): string[] {
  const doc = readFileSync(resolve(__dirname, '../../docs/websocket.md'), 'utf8');
  const start = doc.indexOf('| behaviour |', doc.indexOf('### What differs, behaviour by behaviour'));
  const table = doc.slice(start, doc.indexOf('\n\n', start));
  // The rows after the header and its separator.
  return table
    .split('\n')
    .slice(2)
    .map((line) => line.split('|')[1]?.trim() ?? '');
}

/** The compatibility suite's tests, by the behaviour each name starts with (before its " ("). */
function compatTests(): string[] {
  const suite = readFileSync(resolve(__dirname, '../helpers/websocket-compat.ts'), 'utf8');
  return [...suite.matchAll(/^\s*it\(\s*'([^']+?) \(/gm)].map(([, name]) => name as string);
}

describe('docs/websocket.md', () => {
  it('has one "What differs" row per test of the compatibility suite, in its order and words', () => {
    const tests = compatTests();
    expect(tests.length).toBeGreaterThanOrEqual(11);
    expect(differsTable()).toEqual(tests);
  });

  it('has one migration-table row per translated peer option, naming the option it becomes', () => {
    const table = migrationTable();
    const translated = [...table]
      .filter(([peer, [ours]]) => peer !== ours)
      .map(([peer, [ours]]) => [peer, ours]);
    expect(Object.fromEntries(translated)).toEqual(PEER_OPTIONS);
  });

  it('states the tether-ws defaults of DEFAULT_OPTIONS', () => {
    const defaults = DEFAULT_OPTIONS as unknown as Record<string, Record<string, unknown> | unknown>;
    let checked = 0;
    for (const [, [ours, text]] of migrationTable()) {
      const [group, key] = ours.split('.') as [string, string | undefined];
      const value = key ? (defaults[group] as Record<string, unknown>)?.[key] : defaults[group];
      if (typeof value !== 'number') continue;
      expect(text.startsWith(value === Number.POSITIVE_INFINITY ? 'Infinity' : String(value)), ours).toBe(
        true,
      );
      checked++;
    }
    expect(checked).toBe(7);
  });
});
