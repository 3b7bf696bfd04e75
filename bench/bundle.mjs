// Bundles each library's browser entry the same way (Vite library mode, ES output, minified by
// rolldown: the settings of the project's own vite.config.ts) into one file. The page loads exactly
// the bytes whose size is reported, so "size" and "speed" describe the same artefact.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';

const BENCH_DIR = import.meta.dirname;

/** The re-export the bundler starts from: every export of the entry, the default one included. */
function entrySource({ module, defaultExport }) {
  const spec = JSON.stringify(module.startsWith('.') ? resolve(BENCH_DIR, module) : module);
  return `export * from ${spec};\n${defaultExport ? `export { default } from ${spec};\n` : ''}`;
}

/** The package's own name, which client/exactly-once/ imports the core by (see vite.config.ts). */
const CORE_SPECIFIER = 'tether-ws';
const CORE_ENTRY = resolve(BENCH_DIR, '../client/index.ts');

/**
 * Bundles `source` (written as the entry file `<name>.js`) into one minified ES chunk. `external`
 * (optional): module ids left out of the bundle, as rolldown's `external` option, and `paths`
 * (optional): the specifier each of them is written as (rolldown's `output.paths`). 'tether-ws' is
 * resolved to client/index.ts, as vite.config.ts does for the UMD build: this config is not loaded
 * here (`configFile: false`), and without the alias 'tether-ws' would resolve to the built
 * dist/tether-ws.js, a second copy of the core next to the one bundled from source.
 */
async function bundleSource(name, source, outDir, minify, { external, paths } = {}) {
  const entry = join(outDir, 'entries', `${name}.js`);
  writeFileSync(entry, source);
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: resolve(BENCH_DIR, '..'),
    resolve: { alias: [{ find: /^tether-ws$/, replacement: CORE_ENTRY }] },
    build: {
      write: false,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: () => `${name}.js` },
      rolldownOptions: external ? { output: { minify, paths }, external } : { output: { minify } },
    },
  });
  const outputs = Array.isArray(result) ? result : [result];
  const chunks = outputs.flatMap((o) => o.output).filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`${name}: expected one chunk, got ${chunks.length}`);
  return chunks[0].code;
}

/** Byte sizes of a minified bundle: as is, gzip -9, and brotli at its highest quality. */
export function sizesOf(code) {
  const buffer = Buffer.from(code);
  return {
    min: buffer.length,
    gzip: gzipSync(buffer, { level: 9 }).length,
    brotli: brotliCompressSync(buffer, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
    }).length,
  };
}

/**
 * Writes `<outDir>/<name>.js` for every library with a module and returns their sizes by name
 * (the raw WebSocket costs 0 bytes; a variant of another library, with `bundle` and no `module`,
 * has no size of its own). `minify: false` is for profiling runs, whose profiles should show
 * function names; their sizes are then not the published ones.
 */
export async function bundleLibraries(libraries, outDir, { minify = true } = {}) {
  mkdirSync(join(outDir, 'entries'), { recursive: true });
  const sizes = {};
  for (const library of libraries) {
    if (!library.module) {
      // A variant of another entry (`bundle`) loads that bundle and has no size of its own.
      if (!library.bundle) sizes[library.name] = { min: 0, gzip: 0, brotli: 0 };
      continue;
    }
    const code = await bundleSource(library.name, entrySource(library), outDir, minify);
    writeFileSync(join(outDir, `${library.name}.js`), code);
    sizes[library.name] = sizesOf(code);
  }
  return sizes;
}

const EXACTLY_ONCE_ENTRY = resolve(BENCH_DIR, '../client/exactly-once/index.ts');

/**
 * What importing exactly-once adds to a page, measured like every size here. Exactly-once is an
 * opt-in entry (`tether-ws/exactly-once`, client/exactly-once/) that imports the core as
 * 'tether-ws'; the core entry holds no exactly-once code (its size is the `tether-ws` library's,
 * client/index.ts with every export, what dist/tether-ws.js holds). Bundled here with 'tether-ws'
 * external (imported as './tether-ws.js'), exactly like dist/exactly-once.js.
 */
export async function exactlyOnceEntrySizes(outDir, { minify = true } = {}) {
  const code = await bundleSource(
    'tether-ws-exactly-once-entry',
    entrySource({ module: EXACTLY_ONCE_ENTRY }),
    outDir,
    minify,
    { external: [CORE_SPECIFIER], paths: { [CORE_SPECIFIER]: './tether-ws.js' } },
  );
  writeFileSync(join(outDir, 'tether-ws-exactly-once-entry.js'), code);
  return sizesOf(code);
}
