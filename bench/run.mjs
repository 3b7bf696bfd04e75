// `npm run bench [-- [--quick] [--profile] [--only=throughput,latency,...] [--libs=raw,tether-ws]
//   [--rounds=N] [--merge]]` (flags after one `--`; bench/README.md says what each does)
// `--merge`: the measurements (and libraries) of this run replace theirs in the last results/raw.json,
// everything else is kept, and results.md says which parts were rerun when: for rerunning a
// scenario that other processes disturbed without repeating the whole run.
// Runs every measurement in one process tree: library bundles (size), a bare `ws` echo server in a
// child process, Chromium pages driven over a control channel (throughput, latency, offline burst,
// reconnect, half-open), then the server load test. A full run writes bench/results.md and
// bench/results.svg (the committed record the docs cite), the raw samples to bench/results/raw.json and
// CPU profiles (with --profile) next to them. A `--quick` run is a smoke test whose figures are not
// for comparison, so it writes the same three files under bench/results/quick/ (git-ignored) and
// never replaces the record.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { launchChromium } from './browser.mjs';
import { bundleLibraries, exactlyOnceEntrySizes } from './bundle.mjs';
import { renderChart } from './chart.mjs';
import { FAULTS, LIBRARIES, PROFILES, SERVER_LOAD } from './config.mjs';
import { startControlServer } from './control.mjs';
import { loadTestHelpers } from './helpers.mjs';
import { startChild, stopChild } from './processes.mjs';
import { hottestFunctions } from './profile.mjs';
import { renderReport } from './report.mjs';
import { BROWSER_MEASUREMENTS } from './scenarios.mjs';
import { measureServers } from './server-load.mjs';

const BENCH_DIR = import.meta.dirname;
const RESULTS_DIR = join(BENCH_DIR, 'results');
const BUILD_DIR = join(RESULTS_DIR, 'build');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const merging = args.includes('--merge');
const profiling = args.includes('--profile');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const wanted = (key) => !only || only.includes(key);
const libs = args
  .find((a) => a.startsWith('--libs='))
  ?.slice('--libs='.length)
  .split(',');
const LIBS = libs ? LIBRARIES.filter((l) => libs.includes(l.name)) : LIBRARIES;
const roundsArg = Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length));
const size = { ...PROFILES[quick ? 'quick' : 'full'] };
/** Where this run's report, chart and raw samples go (see the top of this file). */
const OUT = quick
  ? { report: join(RESULTS_DIR, 'quick'), raw: join(RESULTS_DIR, 'quick') }
  : { report: BENCH_DIR, raw: RESULTS_DIR };
if (roundsArg > 0)
  Object.assign(size, { rounds: roundsArg, latencyRounds: roundsArg, faultRounds: roundsArg });
const started = performance.now();
const log = (line) => console.log(`[bench ${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);

/** Round r starts with library r: every library takes every position, so drift hits all alike. */
const rotated = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

/**
 * Starts the echo server, the control server and Chromium, runs every wanted browser measurement,
 * and stops whatever it started, newest first, also when a start or a measurement fails (a bench
 * that cannot find Chromium must not leave the echo server running).
 */
async function runBrowserMeasurements(helpers) {
  const stops = [];
  try {
    const { child: echo, message } = await startChild('echo-server.mjs');
    stops.push(() => stopChild(echo));
    const control = await startControlServer({ pageDir: join(BENCH_DIR, 'page'), buildDir: BUILD_DIR });
    stops.push(() => control.close());
    const browser = await launchChromium(helpers);
    stops.push(() => browser.close());
    log(`Chromium ${browser.version}, echo server on port ${message.port} (pid ${echo.pid})`);
    const env = {
      browser,
      control,
      echoPort: message.port,
      /** The echo server's URL for `library`: its `path`, `/` by default. */
      echoUrl: (library) => `ws://127.0.0.1:${message.port}${library.path ?? '/'}`,
      createFaultProxy: helpers.createFaultProxy,
      ...profilingHooks(),
    };
    return { results: await measureInBrowser(env), chromium: browser.version };
  } finally {
    await stopAll(stops);
  }
}

/** Calls every function of `stops`, newest first, each even if one before it threw; then rethrows. */
async function stopAll(stops) {
  let failure;
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
}

/** With --profile: the first throughput and latency pages of tether-ws (both modes) and of the raw WebSocket. */
function profilingHooks() {
  const profiled = new Set();
  return {
    profile: (library, test) =>
      profiling &&
      ['throughput', 'latency'].includes(test) &&
      ['raw', 'tether-ws', 'tether-ws-exactly-once'].includes(library.name) &&
      !profiled.has(`${test}-${library.name}`),
    saveProfile(library, test, profile) {
      profiled.add(`${test}-${library.name}`);
      const file = join(RESULTS_DIR, `${test}-${library.name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      log(`CPU profile of ${library.name} ${test}: ${file}`);
      for (const f of hottestFunctions(profile, 12)) {
        log(
          `  ${(f.share * 100).toFixed(1).padStart(5)} %  ${f.selfMs.toFixed(1).padStart(7)} ms  ${f.functionName} ${f.url}:${f.line}`,
        );
      }
    },
  };
}

/** Every wanted browser measurement, its rounds interleaving the libraries; a failed page is recorded as `{ error }`. */
async function measureInBrowser(env) {
  const results = {};
  for (const measurement of BROWSER_MEASUREMENTS) {
    if (!wanted(measurement.key)) continue;
    const rounds = measurement.rounds(size);
    results[measurement.key] = Object.fromEntries(LIBS.map((l) => [l.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const library of rotated(LIBS, round)) {
        let result;
        try {
          result = await measurement.run(env, library, size);
        } catch (error) {
          result = { error: String(error?.message ?? error) };
        }
        results[measurement.key][library.name].push(result);
        log(`${measurement.key} round ${round + 1}/${rounds} ${library.name}: ${JSON.stringify(result)}`);
      }
    }
  }
  return results;
}

async function main() {
  mkdirSync(BUILD_DIR, { recursive: true });
  log(`${quick ? 'quick' : 'full'} run: bundling ${LIBRARIES.filter((l) => l.module).length} libraries`);
  let sizes;
  let exactlyOnce;
  try {
    sizes = await bundleLibraries(LIBRARIES, BUILD_DIR, { minify: !profiling });
    // The core entry, as shipped, is the tether-ws library's bundle (client/index.ts, every export).
    exactlyOnce = {
      bestEffort: sizes['tether-ws'],
      added: await exactlyOnceEntrySizes(BUILD_DIR, { minify: !profiling }),
    };
  } catch (error) {
    throw new Error(
      `Bundling failed (${error.message.split('\n')[0]}). The peer libraries are dev dependencies: run \`npm install\`.`,
    );
  }
  const helpers = await loadTestHelpers(join(BUILD_DIR, 'helpers'));
  const { results, chromium } = await runBrowserMeasurements(helpers);
  const server = wanted('server')
    ? await measureServers(SERVER_LOAD, { rounds: size.serverRounds, durationMs: size.serverDurationMs }, log)
    : undefined;
  const cpu = cpus();
  const run = {
    date: new Date().toISOString(),
    quick,
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, chromium },
    size,
    faults: FAULTS,
    serverLoad: SERVER_LOAD,
    libraries: LIBRARIES.map(({ name, label, settingsText, lacks, bundle }) => ({
      name,
      label,
      settingsText,
      lacks,
      bundle,
    })),
    sizes,
    exactlyOnceSizes: exactlyOnce,
    browser: results,
    server,
    seconds: (performance.now() - started) / 1000,
  };
  if (profiling) {
    // A profiled page runs slower: its figures must not become the published ones.
    writeFileSync(join(RESULTS_DIR, 'raw-profiled.json'), `${JSON.stringify(run, null, 2)}\n`);
    log('profiling run: results.md and results.svg left as they were');
    return;
  }
  const published = merging
    ? mergeInto(JSON.parse(readFileSync(join(OUT.raw, 'raw.json'), 'utf8')), run)
    : run;
  mkdirSync(OUT.report, { recursive: true });
  writeFileSync(join(OUT.raw, 'raw.json'), `${JSON.stringify(published, null, 2)}\n`);
  writeFileSync(join(OUT.report, 'results.md'), renderReport(published));
  writeFileSync(join(OUT.report, 'results.svg'), renderChart(published));
  const where = relative(process.cwd(), OUT.report) || '.';
  log(`wrote ${where}/results.md and ${where}/results.svg in ${run.seconds.toFixed(0)} s`);
}

/** `--merge`: `rerun`'s measurements replace `base`'s, per measurement and library; the rest stays. */
function mergeInto(base, rerun) {
  if (base.quick !== rerun.quick) throw new Error('--merge: the last run and this one differ in --quick');
  // Sizes and the libraries' settings texts are this run's: they describe the code measured now.
  const merged = { ...base, browser: { ...base.browser }, sizes: rerun.sizes, libraries: rerun.libraries };
  merged.exactlyOnceSizes = rerun.exactlyOnceSizes;
  for (const [key, byLibrary] of Object.entries(rerun.browser))
    merged.browser[key] = { ...base.browser[key], ...byLibrary };
  if (rerun.server) merged.server = rerun.server;
  merged.reruns = [
    ...(base.reruns ?? []),
    {
      date: rerun.date,
      seconds: rerun.seconds,
      measurements: [...Object.keys(rerun.browser), ...(rerun.server ? ['server'] : [])],
      libraries: LIBS.map((l) => l.name),
    },
  ];
  return merged;
}

// Exit explicitly: a fault proxy whose close() gave up (see scenarios.mjs `bounded`) can leave a
// TCP handle with a request that never completes, and Node 20 then spins at 100 % of a core in
// its exit-time handle cleanup (uv_run in Environment::CleanupHandles, seen with gdb) instead of
// exiting; process.exit() skips that cleanup.
main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
