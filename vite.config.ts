import { defineConfig } from 'vitest/config';

// One config for the library build and the test runner.
// The build emits dist/tether-ws.js (ESM) and dist/tether-ws.umd.js (UMD, global `TetherWS`),
// both minified: Vite's `build.minify` leaves the ES output pretty-printed, so minification is
// asked of rolldown's output directly (see ../shared/TOOLCHAIN.md).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: 'client/index.ts',
      name: 'TetherWS',
      formats: ['es', 'umd'],
      fileName: (format) => (format === 'es' ? 'tether-ws.js' : 'tether-ws.umd.js'),
    },
    rolldownOptions: {
      output: { minify: true },
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
          include: ['test/integration/**/*.test.ts', 'test/server/**/*.test.ts', 'test/faults/**/*.test.ts'],
          testTimeout: 30_000,
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
});
