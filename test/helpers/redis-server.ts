/**
 * A private `redis-server` (Debian's package) for one test file: on 127.0.0.1, a free port and a
 * temporary directory, never the system service on 6379. Resolves once Redis printed "Ready to
 * accept connections"; stopped by its PID. `restart()` stops it and starts it again on the same
 * port and directory, so with `appendonly` on (every write fsynced) the data survives, as it would
 * for an operator who turned AOF on.
 *
 * In CI (`CI` set) a missing redis-server is an error, so a suite can't pass by being skipped;
 * locally it prints why it skips.
 *
 * @example
 * const redis = await startRedis({ appendonly: true });
 * afterAll(() => redis.stop());
 * const client = createClient({ url: redis.url });
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './next-event.js';
import { freePort } from './nginx.js';

const READY = 'Ready to accept connections';
const WAIT_MS = 10_000;

/** Path of the redis-server binary, or undefined when it is not installed. */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) =>
  existsSync(path),
);

/** Whether a Redis suite can run (see the file's comment). */
export function redisAvailable(suite: string): boolean {
  if (!REDIS_SERVER && process.env.CI) {
    throw new Error(`redis-server is required in CI for ${suite}: .ci/run installs it with apt-get.`);
  }
  if (!REDIS_SERVER) {
    console.warn(`[${suite}] skipped: redis-server not found (apt-get install redis-server to run it).`);
  }
  return REDIS_SERVER !== undefined;
}

export interface RedisServerOptions {
  /** AOF with `appendfsync always`: every acknowledged write is on disk before Redis answers. */
  readonly appendonly?: boolean;
  /** More redis-server arguments, e.g. cluster mode (./redis-cluster-server.ts). */
  readonly extraArgs?: readonly string[];
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The running process's PID (a new one after `restart()`). */
  readonly pid: number;
  /** Stops the server (SIGTERM, awaited) and starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** SIGKILLs the server and waits for it to exit (no shutdown save: only the AOF is left). */
  kill(): Promise<void>;
  /** Starts it again after `kill()`. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a private redis-server; see the file's comment. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-redis-'));
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', ''];
  args.push(
    ...(options.appendonly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.extraArgs ?? []),
  );
  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async () => {
    const started = spawn(REDIS_SERVER as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not print "${READY}" within ${WAIT_MS} ms: ${output}`)),
        WAIT_MS,
      );
      const onData = (chunk: string) => {
        output += chunk;
        if (output.includes(READY)) {
          clearTimeout(timer);
          started.stdout?.off('data', onData);
          started.stdout?.resume(); // keep draining, so a chatty Redis never blocks on a full pipe
          resolve();
        }
      };
      started.stdout?.setEncoding('utf8').on('data', onData);
      started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}) before it was ready: ${output}`));
      });
    });
  };

  const halt = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = waitFor(running, 'exit', { timeoutMs: WAIT_MS, label: `redis-server ${running.pid}` });
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    kill: () => halt('SIGKILL'),
    start: launch,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
