// Child process of `npm run bench:store`: one tether-ws server node. A `ws` server on 127.0.0.1,
// port 0, handing every connection to the adapter (dist/adapter, built by `npm run build`), which
// echoes each client message back as a server message (a reply sent from the message handler: the
// transactional outbox's case). The store is the default memory store, or Redis at REDIS_URL.
// Prints {"port":N} when listening; SIGTERM closes it.
//   node bench/store-node.mjs [REDIS_URL]
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient } from 'redis';
import { WebSocketServer } from 'ws';

const dist = resolve(import.meta.dirname, '../dist/adapter');
if (!existsSync(`${dist}/index.js`)) {
  console.error(`${dist} is missing: run \`npm run build\` first (npm run bench:store does).`);
  process.exit(1);
}
const { createTetherServer, handleProtocols } = await import(pathToFileURL(`${dist}/index.js`).href);
const { createRedisStore } = await import(pathToFileURL(`${dist}/redis/index.js`).href);

const [redisUrl] = process.argv.slice(2);
const redis = redisUrl
  ? await createClient({ url: redisUrl, disableOfflineQueue: true }).connect()
  : undefined;
// The per-address session rate is for abusive clients; the load generator opens its sessions at once.
const tether = createTetherServer({
  sessionRate: 0,
  store: redis ? createRedisStore({ client: redis }) : undefined,
});
tether.on('session', (session) => session.on('message', (data) => session.send(data)));
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols, perMessageDeflate: false });
wss.on('connection', (socket, request) => tether.handle(socket, request));
await new Promise((done) => wss.once('listening', done));
console.log(JSON.stringify({ port: wss.address().port }));
process.on('SIGTERM', () => {
  tether.close();
  wss.close(() => {
    redis?.destroy();
    process.exit(0);
  });
});
