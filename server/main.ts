// Entry point of the dev server (`npm start`): the only module with side effects. It reads the
// environment, listens, prints the URL, and shuts down cleanly on SIGINT / SIGTERM.
import { createClient } from 'redis';
import { createRedisStore } from 'tether-ws/server/redis';
import { createServer } from './app.js';
import { loadConfig, type ServerConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger, errorMessage, type LogFields } from './logger.js';

let config: ServerConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.logFormat);
// Every other setting read from the environment is a createServer() option of the same name.
const { logFormat, redisUrl, ...settings } = config;
// REDIS_URL: `/reliable` keeps its sessions in Redis, so any server behind the same load balancer
// resumes any session. Commands fail at once while Redis is unreachable (no offline queue): the
// adapter then closes with 1011/1013 and clients retry, instead of waiting on a queue.
const redis = redisUrl === undefined ? undefined : createClient({ url: redisUrl, disableOfflineQueue: true });
redis?.on('error', (error: unknown) => logger.error(`[redis] ${errorMessage(error)}`));
if (redis) {
  try {
    await redis.connect();
  } catch (error) {
    console.error(`Cannot connect to REDIS_URL: ${errorMessage(error)}`);
    process.exit(1);
  }
}
const tetherStore = redis ? createRedisStore({ client: redis }) : undefined;
const server = createServer({ ...settings, logger, tetherStore });

/**
 * The server's own lifecycle lines: plain on stdout for people (and the tests that look for
 * "Listening on"), or a JSON record like every other line with LOG_FORMAT=json.
 */
function announce(line: string, fields: LogFields): void {
  if (config.logFormat === 'json') logger.info(line, fields);
  else console.log(line);
}

try {
  const { url } = await server.listen();
  announce(`Listening on ${url}`, { event: 'listening', url });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code === 'EADDRINUSE') {
    console.error(
      'Another process uses that port: stop it, or choose another port, e.g. PORT=3001 npm start.',
    );
  }
  process.exit(1);
}

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) {
    // A second Ctrl-C means "now": do not make the person wait for the shutdown timeout.
    console.error(`${signal} again: exiting without waiting.`);
    process.exit(1);
  }
  stopping = true;
  announce(`${signal} received: closing connections (1001) and shutting down.`, {
    event: 'shutdown',
    signal,
  });
  server
    .close()
    .then(() => redis?.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
