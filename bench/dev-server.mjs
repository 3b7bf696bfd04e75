// Child process: the project's dev server (server/app.ts, compiled by `npm run build`) on
// 127.0.0.1, port 0, with the activity log off (`quiet`) and the per-connection limits off
// (`messageRate: 0`, `maxConnections: 0`): a load generator is not an abusive client, and with the
// default 200 messages/s per connection the measurement would be of the rate limiter.
// Prints {"port":N} when listening; SIGTERM closes it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = resolve(import.meta.dirname, '../dist/server/app.js');
if (!existsSync(entry)) {
  console.error(`${entry} is missing: run \`npm run build\` first (npm run bench does).`);
  process.exit(1);
}
const { createServer } = await import(pathToFileURL(entry).href);
const server = createServer({
  port: 0,
  host: '127.0.0.1',
  quiet: true,
  messageRate: 0,
  maxConnections: 0,
});
const { url } = await server.listen();
console.log(JSON.stringify({ port: Number(new URL(url).port) }));
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
