// Child process: a bare `ws` echo server on 127.0.0.1, port 0. Text stays text, binary stays binary,
// and the heartbeat ping `__ping__` is answered with `__pong__`, like the dev server does, so the
// tether-ws heartbeat has an answer. Every path is this raw echo, except `/reliable`: the same echo
// through the project's `tether.v1` adapter (dist/adapter, built by `npm run build`), for the
// exactly-once client; only there is `tether.v1` selected. Prints {"port":N} when listening;
// SIGTERM stops it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';

const PING = '__ping__';
const RELIABLE_PATH = '/reliable';
const adapterEntry = resolve(import.meta.dirname, '../dist/adapter/index.js');
if (!existsSync(adapterEntry)) {
  console.error(`${adapterEntry} is missing: run \`npm run build\` first (npm run bench does).`);
  process.exit(1);
}
const { createTetherServer, handleProtocols } = await import(pathToFileURL(adapterEntry).href);

const isReliable = (req) => new URL(req.url ?? '/', 'http://x').pathname === RELIABLE_PATH;

// The adapter's defaults, except the per-session buffer limits: a throughput burst of 100,000
// messages can have more than the default 10,000 echoes unacknowledged in flight at once.
const tether = createTetherServer({ maxBufferedMessages: Number.POSITIVE_INFINITY });
tether.on('session', (session) => {
  session.on('message', (data) => session.send(data));
});

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  // `/reliable`: tether.v1 if offered. Elsewhere ws's own default, the first offered subprotocol.
  handleProtocols: (protocols, req) =>
    isReliable(req) ? handleProtocols(protocols, req) : (protocols.values().next().value ?? false),
});

wss.on('connection', (socket, req) => {
  socket.on('error', () => {});
  if (isReliable(req)) {
    tether.handle(socket, req);
    return;
  }
  socket.on('message', (data, isBinary) => {
    if (!isBinary && data.length === PING.length && data.toString() === PING) socket.send('__pong__');
    else socket.send(data, { binary: isBinary });
  });
});

wss.on('listening', () => console.log(JSON.stringify({ port: wss.address().port })));
process.on('SIGTERM', () => {
  tether.close();
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
