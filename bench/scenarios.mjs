// The bench's side of the browser measurements: which URL each page gets, and for the fault
// scenarios, when the fault proxy (test/helpers/fault-proxy.ts) breaks and repairs the connection.
// Every call opens a fresh page (in a fresh browser context) for one library and closes it after.
import { FAULTS } from './config.mjs';

const epoch = () => performance.timeOrigin + performance.now();
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `test` for `library` in a fresh page; `onNote(note, reply)` handles the page's notes. */
async function inFreshPage(env, library, test, params, onNote) {
  const { url, channel } = env.control.expectPage({
    lib: library.name,
    adapter: library.adapter ?? library.name,
    bundle: library.bundle ?? library.name,
  });
  const page = await env.browser.openPage(url);
  try {
    const control = await channel;
    const run = () => control.run(test, { settings: library.settings, ...params }, onNote);
    if (env.profile?.(library, test)) {
      const { result, profile } = await env.browser.profile(page, run);
      env.saveProfile(library, test, profile);
      return result;
    }
    return await run();
  } finally {
    await bounded(page.close(), 'closing the page');
  }
}

/** Cleanup must not hang a run: give up on it (with a warning) after 10 s. */
async function bounded(promise, what) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), 10_000);
  });
  if ((await Promise.race([promise, late])) === 'late')
    console.warn(`[bench] ${what} took over 10 s; going on`);
  clearTimeout(timer);
}

/** A fresh fault proxy in front of the echo server, closed after `use(proxy)`. */
async function withProxy(env, use) {
  const proxy = await env.createFaultProxy({ target: { host: '127.0.0.1', port: env.echoPort } });
  try {
    return await use(proxy);
  } finally {
    await bounded(proxy.close(), 'closing the fault proxy');
  }
}

export function throughput(env, library, size) {
  return inFreshPage(env, library, 'throughput', {
    url: env.echoUrl(library),
    messages: size.throughputMessages,
    timeoutMs: 60_000,
  });
}

export function latency(env, library, size) {
  return inFreshPage(env, library, 'latency', {
    url: env.echoUrl(library),
    warmup: size.latencyWarmup,
    roundTrips: size.latencyRoundTrips,
  });
}

/** Offline burst: the proxy refuses until the page has sent everything, and `offlineHoldMs` more. */
export function offline(env, library, size) {
  return withProxy(env, (proxy) => {
    proxy.refuse(true);
    return inFreshPage(
      env,
      library,
      'offline',
      { url: proxy.url(library.path ?? '/'), messages: size.offlineMessages, drainMs: size.offlineDrainMs },
      async (note, reply) => {
        if (note.name !== 'sent') return;
        await wait(FAULTS.offlineHoldMs);
        proxy.refuse(false);
        reply({ type: 'lifted', t: epoch() });
      },
    );
  });
}

const streamParams = (proxy, library) => ({
  url: proxy.url(library.path ?? '/'),
  intervalMs: FAULTS.sendIntervalMs,
  tailMs: FAULTS.tailMs,
  drainMs: FAULTS.drainMs,
  reopenGraceMs: 1_000,
  capacity: 10_000,
});

/** Reconnect: every connection is reset (TCP RST, like a server crash) and new ones are refused for `refuseMs`. */
export function reconnect(env, library) {
  return withProxy(env, (proxy) =>
    inFreshPage(env, library, 'stream', streamParams(proxy, library), async (note, reply) => {
      if (note.name !== 'streaming') return;
      await wait(FAULTS.leadMs);
      proxy.refuse(true);
      proxy.resetAll();
      reply({ type: 'fault', t: epoch() });
      await wait(FAULTS.refuseMs);
      proxy.refuse(false);
      reply({ type: 'lifted', t: epoch(), reason: 'refusal over' });
    }),
  );
}

/**
 * Half-open: the proxy stops forwarding both ways without closing anything. The hole stays until a
 * new connection arrives (the client noticed and reconnects: from then on the old connection is
 * abandoned, as with a NAT that forgot the flow) or `size.halfOpenMaxMs` passes (nobody noticed: the old
 * connection carries on, minus what fell into the hole).
 */
export function halfOpen(env, library, size) {
  return withProxy(env, (proxy) =>
    inFreshPage(env, library, 'stream', streamParams(proxy, library), async (note, reply) => {
      if (note.name !== 'streaming') return;
      await wait(FAULTS.leadMs);
      proxy.blackhole(true);
      reply({ type: 'fault', t: epoch() });
      const reason = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve('deadline'), size.halfOpenMaxMs);
        proxy.once('accept', () => {
          clearTimeout(timer);
          resolve('new connection');
        });
      });
      proxy.blackhole(false);
      reply({ type: 'lifted', t: epoch(), reason });
    }),
  );
}

/** The browser measurements, in order, and how many rounds each gets from the run size. */
export const BROWSER_MEASUREMENTS = [
  { key: 'throughput', run: throughput, rounds: (size) => size.rounds },
  { key: 'latency', run: latency, rounds: (size) => size.latencyRounds },
  { key: 'offline', run: offline, rounds: (size) => size.faultRounds },
  { key: 'reconnect', run: reconnect, rounds: (size) => size.faultRounds },
  { key: 'halfOpen', run: halfOpen, rounds: (size) => size.faultRounds },
];
