// Proves the package is consumable before anyone publishes it:
// 1. the minified + gzipped ESM bundle stays within the budget written in package.json;
// 2. the opt-in entries (exactly-once, websocket, persist) stay out of the core bundle, and share the core
//    rather than copying it (a page that imports both must not download the client twice);
// 3. a clean checkout (no dist/) packs a tarball that carries every file package.json names
//    (`exports`, `types`, `module`, `unpkg`, ...): `prepack` builds it, as it will for `npm publish`;
// 4. publint and @arethetypeswrong/cli find nothing wrong with that tarball;
// 5. in the same checkout, `npm run build` then `npm start` starts the dev server (the README's
//    sequence for an already built server);
// 6. the tarball is named as the README's Install section says, carries LICENSE, and every relative
//    link of every Markdown file in it (README, docs/, the benchmark records) points at a file in it:
//    the docs ship with the package, so the README read from node_modules or the registry works;
// 7. `npm install <tarball>` (the README's way to install until the package is published) works
//    offline in an empty project, and `tether-ws` then imports there.
// Run after `npm run build` (npm test does both): 1 and 2 read this tree's dist/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { sizesOf } from '../bench/bundle.mjs';
import { cleanCheckout, npmUntil } from './clean-checkout.mjs';

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
// `retryCount` is a property of the drop-in WebSocket (tether-ws/websocket) and of nothing in the core.
const websocket = readFileSync('dist/websocket.js', 'utf8');
const umd = readFileSync('dist/tether-ws.umd.js', 'utf8');
// `indexedDB` is read only by tether-ws/persist (browserStore).
const persist = readFileSync('dist/persist.js', 'utf8');
// The client's own state machine (its bug check on an illegal transition, which throws
// "tether-ws bug: <from> -> <to>") is in the core alone; an entry that has it bundled a copy of the
// client. (Error codes are no marker: the websocket entry tests RETRIES_EXHAUSTED.)
const CLIENT = 'tether-ws bug: ';
const entryChecks = [
  ['dist/tether-ws.js has the client', core.includes(CLIENT)],
  ['dist/tether-ws.js has no exactly-once code', !core.includes('tether.v1')],
  [
    'dist/exactly-once.js imports the core from ./tether-ws.js',
    /from\s*"\.\/tether-ws\.js"/.test(exactlyOnce),
  ],
  ['dist/exactly-once.js does not bundle its own copy of the client', !exactlyOnce.includes(CLIENT)],
  ['dist/tether-ws.js has no websocket-entry code', !core.includes('retryCount')],
  // Left out of the UMD bundle on purpose (docs/websocket.md): a page without a bundler imports the module.
  ['dist/tether-ws.umd.js has no websocket-entry code', !umd.includes('retryCount')],
  ['dist/websocket.js imports the core from ./tether-ws.js', /from\s*"\.\/tether-ws\.js"/.test(websocket)],
  ['dist/websocket.js does not bundle its own copy of the client', !websocket.includes(CLIENT)],
  ['dist/tether-ws.js has no persist-entry code', !core.includes('indexedDB')],
  ['dist/tether-ws.umd.js has no persist-entry code', !umd.includes('indexedDB')],
  ['dist/persist.js imports the core from ./tether-ws.js', /from\s*"\.\/tether-ws\.js"/.test(persist)],
  ['dist/persist.js does not bundle its own copy of the client', !persist.includes(CLIENT)],
];
// A page's bundler usually puts the websocket entry in one chunk with the core, where the names
// they share (readyState, binaryType, ...) compress once: what the entry adds there, for comparison
// with its own file's size above.
{
  const joined = `${core}\n${websocket.replace(/^import[^;]*;/, '')}`;
  const added = sizesOf(Buffer.from(joined)).gzip - sizesOf(Buffer.from(core)).gzip;
  console.log(`size: dist/websocket.js adds ${added} B gzip when bundled in one chunk with the core`);
}
// Each browser entry is one file: a module two entries import (protocol/, say) must not become a
// shared chunk beside them, which package.json `files` would not ship.
{
  const shipped = new Set(pkg.files);
  const extra = readdirSync('dist').filter((name) => name.endsWith('.js') && !shipped.has(`dist/${name}`));
  entryChecks.push([
    `dist/ has no chunk besides the entries${extra.length ? ` (found ${extra.join(', ')})` : ''}`,
    extra.length === 0,
  ]);
}
for (const [check, ok] of entryChecks) {
  console.log(`entries: ${check}: ${ok ? 'ok' : 'FAILED'}`);
  if (!ok) failed = true;
}

/** Every file path package.json points at, from `exports` (all conditions) and the top-level fields. */
function namedFiles(manifest) {
  const files = new Set();
  const walk = (target) => {
    if (typeof target === 'string') files.add(target.replace(/^\.\//, ''));
    else if (target && typeof target === 'object') Object.values(target).forEach(walk);
  };
  walk(manifest.exports);
  for (const field of ['main', 'module', 'types', 'unpkg', 'jsdelivr']) walk(manifest[field]);
  return [...files].sort();
}

const packDir = mkdtempSync(join(tmpdir(), 'tether-pack-'));
const checkout = cleanCheckout(process.cwd());
try {
  // No --ignore-scripts: `prepack` must build what the checkout lacks.
  execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir], {
    cwd: checkout.dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tarball = execFileSync('ls', [packDir], { encoding: 'utf8' }).trim().split('\n').pop();
  const path = join(packDir, tarball);
  const packed = new Set(
    execFileSync('tar', ['-tzf', path], { encoding: 'utf8' })
      .split('\n')
      .map((entry) => entry.replace(/^package\//, '')),
  );
  const missing = namedFiles(pkg).filter((file) => !packed.has(file));
  console.log(
    `pack from a clean checkout: ${packed.size - 1} files; every file package.json names is in it: ` +
      (missing.length ? `FAILED, missing ${missing.join(', ')}` : 'ok'),
  );
  if (missing.length) failed = true;
  const run = (cmd, args) => {
    try {
      const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      console.log(out.trim());
    } catch (error) {
      console.error(`${cmd} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      failed = true;
    }
  };
  checkTarball(path, tarball, packed);
  run('npx', ['publint', '--strict', path]);
  // ESM-only on purpose: the UMD file is for <script> tags (and the global TetherWS), not require().
  run('npx', ['attw', path, '--profile', 'esm-only', '--format', 'table-flipped']);

  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: checkout.dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    await npmUntil(checkout.dir, ['start'], /Listening on http:\/\/127\.0\.0\.1:\d+/, {
      env: { PORT: '0', HOST: '127.0.0.1' },
    });
    console.log('clean checkout: npm run build, then npm start, starts the dev server: ok');
  } catch (error) {
    console.error(`clean checkout: npm run build, then npm start: FAILED\n${error.message}`);
    failed = true;
  }
} catch (error) {
  console.error(`clean checkout: ${error.stderr ?? ''}${error.message}`);
  failed = true;
} finally {
  checkout.remove();
  rmSync(packDir, { recursive: true, force: true });
}

/** Checks 6 and 7 of the list at the top, on the packed tarball at `path`. */
function checkTarball(path, tarball, packed) {
  const report = (check, ok) => {
    console.log(`tarball: ${check}: ${ok ? 'ok' : 'FAILED'}`);
    if (!ok) failed = true;
  };
  const readme = readFileSync('README.md', 'utf8');
  report(
    `named ${tarball}, as the README's Install section says`,
    tarball === `${pkg.name}-${pkg.version}.tgz` && readme.includes(tarball),
  );
  report('carries LICENSE', packed.has('LICENSE'));
  const unpacked = mkdtempSync(join(tmpdir(), 'tether-unpacked-'));
  const project = mkdtempSync(join(tmpdir(), 'tether-install-'));
  try {
    execFileSync('tar', ['-xzf', path, '-C', unpacked]);
    const root = join(unpacked, 'package');
    const broken = [];
    for (const file of [...packed].filter((entry) => entry.endsWith('.md'))) {
      const prose = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const [, target] of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
        const linked = normalize(join(dirname(file), target.split('#')[0]));
        if (linked.startsWith('..') || !existsSync(join(root, linked))) broken.push(`${file} -> ${target}`);
      }
    }
    report(
      `every relative link of its Markdown files resolves inside it${broken.length ? ` (broken: ${broken.join(', ')})` : ''}`,
      broken.length === 0,
    );
    execFileSync('npm', ['init', '-y'], { cwd: project, stdio: 'ignore' });
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', path], {
      cwd: project,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const imported = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        "import('tether-ws').then((m) => console.log(typeof m.WebSocketClient))",
      ],
      { cwd: project, encoding: 'utf8' },
    ).trim();
    report(`npm install ${tarball} in an empty project, then import 'tether-ws'`, imported === 'function');
  } catch (error) {
    report(`unpack and install ${tarball}: ${error.stderr ?? ''}${error.message}`, false);
  } finally {
    rmSync(unpacked, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  }
}

if (failed) {
  console.error('check-package: FAILED');
  process.exit(1);
}
console.log('check-package: ok');
