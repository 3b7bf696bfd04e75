// The README is the front door and docs/ holds the reference: these checks keep the two honest as
// files move (every relative link resolves) and keep the README's entry table equal to the size
// budgets `npm run check:package` enforces, so no size is restated by hand.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);

/** `[text](target)` and `![alt](target)` links of a Markdown file, outside fenced code blocks. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const headings = markdown.replace(/^```[\s\S]*?^```/gm, '').match(/^#{1,6} .+$/gm) ?? [];
  return new Set(
    headings.map((heading) =>
      heading
        .replace(/^#+ /, '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('README and docs/', () => {
  it('the README links every page of docs/', () => {
    const linked = new Set(relativeLinks(read('README.md')).map((target) => target.split('#')[0]));
    expect(DOCS.filter((page) => !linked.has(page))).toEqual([]);
  });

  it.each(['README.md', ...DOCS])(
    'every relative link of %s points at a file and heading that exist',
    (file) => {
      const broken = relativeLinks(read(file)).filter((target) => {
        const [path = '', anchor] = target.split('#');
        const absolute = path ? resolve(ROOT, dirname(file), path) : join(ROOT, file);
        if (!existsSync(absolute)) return true;
        return (
          anchor !== undefined &&
          absolute.endsWith('.md') &&
          !anchors(readFileSync(absolute, 'utf8')).has(anchor)
        );
      });
      expect(broken).toEqual([]);
    },
  );

  it.each(['README.md', ...DOCS])('every repository file %s names in `code` exists', (file) => {
    // Paths such as `test/unit/url.test.ts` or `deploy/nginx/nginx.conf`: a folder and a file name
    // with an extension. Skipped: build output and git-ignored results (they exist after a run), and
    // package specifiers such as `tether-ws/server`.
    const generated = ['dist/', 'bench/results/', 'test/artifacts/', 'tether-ws/'];
    const named = [...read(file).matchAll(/`([\w.-]+(?:\/[\w.-]+)+\.[a-z]{1,5})`/g)]
      .map((match) => match[1] as string)
      .filter((path) => !generated.some((prefix) => path.startsWith(prefix)) && !path.startsWith('.'));
    expect(named.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });

  it.each([
    ['tether-ws', 'client/index.ts'],
    ['tether-ws/exactly-once', 'client/exactly-once/index.ts'],
    ['tether-ws/persist', 'client/persist/index.ts'],
  ])('docs/api.md lists exactly what %s exports, values and types', (entry, source) => {
    // client/index.ts re-exports only, in `export { ... }` / `export type { ... }` lists, plus the
    // functions and constants an entry defines itself.
    const code = read(source);
    const names = (pattern: RegExp) =>
      [...code.matchAll(pattern)]
        .flatMap((match) => (match[1] as string).split(','))
        .map((name) => name.trim());
    const values = [
      ...names(/^export \{([^}]*)\}/gm),
      ...[...code.matchAll(/^export (?:function|const|class) (\w+)/gm)].map((match) => match[1] as string),
    ];
    const types = names(/^export type \{([^}]*)\}/gm);
    const row = read('docs/api.md')
      .split('\n')
      .find((line) => line.startsWith(`| \`${entry}\` |`));
    const [, , documentedValues = '', documentedTypes = ''] = row?.split('|') ?? [];
    const listed = (cell: string) =>
      [...cell.replace(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map((match) => match[1] as string).sort();
    expect({ values: listed(documentedValues), types: listed(documentedTypes) }).toEqual({
      values: values.filter(Boolean).sort(),
      types: types.filter(Boolean).sort(),
    });
  });

  it("keeps the README's two commands and the unit-test command", () => {
    const readme = read('README.md');
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toMatch(/^npm test\b/m);
    expect(readme).toContain('npm run test:unit');
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(Object.keys(scripts)).toEqual(
      expect.arrayContaining(['demo', 'test', 'test:unit', 'start', 'build']),
    );
  });

  it("gives in the README's entry table the budgets of package.json sizeBudget", () => {
    const budgets = JSON.parse(read('package.json')).sizeBudget as Record<string, number>;
    const rows = read('README.md')
      .split('\n')
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .filter((cells) => /^`dist\/[\w.-]+\.js`$/.test(cells[2] ?? ''));
    const shown = Object.fromEntries(
      rows.map((cells) => [
        (cells[2] as string).replace(/`/g, ''),
        Number((cells[3] ?? '').replace(/[^\d]/g, '')),
      ]),
    );
    expect(shown).toEqual(budgets);
  });
});
