import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sourceOf = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const coreEntry = sourceOf('./client/index.ts');

/**
 * The names of the classes and functions the public entries export, read from their
 * source. The minifier keeps these names, so that `error.constructor.name` is 'TetherRangeError',
 * Node prints `TetherRangeError: ...` and stack frames read `new WebSocketClient`; the internals stay
 * mangled. test/package/ checks every export of the built bundles keeps its name.
 */
function publicValueNames(): string[] {
  const names = new Set<string>();
  for (const entry of [
    'client/index.ts',
    'client/exactly-once/index.ts',
    'client/websocket/index.ts',
    'client/persist/index.ts',
  ]) {
    const source = readFileSync(fileURLToPath(new URL(entry, import.meta.url)), 'utf8');
    // `X as Y` keeps X, the name the code gives the class.
    for (const [, list] of source.matchAll(/^export \{([^}]*)\}/gm))
      for (const name of (list ?? '').split(','))
        if (name.trim()) names.add(name.trim().split(/\s+/)[0] as string);
    for (const [, name] of source.matchAll(/^export (?:function|class|const) (\w+)/gm))
      names.add(name as string);
  }
  // Constants (ALL_CAPS) have no `name` to keep; leaving them mangled saves bytes.
  return [...names].filter((name) => !/^[A-Z0-9_]+$/.test(name));
}

// One config for the library build and the test runner.
// `vite build` emits the ES entries: dist/tether-ws.js (the core) and dist/exactly-once.js (the
// opt-in delivery mode, which imports the core rather than copying it). `vite build --mode umd`
// emits dist/tether-ws.umd.js (global `TetherWS`, core and exactly-once together): Vite cannot
// write UMD for several entries. Both minified: Vite's `build.minify` leaves the ES output
// pretty-printed, so minification is asked of rolldown's output directly (see CONTRIBUTING.md, "Toolchain traps").
// client/exactly-once/ imports the core as 'tether-ws' (the package's own name): the ES build keeps
// that import (written as ./tether-ws.js), everything else (UMD build, tests) resolves it to source.
export default defineConfig(({ mode, command }) => ({
  resolve: {
    // The dev server (server/) imports the adapter as users do, 'tether-ws/server' (dist/adapter once
    // built); tests run it from source.
    alias:
      command === 'build'
        ? mode === 'umd'
          ? [{ find: /^tether-ws$/, replacement: coreEntry }]
          : []
        : [
            { find: /^tether-ws$/, replacement: coreEntry },
            { find: /^tether-ws\/server$/, replacement: sourceOf('./adapter/index.ts') },
            { find: /^tether-ws\/server\/redis$/, replacement: sourceOf('./adapter/redis/index.ts') },
          ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib:
      mode === 'umd'
        ? { entry: 'client/umd.ts', name: 'TetherWS', formats: ['umd'], fileName: () => 'tether-ws.umd.js' }
        : {
            entry: {
              'tether-ws': 'client/index.ts',
              'exactly-once': 'client/exactly-once/index.ts',
              websocket: 'client/websocket/index.ts',
              persist: 'client/persist/index.ts',
            },
            formats: ['es'],
            fileName: (_format, name) => `${name}.js`,
          },
    rolldownOptions: {
      optimization: { inlineConst: { mode: 'all' } },
      external: mode === 'umd' ? [] : ['tether-ws'],
      output: {
        // Annotations such as /* @__PURE__ */ tell a later bundler a call can be dropped when its
        // result is unused; rolldown writes them even inside function bodies of the minified output,
        // where they tell nobody anything and cost bytes. Legal comments stay.
        comments: { legal: true, annotation: false, jsdoc: false },
        // `reserved` keeps the public names (see publicValueNames); rolldown's `keepNames` would keep
        // every internal function's too, at a cost in bytes the core's budget cannot pay.
        minify: { mangle: { reserved: publicValueNames() }, codegen: true },
        paths: (mode === 'umd' ? {} : { 'tether-ws': './tether-ws.js' }) as Record<string, string>,
      },
    },
  },
  test: {
    // Slow suites (real servers, Chromium, fault proxy) live in their own folders but run in the
    // same `npm test`, so CI runs everything.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'jsdom',
          include: ['test/unit/**/*.test.ts', 'test/types/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/types/**/*.test-d.ts'] },
        },
      },
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: [
            'test/integration/**/*.test.ts',
            'test/server/**/*.test.ts',
            'test/faults/**/*.test.ts',
            'test/package/**/*.test.ts',
            'test/bench/**/*.test.ts',
          ],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // What the adapter keeps alive, read after forced full collections: its own forked
          // worker with --expose-gc, one file at a time, nothing else allocating beside it.
          name: 'memory',
          environment: 'node',
          include: ['test/memory/**/*.test.ts'],
          pool: 'forks',
          execArgv: ['--expose-gc'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One browser at a time: these machines have two cores.
          fileParallelism: false,
        },
      },
    ],
  },
}));
