// `npm run soak`: the dev server under a steady load, then a stepped ramp. Not part of `npm test`.
//
// 1. Soak: 1,000 WebSocketClient instances (the built client, Node `ws` underneath, heartbeat on)
//    each send one numbered message a second for 60 s to the dev server, a separate process, over
//    loopback. Reported: connections held, messages lost, p50/p99 echo latency, server memory per
//    connection (RSS delta from /healthz divided by the connections).
// 2. Ramp: 2,000, 4,000, 8,000, 16,000 clients, 15 s each at the same rate, stopping at the first step whose
//    p99 exceeds P99_LIMIT_MS or that loses connections or messages. The last good step is "the
//    largest number held before latency degrades".
//
// The load generator runs in this one process and shares the machine's cores with the server, so
// on a small machine the figures are a floor for the server, not a ceiling. Bounded: about 3 minutes
// (under 4 when every ramp step is reached).
// Needs `npm run build` first. File descriptors: each client uses one here
// and one in the server, so the 16,000 step needs `ulimit -n` above about 16,500 in both. The server
// child raises its soft limit to the hard one; if a step reports connect failures, raise this
// shell's (`ulimit -n 20000`) before `npm run soak`. Environment: SOAK_CLIENTS, SOAK_SECONDS,
// SOAK_RAMP (comma-separated), SOAK_RAMP_SECONDS, SOAK_P99_LIMIT_MS.
// Every line it prints is also written to bench/soak-results.md, the one place the docs point at for
// these figures (with the settings of the run).
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import WS from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const serverEntry = `${root}dist/server/main.js`;
const clientEntry = `${root}dist/tether-ws.js`;
const SOAK_CLIENTS = Number(process.env.SOAK_CLIENTS ?? 1000);
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const RAMP = (process.env.SOAK_RAMP ?? '2000,4000,8000,16000').split(',').map(Number);
const RAMP_SECONDS = Number(process.env.SOAK_RAMP_SECONDS ?? 15);
const P99_LIMIT_MS = Number(process.env.SOAK_P99_LIMIT_MS ?? 100);
const CONNECT_BATCH = 200;
const RESULTS_FILE = `${root}bench/soak-results.md`;
const reported = [];
/** Prints a result line and keeps it for RESULTS_FILE. */
function report(line) {
  console.log(line);
  reported.push(line);
}

for (const file of [serverEntry, clientEntry]) {
  if (!existsSync(file)) {
    console.error(`Missing ${file}: run \`npm run build\` first.`);
    process.exit(1);
  }
}
const { WebSocketClient } = await import(clientEntry);

/** The measurement window the message handlers write into (undefined between windows). */
let sample;

const server = await startServer();
const base = `127.0.0.1:${server.port}`;
const clients = [];
let stopping = false;
process.on('exit', () => server.child.kill('SIGKILL'));

try {
  const baseline = await health();
  report(
    `tether-ws soak, ${new Date().toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`,
  );
  report(`server RSS before any connection: ${mib(baseline.memory.rss)}`);

  await grow(SOAK_CLIENTS);
  const connected = await health();
  const perConnection = (connected.memory.rss - baseline.memory.rss) / connected.connections;
  report(
    `\n${connected.connections} connected; server RSS ${mib(connected.memory.rss)}, ` +
      `${(perConnection / 1024).toFixed(1)} KiB per connection`,
  );
  const soak = await measure(SOAK_SECONDS);
  const after = await health();
  report(
    `soak: ${SOAK_CLIENTS} clients × 1 msg/s × ${SOAK_SECONDS} s: held ${soak.held}/${SOAK_CLIENTS}, ` +
      `sent ${soak.sent}, echoed ${soak.echoed}, lost ${soak.lost}, closes ${soak.closes}, ` +
      `p50 ${soak.p50.toFixed(1)} ms, p99 ${soak.p99.toFixed(1)} ms, max ${soak.max.toFixed(1)} ms; ` +
      `server RSS ${mib(after.memory.rss)}, heartbeat refusals ${after.refusals['heartbeat-timeout']}`,
  );

  let largestGood =
    soak.p99 <= P99_LIMIT_MS && soak.lost === 0 && soak.held === SOAK_CLIENTS ? SOAK_CLIENTS : 0;
  for (const target of RAMP) {
    const started = performance.now();
    const failed = await grow(target);
    const step = await measure(RAMP_SECONDS);
    const h = await health();
    const ok = failed === 0 && step.lost === 0 && step.held === target && step.p99 <= P99_LIMIT_MS;
    report(
      `ramp ${target}: connect failures ${failed}, held ${step.held}, lost ${step.lost}, ` +
        `p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, server RSS ${mib(h.memory.rss)} ` +
        `(${((h.memory.rss - baseline.memory.rss) / h.connections / 1024).toFixed(1)} KiB/conn), ` +
        `step took ${((performance.now() - started) / 1000).toFixed(0)} s: ${ok ? 'ok' : 'DEGRADED'}`,
    );
    if (!ok) break;
    largestGood = target;
  }
  report(
    `\nlargest step held with p99 ≤ ${P99_LIMIT_MS} ms and nothing lost: ${largestGood || 'none'} connections`,
  );
  writeFileSync(
    RESULTS_FILE,
    `# tether-ws soak results\n\nWritten by \`npm run soak\` (scripts/soak.mjs, which says what it measures); settings: ` +
      `${SOAK_CLIENTS} clients for ${SOAK_SECONDS} s, ramp ${RAMP.join(', ')} at ${RAMP_SECONDS} s per step, ` +
      `p99 limit ${P99_LIMIT_MS} ms.\n\n\`\`\`\n${reported.join('\n').trim()}\n\`\`\`\n`,
  );
  console.log(`wrote ${RESULTS_FILE}`);
} finally {
  stopping = true;
  for (const entry of clients) clearInterval(entry.timer);
  await Promise.all(clients.map(({ client }) => client.close().catch(() => undefined)));
  server.child.kill('SIGTERM');
}

/** Adds clients until there are `target`, in batches; resolves with the number that failed to open. */
async function grow(target) {
  let failed = 0;
  while (clients.length < target) {
    const batch = [];
    for (let i = 0; i < CONNECT_BATCH && clients.length < target; i++) batch.push(addClient(clients.length));
    const results = await Promise.allSettled(batch);
    failed += results.filter((result) => result.status === 'rejected').length;
  }
  return failed;
}

async function addClient(id) {
  const client = new WebSocketClient(`ws://${base}/`, {
    WebSocket: WS,
    heartbeat: true,
    reconnect: { minDelay: 500, maxDelay: 5000 },
  });
  const entry = { id, client, seq: 0, pending: new Map(), timer: undefined, closes: 0 };
  client.on('message', (text) => {
    const seq = Number(text.slice(text.indexOf(':') + 1));
    const sentAt = entry.pending.get(seq);
    if (sentAt === undefined) return;
    entry.pending.delete(seq);
    sample?.latencies.push(performance.now() - sentAt);
    if (sample) sample.echoed += 1;
  });
  client.on('close', () => {
    if (!stopping) entry.closes += 1;
  });
  client.on('error', () => {});
  clients.push(entry);
  await client.open();
  // Spread the sends over the second, so the load is steady rather than 1,000 messages at once.
  setTimeout(() => {
    entry.timer = setInterval(() => {
      if (!sample?.sending) return;
      entry.seq += 1;
      entry.pending.set(entry.seq, performance.now());
      sample.sent += 1;
      client.send(`${id}:${entry.seq}`);
    }, 1000);
  }, Math.random() * 1000).unref();
}

async function measure(seconds) {
  for (const entry of clients) entry.pending.clear();
  const closesBefore = clients.reduce((sum, entry) => sum + entry.closes, 0);
  const current = { sending: true, sent: 0, echoed: 0, latencies: [] };
  sample = current;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  // No new messages; echoes of the last second still count. What is not back within 2 s is lost.
  current.sending = false;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  sample = undefined;
  const sorted = current.latencies.sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  for (const entry of clients) entry.pending.clear();
  return {
    sent: current.sent,
    echoed: current.echoed,
    lost: current.sent - current.echoed,
    held: clients.filter(({ client }) => client.state === 'open').length,
    closes: clients.reduce((sum, entry) => sum + entry.closes, 0) - closesBefore,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

async function health() {
  return (await fetch(`http://${base}/healthz`)).json();
}

function mib(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

async function startServer() {
  // The server's file-descriptor limit is raised as far as the hard limit allows.
  const child = spawn(
    '/bin/bash',
    ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$1"', process.execPath, serverEntry],
    {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG: 'quiet',
        MAX_CONNECTIONS: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /Listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening`)));
  });
  return { child, port };
}
