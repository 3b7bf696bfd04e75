// Examples in the docs compile under a strict check, as a user's project would compile them: the
// code block is taken from the Markdown as it is, against the built package's types (run after
// `npm run build`), with TypeScript's `nodenext` and `bundler` resolutions, no DOM library.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

/** The first fenced block of `file` that contains `marker`. */
function codeBlock(file: string, marker: string): string {
  const markdown = readFileSync(join(ROOT, file), 'utf8');
  const block = [...markdown.matchAll(/^```\w*\n([\s\S]*?)^```/gm)]
    .map((match) => match[1] as string)
    .find((code) => code.includes(marker));
  if (block === undefined) throw new Error(`${file} has no code block with ${marker}`);
  return block;
}

/** Compiles `source` strictly inside the package (so `tether-ws/server` resolves to itself). */
async function typeErrors(source: string, resolution: 'NodeNext' | 'Bundler'): Promise<string> {
  // Inside the package, next to the Node-only consumer project, so the self-reference resolves.
  const dir = mkdtempSync(join(ROOT, 'test/types/node-consumer/doc-example-'));
  try {
    writeFileSync(join(dir, 'example.ts'), source);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2022'],
          types: ['node'],
          module: resolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
          moduleResolution: resolution,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['example.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 60_000 });
      return '';
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('docs/server.md examples', () => {
  it.each(['NodeNext', 'Bundler'] as const)(
    'the authorize example type-checks strictly (%s): request may be undefined',
    async (resolution) => {
      const example = codeBlock('docs/server.md', 'authorize: async');
      const source = [
        "import { createTetherServer } from 'tether-ws/server';",
        'declare function userFromCookie(cookie: string | undefined): Promise<{ id: string } | undefined>;',
        example,
        'export { tether };',
      ].join('\n');
      expect(await typeErrors(source, resolution)).toBe('');
    },
  );
});
