// The dev server's settings table in docs/server.md is SETTINGS (server/settings.ts) rendered: every
// option and variable, its default, what it accepts and its line of documentation, from one source.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../server/settings.js';

const HEADER = '| option | env var | default | accepts | meaning |';

function rendered(): string {
  const code = (text: string | undefined) => (text === undefined ? '—' : `\`${text}\``);
  const rows = Object.entries(SETTINGS).map(([name, setting]) => {
    const { default: value } = setting;
    const shown = setting.shownDefault ?? code(Array.isArray(value) ? JSON.stringify(value) : String(value));
    const cells = [
      setting.option ? code(name) : '—',
      code(setting.env),
      shown,
      setting.rule.expected,
      setting.doc,
    ];
    return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  });
  return [HEADER, '|---|---|---|---|---|', ...rows].join('\n');
}

function documented(): string {
  const doc = readFileSync(resolve(__dirname, '../../docs/server.md'), 'utf8');
  const start = doc.indexOf(HEADER);
  return start === -1 ? '' : (doc.slice(start).split('\n\n')[0] ?? '');
}

describe('docs/server.md dev server settings table', () => {
  it('is SETTINGS rendered, row for row', () => {
    expect(documented()).toBe(rendered());
  });
});
