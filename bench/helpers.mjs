// The test helpers are TypeScript and Node 20 cannot import .ts files, so the two the bench reuses
// (the fault proxy and the Chromium launcher's flags) are transpiled once per run with the project's
// own TypeScript compiler. Only types are stripped: the code that runs is the tests' code.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');

async function importTs(relativePath, outDir) {
  const source = readFileSync(join(ROOT, relativePath), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
    fileName: relativePath,
  });
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, relativePath.replaceAll('/', '_').replace(/\.ts$/, '.mjs'));
  writeFileSync(file, outputText);
  return import(pathToFileURL(file).href);
}

/** `{ createFaultProxy, CHROMIUM_ARGS, findChromium }` from test/helpers. */
export async function loadTestHelpers(outDir) {
  const proxy = await importTs('test/helpers/fault-proxy.ts', outDir);
  const browser = await importTs('test/helpers/browser.ts', outDir);
  return {
    createFaultProxy: proxy.createFaultProxy,
    CHROMIUM_ARGS: browser.CHROMIUM_ARGS,
    findChromium: browser.findChromium,
  };
}
