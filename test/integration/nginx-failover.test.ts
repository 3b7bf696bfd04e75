/**
 * Scale-out: nginx (deploy/nginx/nginx.conf) in front of two dev-server processes. Several clients
 * stream numbered messages through nginx; one server is stopped mid-stream; the clients must come
 * back through nginx to the other one with the client's guarantees:
 * - per client, the servers received its numbers in increasing order, with no duplicate;
 * - every message sent while the client could not write (send() returned false) arrived;
 * - messages written into a socket that then died are counted and printed (the documented loss).
 * What each server received is read from its own JSON log (LOG_FORMAT=json), not from the echoes.
 *
 * nginx is Debian's package. In CI (`CI` set) a missing nginx fails the suite; locally it is skipped
 * with a message saying how to install it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = join(root, 'dist/server/main.js');
const template = join(root, 'deploy/nginx/nginx.conf');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const WAIT_MS = 10_000;
const CLIENTS = 4;
const STEP_MS = 10;

if (!NGINX && process.env.CI) {
  throw new Error('nginx is required in CI for the failover test: .ci/run installs it with apt-get.');
}
if (!NGINX) {
  console.warn('[nginx-failover] skipped: nginx not found (apt-get install nginx to run it).');
}

interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Numbers received per client id, in arrival order, from the server's log. */
  received: Map<number, number[]>;
  exited: Promise<void>;
}

const children: ChildProcess[] = [];
let nginx: ChildProcess | undefined;
const streams: Array<{ client: WebSocketClient<string, string>; timer?: NodeJS.Timeout }> = [];
let prefix: string | undefined;

afterEach(async () => {
  for (const stream of streams) clearInterval(stream.timer);
  await Promise.all(streams.splice(0).map(({ client }) => client.close()));
  // nginx first and gracefully: a SIGKILLed master leaves its worker processes running, orphaned.
  if (nginx) await stopNginx(nginx);
  nginx = undefined;
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (prefix) await rm(prefix, { recursive: true, force: true });
  prefix = undefined;
});

beforeAll(async () => {
  if (!NGINX || existsSync(entry)) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.server.json'], { cwd: root });
}, 120_000);

/** Starts `node dist/server/main.js` on a free port, logging JSON, and parses what it receives. */
async function startServer(): Promise<ServerProcess> {
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const received = new Map<number, number[]>();
  let port: number | undefined;
  let pending = '';
  let stderr = '';
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const record = JSON.parse(line) as { msg: string; url?: string };
        if (record.url && port === undefined) {
          port = Number(new URL(record.url).port);
          resolve(port);
        }
        const match = /Data received: text, \d+ bytes: "c(\d+):(\d+)"/.exec(record.msg);
        if (!match) continue;
        const id = Number(match[1]);
        const list = received.get(id) ?? [];
        list.push(Number(match[2]));
        received.set(id, list);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, port: await listening, received, exited };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening', { timeoutMs: WAIT_MS, failOn: ['error'] });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

async function startNginx(upstreams: [number, number]): Promise<number> {
  prefix = await mkdtemp(join(tmpdir(), 'tether-nginx-'));
  const port = await freePort();
  const values: Record<string, string> = {
    TETHER_PREFIX: prefix,
    TETHER_LISTEN: `127.0.0.1:${port}`,
    TETHER_UPSTREAM_A: `127.0.0.1:${upstreams[0]}`,
    TETHER_UPSTREAM_B: `127.0.0.1:${upstreams[1]}`,
  };
  const conf = (await readFile(template, 'utf8')).replace(/\$\{(TETHER_\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`deploy/nginx/nginx.conf uses an unknown placeholder ${name}`);
    return value;
  });
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = spawn(NGINX as string, ['-e', 'stderr', '-p', prefix, '-c', confPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  nginx = child;
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // nginx prints nothing when it is ready: poll the proxied health check until it answers.
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, message: `nginx to answer on port ${port} (${stderr})` },
  );
  return port;
}

/** SIGTERM (fast shutdown: the master stops its workers, then exits), SIGKILL only if it hangs. */
async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = waitFor(child, 'exit', { timeoutMs: 5000, label: 'nginx' });
  child.kill('SIGTERM');
  try {
    await exited;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

async function connections(server: ServerProcess): Promise<number> {
  const health = (await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json()) as {
    connections: number;
  };
  return health.connections;
}

describe.skipIf(!NGINX)('nginx in front of two dev-server processes', () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'clients reconnect through nginx to the survivor when one server gets %s mid-stream',
    async (signal) => {
      const servers = await Promise.all([startServer(), startServer()]);
      const nginxPort = await startNginx([servers[0].port, servers[1].port]);

      const runs = Array.from({ length: CLIENTS }, (_, id) => {
        const client = new WebSocketClient<string, string>(`ws://127.0.0.1:${nginxPort}/`, {
          WebSocket: WS as unknown as WebSocketConstructor,
          heartbeat: { interval: 300, timeout: 300 },
          reconnect: { minDelay: 50, maxDelay: 300 },
          connectTimeout: 2000,
        });
        const stream = { client, timer: undefined as NodeJS.Timeout | undefined };
        streams.push(stream);
        const sends: boolean[] = [];
        const opens: number[] = [];
        client.on('open', () => opens.push(sends.length));
        return { id, client, stream, sends, opens };
      });
      await Promise.all(runs.map(({ client }) => client.open()));
      for (const run of runs) {
        run.stream.timer = setInterval(() => {
          run.sends.push(run.client.send(`c${run.id}:${run.sends.length}`));
        }, STEP_MS);
      }
      const sentAtLeast = (count: number, message: string) =>
        waitUntil(() => runs.every(({ sends }) => sends.length >= count), { timeoutMs: WAIT_MS, message });

      await sentAtLeast(50, 'every client to send 50 messages');
      // Stop the server holding more clients (round robin gives each about half).
      const counts = await Promise.all(servers.map(connections));
      const victimIndex = (counts[0] ?? 0) >= (counts[1] ?? 0) ? 0 : 1;
      const victim = servers[victimIndex] as ServerProcess;
      const survivor = servers[1 - victimIndex] as ServerProcess;
      expect(counts[victimIndex]).toBeGreaterThan(0);
      const sentBeforeStop = runs.map(({ sends }) => sends.length);
      victim.child.kill(signal);
      await victim.exited;

      // Every client is connected to the survivor, and keeps streaming there.
      await waitUntil(async () => (await connections(survivor)) === CLIENTS, {
        timeoutMs: WAIT_MS,
        message: `all ${CLIENTS} clients to be connected to the surviving server`,
      });
      await sentAtLeast(Math.max(...sentBeforeStop) + 50, 'every client to send 50 more messages');
      for (const run of runs) clearInterval(run.stream.timer);
      const totals = runs.map(({ sends }) => sends.length);
      await waitUntil(
        () =>
          runs.every(({ id, sends }) => {
            const got = new Set([...(victim.received.get(id) ?? []), ...(survivor.received.get(id) ?? [])]);
            return sends.every((written, n) => written || got.has(n)) && got.has(sends.length - 1);
          }),
        { timeoutMs: WAIT_MS, message: 'every queued message and every last message to reach a server' },
      );

      const report: string[] = [];
      let moved = 0;
      for (const run of runs) {
        // Everything the victim got came before the stop, so its list goes first.
        const sequence = [...(victim.received.get(run.id) ?? []), ...(survivor.received.get(run.id) ?? [])];
        const seen = new Set(sequence);
        const outOfOrder = sequence.filter((n, i) => i > 0 && n <= (sequence[i - 1] as number));
        const queued = run.sends.flatMap((written, n) => (written ? [] : [n]));
        const lostQueued = queued.filter((n) => !seen.has(n));
        const lostWritten = run.sends.flatMap((written, n) => (written && !seen.has(n) ? [n] : []));
        if ((victim.received.get(run.id)?.length ?? 0) > 0) moved += 1;
        report.push(
          `c${run.id}: sent ${run.sends.length}, received ${seen.size}, queued ${queued.length}, ` +
            `lost in dead sockets ${lostWritten.length}${lostWritten.length ? ` (${lostWritten.join(', ')})` : ''}, ` +
            `opens ${run.opens.length}`,
        );
        expect(outOfOrder, `c${run.id} order`).toEqual([]);
        expect(lostQueued, `c${run.id} queued messages lost`).toEqual([]);
        expect(seen.size + lostWritten.length).toBe(run.sends.length);
        // A client that was on the victim opened a second time, through nginx.
        if ((victim.received.get(run.id)?.length ?? 0) > 0) expect(run.opens.length).toBe(2);
        expect(run.client.state).toBe('open');
      }
      console.log(`[nginx-failover] ${signal}: ${moved} of ${CLIENTS} clients moved. ${report.join('; ')}`);
      expect(moved).toBeGreaterThan(0);
      expect(totals.every((total, i) => total >= (sentBeforeStop[i] ?? 0) + 50)).toBe(true);
    },
    60_000,
  );
});
