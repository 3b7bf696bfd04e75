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

async function bundleOne(library, outDir, minify) {
  const entry = join(outDir, 'entries', `${library.name}.js`);
  writeFileSync(entry, entrySource(library));
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: resolve(BENCH_DIR, '..'),
    build: {
      write: false,
      target: 'es2022',
      lib: { entry, formats: ['es'], fileName: () => `${library.name}.js` },
      rolldownOptions: { output: { minify } },
    },
  });
  const outputs = Array.isArray(result) ? result : [result];
  const chunks = outputs.flatMap((o) => o.output).filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`${library.name}: expected one chunk, got ${chunks.length}`);
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
 * (the raw WebSocket costs 0 bytes). `minify: false` is for profiling runs, whose profiles should
 * show function names; their sizes are then not the published ones.
 */
export async function bundleLibraries(libraries, outDir, { minify = true } = {}) {
  mkdirSync(join(outDir, 'entries'), { recursive: true });
  const sizes = {};
  for (const library of libraries) {
    if (!library.module) {
      sizes[library.name] = { min: 0, gzip: 0, brotli: 0 };
      continue;
    }
    const code = await bundleOne(library, outDir, minify);
    writeFileSync(join(outDir, `${library.name}.js`), code);
    sizes[library.name] = sizesOf(code);
  }
  return sizes;
}
