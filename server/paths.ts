import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root, found from this file's own location so that the defaults hold both when the
// TypeScript runs in place (`server/paths.ts`, under vitest) and when it is compiled to
// `dist/server/paths.js` (`tsc -p tsconfig.server.json`), whatever the working directory.
const here = dirname(fileURLToPath(import.meta.url));
const compiled = basename(dirname(here)) === 'dist';
const repoRoot = compiled ? resolve(here, '../..') : resolve(here, '..');

/** `<repo>/demo`: the demo page, served at `/`. */
export const DEFAULT_DEMO_DIR = resolve(repoRoot, 'demo');
/** `<repo>/dist`: the client's builds, served under `/dist/`. */
export const DEFAULT_DIST_DIR = resolve(repoRoot, 'dist');
