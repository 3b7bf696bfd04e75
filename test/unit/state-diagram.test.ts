import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED } from '../../client/state.js';

/** The `from --> to` moves of the Mermaid state diagram in docs/api.md, without the start marker. */
function drawnMoves(): string[] {
  const doc = readFileSync(resolve(__dirname, '../../docs/api.md'), 'utf8');
  const diagram = /```mermaid\nstateDiagram-v2\n([\s\S]*?)```/.exec(doc)?.[1];
  if (diagram === undefined) throw new Error('docs/api.md has no Mermaid state diagram');
  return [...diagram.matchAll(/^\s*(\w+) --> (\w+)/gm)].map(([, from, to]) => `${from} -> ${to}`).sort();
}

describe('the state diagram of docs/api.md', () => {
  it('draws exactly the moves ALLOWED permits, each once', () => {
    const allowed = Object.entries(ALLOWED)
      .flatMap(([from, targets]) => targets.map((to) => `${from} -> ${to}`))
      .sort();
    expect(drawnMoves()).toEqual(allowed);
  });

  it('starts in idle', () => {
    const doc = readFileSync(resolve(__dirname, '../../docs/api.md'), 'utf8');
    expect(doc).toMatch(/^\s*\[\*\] --> idle$/m);
  });
});
