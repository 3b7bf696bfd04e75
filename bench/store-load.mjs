// Child process of `npm run bench:store`: the load generator. Opens CLIENTS exactly-once clients
// (tether-ws's WebSocketClient with `delivery: exactlyOnce()`, from dist, on Node's `ws`), client i
// on PORTS[i % PORTS.length] (so three ports spread the sessions over three nodes, round robin,
// without a proxy in between). Each client keeps WINDOW messages in flight (a new one goes out for
// every echo) until it has sent TOTAL / CLIENTS; each message carries its number, and every echo is
// checked: exactly once and in order, or the run fails. Latency is from `send()` to the echo's
// `message` event. Prints one JSON line and exits:
// {"messages", "elapsedMs", "perSecond", "p50Ms", "p99Ms", "clients", "window"}.
//   node bench/store-load.mjs PORTS CLIENTS TOTAL WINDOW
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const dist = resolve(import.meta.dirname, '../dist');
const { WebSocketClient } = await import(pathToFileURL(`${dist}/tether-ws.js`).href);
const { exactlyOnce } = await import(pathToFileURL(`${dist}/exactly-once.js`).href);

const [portList, clientsArg, totalArg, windowArg] = process.argv.slice(2);
const ports = portList.split(',').map(Number);
const [clients, total, window] = [clientsArg, totalArg, windowArg].map(Number);
const perClient = Math.floor(total / clients);
const PAD = 'x'.repeat(32); // a 40-odd byte message, like a small JSON event

const latencies = new Float64Array(perClient * clients);
let recorded = 0;
let failure;

/** Opens client `index`; resolves with `go()`, which streams its share and resolves when all is echoed. */
async function open(index) {
  const client = new WebSocketClient(`ws://127.0.0.1:${ports[index % ports.length]}/`, {
    delivery: exactlyOnce(),
    WebSocket,
    watchNetwork: false,
  });
  const sentAt = new Float64Array(perClient);
  let sent = 0;
  let echoed = 0;
  let finished = false;
  let fail = () => {};
  let done = () => {};
  const sendNext = () => {
    sentAt[sent] = performance.now();
    client.send(`${sent}:${PAD}`);
    sent += 1;
  };
  // After the last echo, close() may report the last messages as not acknowledged yet: not a loss.
  client.on('session-lost', (report) => {
    if (!finished) fail(new Error(`client ${index}: session-lost ${report.reason}`));
  });
  client.on('message', (data) => {
    const text = String(data);
    const n = Number(text.slice(0, text.indexOf(':')));
    if (n !== echoed) {
      fail(new Error(`client ${index}: echo ${n} where ${echoed} was due (not exactly once in order)`));
      return;
    }
    latencies[recorded++] = performance.now() - sentAt[n];
    echoed += 1;
    if (sent < perClient) sendNext();
    if (echoed === perClient) {
      finished = true;
      done();
    }
  });
  await client.open();
  return {
    client,
    go: () =>
      new Promise((resolve, reject) => {
        done = resolve;
        fail = reject;
        for (let i = 0; i < Math.min(window, perClient); i++) sendNext();
      }),
  };
}

// Opened first, then measured: connecting and claiming sessions is not what is measured.
const opened = await Promise.all(Array.from({ length: clients }, (_, i) => open(i)));
const start = performance.now();
try {
  await Promise.all(opened.map(({ go }) => go()));
} catch (error) {
  failure = error;
}
const elapsedMs = performance.now() - start;
await Promise.all(opened.map(({ client }) => client.close()));
if (failure) {
  console.log(JSON.stringify({ error: String(failure.message ?? failure) }));
  process.exit(1);
}
const sorted = latencies.slice(0, recorded).sort();
const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(
  JSON.stringify({
    messages: recorded,
    elapsedMs,
    perSecond: (recorded / elapsedMs) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    clients,
    window,
  }),
);
process.exit(0);
