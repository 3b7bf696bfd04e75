// Bundles each library's browser entry the same way (Vite library mode, ES output, minified by
// rolldown: the settings of the project's own vite.config.ts) into one file. The page loads exactly
// the bytes whose size is reported, so "size" and "speed" describe the same artefact.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';

const BENCH_DIR = import.meta.dirname;

/** The re-export the bundler starts from: every export of the entry, the default one included. */
function entrySource({ module, defaultExport }) {
  const spec = JSON.stringify(module.startsWith('.') ? resolve(BENCH_DIR, module) : module);
  return `export * from ${spec};\n${defaultExport ? `export { default } from ${spec};\n` : ''}`;
}

/**
 * Bundles `source` (written as the entry file `<name>.js`) into one minified ES chunk. `external`
 * (optional): module ids left out of the bundle, as rolldown's `external` option.
 */
async function bundleSource(name, source, outDir, minify, external) {
  // An external import keeps a short specifier (`./errors.js`), as it would have in a package.
  const paths = (id) => `./${basename(id)}`;
  const entry = join(outDir, 'entries', `${name}.js`);
  writeFileSync(entry, source);
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: resolve(BENCH_DIR, '..'),
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
 * (the raw WebSocket costs 0 bytes; a variant such as tether-ws exactly-once has no entry). `minify: false` is for profiling runs, whose profiles should
 * show function names; their sizes are then not the published ones.
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

const CLIENT_DIR = resolve(BENCH_DIR, '../client');
const EXACTLY_ONCE_FILES = ['exactly-once.ts', 'exactly-once-link.ts'].map((f) => join(CLIENT_DIR, f));

/**
 * What exactly-once delivery adds to the browser bundle, measured like every size here:
 * - `bestEffort`: a bundle whose entry imports only `WebSocketClient` (what a best-effort user
 *   imports). It still holds the exactly-once code: `delivery` is a string option, so the bundler
 *   cannot tell that `new ExactlyOnceLink()` is never reached, and nothing is tree-shaken.
 * - `added`: client/exactly-once.ts and client/exactly-once-link.ts bundled together alone, every
 *   other module they import (errors, types) left external, as it is in the bundle anyway: the
 *   bytes the exactly-once code itself costs, which is what a best-effort build could save.
 */
export async function exactlyOnceSizes(outDir, { minify = true } = {}) {
  const spec = (file) => JSON.stringify(file);
  const bestEffort = await bundleSource(
    'tether-ws-best-effort-only',
    `export { WebSocketClient } from ${spec(join(CLIENT_DIR, 'index.ts'))};\n`,
    outDir,
    minify,
  );
  const ownFiles = new Set(EXACTLY_ONCE_FILES);
  const added = await bundleSource(
    'tether-ws-exactly-once-code',
    EXACTLY_ONCE_FILES.map((file) => `export * from ${spec(file)};\n`).join(''),
    outDir,
    minify,
    (id, importer) => {
      if (!importer || ownFiles.has(id)) return false;
      // What the two files import: external unless it is one of the two.
      return !ownFiles.has(resolve(importer, '..', id).replace(/\.js$/, '.ts'));
    },
  );
  writeFileSync(join(outDir, 'tether-ws-best-effort-only.js'), bestEffort);
  writeFileSync(join(outDir, 'tether-ws-exactly-once-code.js'), added);
  return { bestEffort: sizesOf(bestEffort), added: sizesOf(added) };
}
