import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED } from '../../client/state.js';

/** The `from --> to` arrows of the Mermaid state diagram in docs/api.md, without the start marker. */
function diagramArrows(): string[] {
  const doc = readFileSync(resolve(__dirname, '../../docs/api.md'), 'utf8');
  const diagram = doc.match(/```mermaid\n(stateDiagram-v2[\s\S]*?)```/)?.[1] ?? '';
  return [...diagram.matchAll(/^\s*(\w+) --> (\w+)/gm)].map(([, from, to]) => `${from} -> ${to}`).sort();
}

describe('the state diagram of docs/api.md', () => {
  it('draws exactly the moves ALLOWED permits, each once', () => {
    const allowed = Object.entries(ALLOWED)
      .flatMap(([from, targets]) => targets.map((to) => `${from} -> ${to}`))
      .sort();
    expect(diagramArrows()).toEqual(allowed);
  });
});
