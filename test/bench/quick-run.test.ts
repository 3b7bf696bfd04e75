// `npm run bench -- --quick` is a smoke run: it must never replace the committed record the docs
// cite (bench/results.md, bench/results.svg), only write under bench/results/quick/ (git-ignored).
// Run with `--only=none`, so the whole pipeline runs (bundling, echo server, Chromium, report and
// chart) but no measurement: a few seconds instead of minutes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { findChromium } from '../helpers/browser';

const BENCH = resolve(__dirname, '../../bench');
const digest = (file: string) =>
  createHash('sha256')
    .update(readFileSync(join(BENCH, file)))
    .digest('hex');

it.skipIf(findChromium() === undefined && !process.env.CI)(
  'a --quick run writes bench/results/quick/ and leaves the committed results untouched',
  async () => {
    const committed = { md: digest('results.md'), svg: digest('results.svg') };
    const started = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(BENCH, 'run.mjs'), '--quick', '--only=none'],
      {
        cwd: resolve(BENCH, '..'),
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(
      /wrote bench\/results\/quick\/results\.md and bench\/results\/quick\/results\.svg/,
    );
    expect({ md: digest('results.md'), svg: digest('results.svg') }).toEqual(committed);
    for (const file of ['results.md', 'results.svg', 'raw.json'])
      expect(statSync(join(BENCH, 'results/quick', file)).mtimeMs).toBeGreaterThanOrEqual(started - 1000);
    expect(readFileSync(join(BENCH, 'results/quick/results.md'), 'utf8')).toContain('Quick smoke run');
  },
);
