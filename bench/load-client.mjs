// Child process: the load generator of the server measurement. Opens CLIENTS `ws` connections to
// PORT (in batches, so the listen backlog is not overrun), lets each keep WINDOW messages of BYTES
// bytes in flight (a new one goes out for every echo), and counts echoes for DURATION ms after a
// short warm-up. Prints {"messagesPerSecond": n, "clients": c, "closed": k} and exits, where
// `closed` counts connections the server closed or that failed during the run (0 when healthy).
//   node bench/load-client.mjs PORT CLIENTS WINDOW BYTES DURATION
import WebSocket from 'ws';

const [port, clients, window, bytes, duration] = process.argv.slice(2).map(Number);
const WARMUP_MS = Math.min(500, duration / 2);
const BATCH = 100;
const payload = 'x'.repeat(bytes);
let counting = false;
let echoes = 0;
let closed = 0;

function connect() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

const sockets = [];
for (let i = 0; i < clients; i += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, clients - i) }, connect);
  sockets.push(...(await Promise.all(batch)));
}
for (const socket of sockets) {
  socket.on('error', () => {});
  socket.on('close', () => {
    closed += 1;
  });
  socket.on('message', () => {
    if (counting) echoes += 1;
    socket.send(payload);
  });
  for (let i = 0; i < window; i++) socket.send(payload);
}
await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
counting = true;
const start = performance.now();
await new Promise((resolve) => setTimeout(resolve, duration));
counting = false;
const elapsed = performance.now() - start;
console.log(JSON.stringify({ messagesPerSecond: (echoes / elapsed) * 1000, clients, closed }));
for (const socket of sockets) {
  socket.removeAllListeners('close');
  socket.terminate();
}
process.exit(0);
