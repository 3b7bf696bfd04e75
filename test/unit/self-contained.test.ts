// A maintainer has only the repository: no file in it may send them to notes kept elsewhere (a
// Markdown note that is not in the tree, a sibling folder, a path on the machine it was written on).
// CONTRIBUTING.md holds what such notes used to say.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '' && !file.endsWith('package-lock.json'));
/** Text files only: a NUL byte in the first few KiB marks a binary (a PNG, say). */
const texts = tracked
  .map((file) => {
    try {
      return { file, text: readFileSync(join(ROOT, file), 'utf8') };
    } catch {
      return { file, text: '' }; // deleted in the working tree, not yet in git's index
    }
  })
  .filter(({ text }) => !text.slice(0, 8192).includes('\0'));
const markdownNames = new Set(tracked.filter((file) => file.endsWith('.md')).map((file) => basename(file)));

describe('the repository is self-contained', () => {
  it('names no Markdown file that is not in it (notes kept outside, such as a toolchain file)', () => {
    const missing = texts.flatMap(({ file, text }) =>
      [...text.matchAll(/\b([\w.-]+\.md)\b/g)]
        .map((match) => match[1] as string)
        .filter((name) => !markdownNames.has(name))
        .map((name) => `${file}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('points at no folder beside it and no absolute path of a machine', () => {
    // Built from parts so that this file does not match itself.
    const outside = new RegExp(['\\.\\./shared\\b', '/w[o]rk/', '/home/\\w', '/Users/\\w'].join('|'));
    const hits = texts
      .filter(({ text }) => outside.test(text))
      .map(({ file, text }) => `${file}: ${text.match(outside)?.[0]}`);
    expect(hits).toEqual([]);
  });

  it('has no Markdown link that climbs out of it', () => {
    const escaping = texts
      .filter(({ file }) => file.endsWith('.md'))
      .flatMap(({ file, text }) =>
        [...text.matchAll(/\]\((\.\.?\/[^)\s#]*)/g)]
          .map((match) => match[1] as string)
          .filter((target) => relative(ROOT, resolve(ROOT, dirname(file), target)).startsWith('..'))
          .map((target) => `${file}: ${target}`),
      );
    expect(escaping).toEqual([]);
  });
});
