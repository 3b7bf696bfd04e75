// Proves the package is consumable before anyone publishes it:
// 1. the minified + gzipped ESM bundle stays within the budget written in package.json;
// 2. the opt-in exactly-once entry stays out of the core bundle, and shares the core rather than
//    copying it (a page that imports both must not download the client twice);
// 3. publint and @arethetypeswrong/cli find nothing wrong with the packed tarball.
// Run after `npm run build` (npm test does both).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sizesOf } from '../bench/bundle.mjs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
let failed = false;

for (const [file, budget] of Object.entries(pkg.sizeBudget ?? {})) {
  // Measured as the bench measures every bundle (gzip -9, brotli at its highest quality).
  const { min, gzip, brotli } = sizesOf(readFileSync(file));
  const verdict = gzip <= budget ? 'ok' : 'OVER BUDGET';
  console.log(
    `size: ${file} ${min} B minified, ${gzip} B gzip (budget ${budget} B), ${brotli} B brotli: ${verdict}`,
  );
  if (gzip > budget) failed = true;
}

// `tether.v1` is the exactly-once subprotocol name: it appears in that code and nowhere else.
const core = readFileSync('dist/tether-ws.js', 'utf8');
const exactlyOnce = readFileSync('dist/exactly-once.js', 'utf8');
const entryChecks = [
  ['dist/tether-ws.js has no exactly-once code', !core.includes('tether.v1')],
  [
    'dist/exactly-once.js imports the core from ./tether-ws.js',
    /from\s*"\.\/tether-ws\.js"/.test(exactlyOnce),
  ],
  [
    'dist/exactly-once.js does not bundle its own copy of the client',
    !exactlyOnce.includes('RETRIES_EXHAUSTED'),
  ],
];
for (const [check, ok] of entryChecks) {
  console.log(`entries: ${check}: ${ok ? 'ok' : 'FAILED'}`);
  if (!ok) failed = true;
}

const packDir = mkdtempSync(join(tmpdir(), 'tether-pack-'));
try {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  const path = join(packDir, tarball);
  const run = (cmd, args) => {
    try {
      const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      console.log(out.trim());
    } catch (error) {
      console.error(`${cmd} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      failed = true;
    }
  };
  run('npx', ['publint', '--strict', path]);
  // ESM-only on purpose: the UMD file is for <script> tags, reachable by path, not through require().
  run('npx', ['attw', path, '--profile', 'esm-only', '--format', 'table-flipped']);
} finally {
  rmSync(packDir, { recursive: true, force: true });
}

if (failed) {
  console.error('check-package: FAILED');
  process.exit(1);
}
console.log('check-package: ok');
