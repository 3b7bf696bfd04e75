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

  it.each(['README.md', 'CONTRIBUTING.md', ...DOCS])(
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

  it.each(['README.md', 'CONTRIBUTING.md', ...DOCS])(
    'every repository file %s names in `code` exists',
    (file) => {
      // Paths such as `test/unit/url.test.ts` or `deploy/nginx/nginx.conf`: a folder and a file name
      // with an extension. Skipped: build output and git-ignored results (they exist after a run), and
      // package specifiers such as `tether-ws/server`.
      const generated = ['dist/', 'bench/results/', 'test/artifacts/', 'tether-ws/'];
      const named = [...read(file).matchAll(/`([\w.-]+(?:\/[\w.-]+)+\.[a-z]{1,5})`/g)]
        .map((match) => match[1] as string)
        .filter((path) => !generated.some((prefix) => path.startsWith(prefix)) && !path.startsWith('.'));
      expect(named.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    },
  );

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

  it('says the package is not on npm yet, how to install it from a tarball, and how to publish it', () => {
    const pkg = JSON.parse(read('package.json'));
    const install = section(read('README.md'), '## Install');
    expect(install).toContain('not published on npm yet');
    expect(install).toContain('npm pack');
    expect(install).toContain(`npm install /path/to/tether-ws/${pkg.name}-${pkg.version}.tgz`);
    expect(install).toContain('`npm publish`');
    expect(pkg.publishConfig).toMatchObject({ access: 'public', provenance: true });
    // The unpkg line is only true once published, and the README says so where it shows it.
    const readme = read('README.md');
    const unpkg = readme.indexOf('https://unpkg.com/tether-ws');
    expect(readme.slice(unpkg - 400, unpkg)).toContain('Once the package is published');
  });

  it('lists what the <script> global TetherWS has: the entries of client/umd.ts and no other', () => {
    const bundled = [
      ...read('client/umd.ts').matchAll(/from '\.\/([\w-]+)\/index\.js'|from '\.\/index\.js'/g),
    ].map((match) => (match[1] ? `tether-ws/${match[1]}` : 'tether-ws'));
    expect(bundled.sort()).toEqual(['tether-ws', 'tether-ws/exactly-once']);
    const readme = read('README.md');
    const sentence = readme.slice(
      readme.indexOf('the UMD build exposes the global `TetherWS`'),
      readme.indexOf('```html'),
    );
    const beforeNothing = sentence.slice(0, sentence.indexOf('nothing of'));
    for (const entry of bundled) expect(beforeNothing).toContain(`\`${entry}\``);
    const api = read('docs/api.md');
    const others = [...api.matchAll(/^\| `(tether-ws(?:\/[\w-]+)*)` \|/gm)]
      .map((match) => match[1] as string)
      .filter((entry) => !bundled.includes(entry) && !entry.endsWith('.umd.js'))
      .concat('tether-ws/server');
    expect(others.length).toBeGreaterThan(0);
    const afterNothing = sentence.slice(sentence.indexOf('nothing of'));
    for (const entry of others) expect(afterNothing).toContain(`\`${entry}\``);
  });

  it('says in the Quick start that suites skip without each tool .ci/run installs, and gives no unmeasured duration', () => {
    const tools = [...read('.ci/run').matchAll(/need_apt\+=\((\S+)\)/g)].map((match) => match[1] as string);
    expect(tools).toEqual(expect.arrayContaining(['chromium', 'nginx', 'redis-server']));
    const quickStart = section(read('README.md'), '## Quick start');
    for (const tool of tools) expect(quickStart).toContain(`\`${tool}\``);
    expect(quickStart).toMatch(/skipped with a message/);
    for (const file of ['README.md', 'CONTRIBUTING.md'])
      expect(read(file)).not.toMatch(/about \d+ s\b|in seconds/);
  });

  it('writes no measured figure by hand: the benchmark and memory records are linked, not copied', () => {
    // What the generated records contain: throughput, latency, memory growth, bundle sizes. A figure
    // of that kind in the README or docs/ is a copy that goes stale at the next run.
    const measured = [
      /\d[\d,]*,\d{3} msg\/s/, // a bench throughput
      /\d+\.\d+ MiB/, // a measured memory figure (limits are whole MiB)
      /\d(?:\.\d)? KB min\+gzip|\d,\d{3} B (?:before|after)/, // a bundle's size as built
      /\| \d[\d,]* msg\/s \|/, // a copied results table row
    ];
    const files = ['README.md', 'CONTRIBUTING.md', ...DOCS];
    const copies = files.flatMap((file) =>
      measured
        .filter((pattern) => pattern.test(read(file)))
        .map((pattern) => `${file}: ${read(file).match(pattern)?.[0]}`),
    );
    expect(copies).toEqual([]);
    expect(read('README.md')).toContain('(bench/store-results.md)');
    expect(read('README.md')).toContain('(bench/memory-bound-results.md)');
    expect(read('docs/server.md')).toContain('(../bench/memory-bound-results.md)');
  });

  it('says in docs/server.md that pages opened from disk send Origin null and are refused by default', () => {
    const check = read('docs/server.md').split('- **Origin check.**')[1]?.split('\n- **')[0] ?? '';
    expect(check).toContain('sends `Origin: null`');
    expect(check).toContain('pages opened from disk\n  are refused by default');
    expect(check).not.toContain('(`file://`), and from');
  });
});

/** The text of a Markdown section, from its heading to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const level = heading.split(' ')[0] as string;
  const end = markdown.indexOf(`\n${level} `, start + heading.length + 2);
  return markdown.slice(start, end < 0 ? undefined : end);
}
