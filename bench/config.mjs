// What the bench measures, how much of it, and how each library is configured. Everything a
// reader needs to judge fairness is in this one file: the settings below are printed in results.md.

/** Run sizes. `--quick` is a smoke run of about 2 minutes (written under results/quick/); the full run stays under ten minutes on 2 cores. */
export const PROFILES = {
  full: {
    rounds: 5, // throughput: rounds of A B C ..., each library in a fresh page
    latencyRounds: 9, // latency rounds are cheap, and a p50 of ~100 µs on a shared machine is noisy
    faultRounds: 3, // offline burst, reconnect, half-open (each takes seconds of wall time)
    throughputMessages: 100_000,
    latencyWarmup: 200,
    latencyRoundTrips: 2_000,
    offlineMessages: 10_000,
    serverRounds: 2,
    serverDurationMs: 2_000,
    halfOpenMaxMs: 4_000, // the black hole ends after this if no client reconnected (see FAULTS)
    offlineDrainMs: 3_000, // offline burst: echoes still missing this long after the server is back are lost
  },
  quick: {
    rounds: 1,
    latencyRounds: 1,
    faultRounds: 1,
    throughputMessages: 20_000,
    latencyWarmup: 50,
    latencyRoundTrips: 500,
    offlineMessages: 2_000,
    serverRounds: 1,
    serverDurationMs: 700,
    halfOpenMaxMs: 2_500,
    offlineDrainMs: 1_500,
  },
};

/** Timings of the fault scenarios, in ms; the same for every library. */
export const FAULTS = {
  /** Gap between two messages while a page "keeps sending" (reconnect, half-open). */
  sendIntervalMs: 5,
  /** Steady sending before the fault is applied. */
  leadMs: 300,
  /** Offline burst: how long the server stays unreachable after the burst was sent. */
  offlineHoldMs: 300,
  /** Reconnect: how long new connections are refused after every connection was reset. */
  refuseMs: 1_000,
  // Half-open: the black hole ends when a new connection arrives (a client noticed), or after
  // `halfOpenMaxMs` of the run size (PROFILES), which must exceed tether-ws's interval + timeout.
  /** Sending goes on this long after the client is open again (or after the fault ends). */
  tailMs: 300,
  /** After sending stops, echoes still missing after this long are counted lost. */
  drainMs: 1_000,
};

/** Shortest comparable reconnect: a constant 100 ms retry delay with no jitter, and a 2 s connect timeout where one exists. */
const RETRY_MS = 100;
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * The contenders, in the order of every round (the order rotates by one each round). `module` is
 * the entry bundled for the page and measured for size (`defaultExport`: it has one, re-export it too); `settings` is passed as is to the adapter
 * in page/adapters.js; `lacks` lists what it does not have compared with tether-ws. `adapter`
 * (optional): another library's adapter that drives it; `path`: the echo server's path it talks to
 * (default `/`). A variant of another entry may have no `module` but `bundle`: whose bundle the
 * page loads (it then has no size of its own).
 */
/** tether-ws's settings, shared by its best-effort and exactly-once entries. */
const TETHER_SETTINGS = {
  reconnect: { minDelay: RETRY_MS, maxDelay: RETRY_MS, jitter: 0 },
  connectTimeout: CONNECT_TIMEOUT_MS,
  heartbeat: { interval: 1_000, timeout: 1_000 },
};

/** reconnecting-websocket's options, which partysocket/ws shares (it is a fork). */
const RECONNECTING_WEBSOCKET_SETTINGS = {
  minReconnectionDelay: RETRY_MS,
  maxReconnectionDelay: RETRY_MS,
  reconnectionDelayGrowFactor: 1,
  connectionTimeout: CONNECT_TIMEOUT_MS,
};

export const LIBRARIES = [
  {
    name: 'raw',
    label: 'raw WebSocket',
    module: undefined,
    settings: {},
    settingsText: 'the browser `WebSocket`, no wrapper; never reconnects',
    lacks: 'everything: no reconnect, no queue',
  },
  {
    name: 'tether-ws',
    label: 'tether-ws',
    module: '../client/index.ts',
    settings: TETHER_SETTINGS,
    settingsText:
      '`reconnect: { minDelay: 100, maxDelay: 100, jitter: 0 }, connectTimeout: 2000, heartbeat: { interval: 1000, timeout: 1000 }`; queue and `highWaterMark` (1 MiB) default',
    lacks: '',
  },
  {
    // tether-ws's adapter against the echo server's tether.v1 endpoint, with a bundle of its own:
    // exactly-once is an opt-in entry (client/exactly-once/), not part of tether-ws's bundle.
    // client/umd.ts re-exports the core and that entry, which bundle into one file as they would in
    // a page importing both. Settings are JSON (they reach the page over the control channel), so
    // `exactlyOnce` holds the options of `exactlyOnce()`, which the adapter turns into `delivery`.
    name: 'tether-ws-exactly-once',
    label: 'tether-ws exactly-once',
    module: '../client/umd.ts',
    adapter: 'tether-ws',
    path: '/reliable',
    settings: { ...TETHER_SETTINGS, exactlyOnce: {} },
    settingsText:
      "the settings of tether-ws plus `delivery: exactlyOnce()` (from `tether-ws/exactly-once`, defaults: `resumeWindow: 60000, fallback: 'fail'`), against the echo server's `/reliable` path (the `tether-ws/server` adapter from `dist/adapter`, defaults except `maxBufferedMessages: Infinity`); its bundle is the core and the exactly-once entry together (`client/umd.ts`, every export of both)",
    lacks: '',
  },
  {
    name: 'reconnecting-websocket',
    label: 'reconnecting-websocket',
    module: 'reconnecting-websocket',
    defaultExport: true,
    settings: RECONNECTING_WEBSOCKET_SETTINGS,
    settingsText:
      '`{ minReconnectionDelay: 100, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, connectionTimeout: 2000 }`; `maxEnqueuedMessages` default (Infinity)',
    lacks: 'heartbeat, jitter, backpressure, drop events (a full queue drops silently), typed events',
  },
  {
    name: 'partysocket',
    label: 'partysocket (/ws)',
    module: 'partysocket/ws',
    defaultExport: true,
    settings: RECONNECTING_WEBSOCKET_SETTINGS,
    settingsText:
      '`partysocket/ws` with `{ minReconnectionDelay: 100, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1, connectionTimeout: 2000 }`',
    lacks: 'heartbeat, jitter, backpressure, drop events (a full queue drops silently)',
  },
  {
    name: 'sockette',
    label: 'sockette',
    module: 'sockette',
    defaultExport: true,
    settings: { timeout: RETRY_MS },
    settingsText: '`{ timeout: 100 }` (its only delay; no connect timeout)',
    lacks:
      'offline queue (send throws while connecting, is lost while closed), backoff, connect timeout, heartbeat',
  },
  {
    name: 'websocket-ts',
    label: 'websocket-ts',
    module: 'websocket-ts',
    settings: { backoffMs: RETRY_MS },
    settingsText:
      '`new WebsocketBuilder(url).withBackoff(new ConstantBackoff(100)).withBuffer(new ArrayQueue())`',
    lacks: 'heartbeat, connect timeout, backpressure, drop events',
  },
];

/** Concurrent Node clients for the server measurement, and messages each keeps in flight. */
export const SERVER_LOAD = { clients: [1, 100, 1_000], window: 8, messageBytes: 64 };
