// The tree's layout as the README describes it, checked on the imports themselves: what ships to
// browsers (client/), to Node servers (adapter/), the wire format both speak (protocol/), the dev
// server (server/), and the tests, whose shared code lives in test/helpers/ alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

function filesUnder(folder: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(join(root, folder))) {
    const path = join(folder, name);
    if (statSync(join(root, path)).isDirectory()) found.push(...filesUnder(path));
    else if (name.endsWith('.ts')) found.push(path);
  }
  return found;
}

/** The repository paths `file` imports by relative specifier (`./x.js` is `folder/x.ts`). */
function relativeImports(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*'(\.[^']+)'/g)].map(
    ([, specifier]) => specifier as string,
  );
  return specifiers.map((specifier) =>
    relative(root, resolve(root, dirname(file), specifier)).replace(/\.js$/, '.ts'),
  );
}

/** `file`'s imports that leave `allowed` (folders, relative to the root). */
function outside(file: string, allowed: readonly string[]): string[] {
  return relativeImports(file).filter((target) => !allowed.some((folder) => target.startsWith(`${folder}/`)));
}

describe('the layout', () => {
  it.each([
    ['protocol', ['protocol']],
    ['client', ['client', 'protocol']],
    ['adapter', ['adapter', 'protocol']],
    ['server', ['server', 'adapter', 'protocol']],
  ] as const)('%s/ imports nothing outside %j', (folder, allowed) => {
    const strays = filesUnder(folder).flatMap((file) =>
      outside(file, allowed).map((target) => `${file} -> ${target}`),
    );
    expect(strays).toEqual([]);
  });

  it('keeps the code tests share in test/helpers/: no test imports another suite’s files', () => {
    const tests = filesUnder('test').filter((file) => !file.startsWith('test/types/node-consumer/'));
    const strays = tests.flatMap((file) => {
      const suite = file.split('/').slice(0, 2).join('/');
      return relativeImports(file)
        .filter((target) => target.startsWith('test/'))
        .filter((target) => !target.startsWith('test/helpers/') && !target.startsWith(`${suite}/`))
        .map((target) => `${file} -> ${target}`);
    });
    expect(strays).toEqual([]);
  });

  it('has no shared test code outside test/helpers/ (every other file there is a test)', () => {
    const shared = filesUnder('test').filter(
      (file) =>
        !/\.test(-d)?\.ts$/.test(file) &&
        !file.startsWith('test/helpers/') &&
        !file.startsWith('test/types/'),
    );
    expect(shared).toEqual([]);
  });
});
