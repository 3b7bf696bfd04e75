#!/usr/bin/env node
// What a peer can make the adapter keep alive, measured (issues 12 and 23), with the defaults:
// - unacknowledged: 40 exactly-once sessions each receive 16 × 1 MB, never acknowledge, then drop
//   TCP without a close frame, so the adapter holds them detached for the resume window. Before
//   the server-wide limits this pinned ~600 MiB for 60 s.
// - acknowledged: 2 sessions each send 400 × 1 MB to an echo and acknowledge every echo (a
//   well-behaved client), with the memory store and, if redis-server is installed, the Redis store.
//   Before issue 23 acknowledged messages stayed reachable until 1,024 had been acknowledged: +763
//   MiB live while `bufferedBytes` read 0.
// The adapter runs in this process and is measured after forced full collections (JS heap plus
// live ArrayBuffers, growth from before the clients came); the clients run in a child process
// (scripts/memory-clients.mjs), so what they hold does not count. Each must stay within
// `maxTotalBufferedBytes` (128 MiB) plus SLACK, or the script exits 1.
//
// `--dev-server` also runs issue 12's form of it against the dev server
// (scripts/memory-dev-server.mjs): its RSS, for 20, 40 and 120 sessions.
//
// Writes bench/memory-bound-results.md (the record docs/server.md links to). Loopback only,
// bounded: about 2 GB offered in all, a minute or two.
// Usage (after `npm run build`): node --expose-gc scripts/memory-bound.mjs [--dev-server]
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { runDevServer } from './memory-dev-server.mjs';

const MESSAGES = 16;
const SIZE = 1_000_000;
const ACKED_SESSIONS = 2;
const ACKED_MESSAGES = 400;
const MiB = 1024 * 1024;
/** Live memory allowed beyond the limit: sockets, ws and session state, garbage left to weak callbacks. */
const SLACK = 16 * MiB;
const RESULTS = fileURLToPath(new URL('../bench/memory-bound-results.md', import.meta.url));
const CLIENTS = fileURLToPath(new URL('./memory-clients.mjs', import.meta.url));
const adapter = await import('../dist/adapter/index.js');
const LIMIT = adapter.DEFAULT_TETHER_OPTIONS.maxTotalBufferedBytes;

if (globalThis.gc === undefined) {
  console.error('Run with node --expose-gc (npm run memory-bound does).');
  process.exit(1);
}
const rows = [];
rows.push(await unacknowledged());
rows.push(await acknowledged('memory store'));
const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
if (redisServer) rows.push(await acknowledged('Redis store', redisServer));
else console.warn('redis-server not found: the acknowledged run on the Redis store is skipped');
console.table(rows);
const devServer = process.argv.includes('--dev-server') ? await runDevServer(LIMIT) : undefined;
writeFileSync(RESULTS, report(rows, devServer));
console.log(`wrote ${RESULTS}`);
process.exit(rows.every((row) => row.ok) && (devServer?.ok ?? true) ? 0 : 1);

/** JS heap plus live ArrayBuffers after full collections (freed Buffers go in later weak callbacks). */
async function live() {
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
  return { live: heapUsed + arrayBuffers, rss };
}

/** An adapter with `options` on a ws server (port 0), `body` run against it, everything closed after. */
async function withAdapter(options, body) {
  const tether = adapter.createTetherServer(options);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: adapter.handleProtocols });
  wss.on('connection', (socket, request) => tether.handle(socket, request));
  await new Promise((resolve) => wss.once('listening', resolve));
  try {
    return await body(tether, wss.address().port);
  } finally {
    tether.close();
    await new Promise((resolve) => wss.close(resolve));
  }
}

/** Runs scripts/memory-clients.mjs; resolves once its sessions are done, with the child to kill. */
async function clients(args) {
  const child = fork(CLIENTS, args.map(String));
  const { received } = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`clients exited with ${code}`)));
  });
  return { child, received };
}

function row(scenario, offered, before, after, tether, extra) {
  const held = after.live - before.live;
  const stats = tether.stats;
  return {
    scenario,
    offered,
    heldMiB: +(held / MiB).toFixed(1),
    rssMiB: `${(before.rss / MiB).toFixed(0)} → ${(after.rss / MiB).toFixed(0)}`,
    sessions: stats.sessions,
    bufferedBytes: stats.bufferedBytes,
    evicted: stats.ended.evicted,
    ...extra,
    ok: held <= LIMIT + SLACK,
  };
}

async function unacknowledged() {
  const sessions = 40;
  return withAdapter({}, async (tether, port) => {
    const attached = new Set();
    tether.on('session', (session) => {
      attached.add(session);
      session.on('detach', () => attached.delete(session));
      session.on('lost', () => attached.delete(session));
      for (let i = 0; i < MESSAGES; i++) session.send(Buffer.alloc(SIZE, i));
    });
    const before = await live();
    const { child, received } = await clients(['silent', port, sessions, MESSAGES]);
    // Let the adapter notice every dropped socket (ws sees the TCP reset at once on loopback).
    const deadline = Date.now() + 10_000;
    while (attached.size > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const after = await live();
    child.kill();
    return row(
      `unacknowledged, then TCP dropped (${sessions} sessions)`,
      `${sessions} × ${MESSAGES} × 1 MB`,
      before,
      after,
      tether,
      {
        received,
      },
    );
  });
}

async function acknowledged(storeName, redisServer) {
  const redis = redisServer ? await startRedis(redisServer) : undefined;
  try {
    const store = redis
      ? (await import('../dist/adapter/redis/index.js')).createRedisStore({ client: redis.client })
      : undefined;
    return await withAdapter(store ? { store } : {}, async (tether, port) => {
      tether.on('session', (session) => session.on('message', (data) => session.send(data)));
      const before = await live();
      const { child, received } = await clients(['acking', port, ACKED_SESSIONS, ACKED_MESSAGES, SIZE]);
      const after = await live(); // the sessions are held, attached, while this is read
      child.kill();
      return row(
        `acknowledged, echo, ${storeName}`,
        `${ACKED_SESSIONS} × ${ACKED_MESSAGES} × 1 MB`,
        before,
        after,
        tether,
        { received },
      );
    });
  } finally {
    await redis?.stop();
  }
}

/** A private redis-server on a free port (never the system one), with a connected client. */
async function startRedis(binary) {
  const { createClient } = await import('redis');
  const dir = mkdtempSync(join(tmpdir(), 'tether-memory-redis-'));
  const port = await new Promise((resolve) => {
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  const client = await createClient({ url: `redis://127.0.0.1:${port}` }).connect();
  return {
    client,
    async stop() {
      client.destroy();
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The record docs/server.md links to. */
function report(adapterRows, devServer) {
  const cell = (value) => String(value).replaceAll('|', '\\|');
  const table = (entries) => {
    const keys = Object.keys(entries[0]);
    return [
      `| ${keys.join(' | ')} |`,
      `|${keys.map(() => '---').join('|')}|`,
      ...entries.map((entry) => `| ${keys.map((key) => cell(entry[key])).join(' | ')} |`),
    ].join('\n');
  };
  const lines = [
    '# What a peer can make the adapter keep alive',
    '',
    `Written by \`npm run memory-bound\` (\`scripts/memory-bound.mjs\`); do not edit.`,
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}.`,
    '',
    '## The adapter alone, with its defaults',
    '',
    `\`heldMiB\`: JS heap plus live ArrayBuffers after forced full collections, grown since before the`,
    `clients came; \`ok\`: within \`maxTotalBufferedBytes\` (${LIMIT / MiB} MiB) plus ${SLACK / MiB} MiB. \`rssMiB\`: the`,
    'process before and after, for reference only (the allocator keeps freed pages mapped).',
    '`sessions`, `bufferedBytes`, `evicted`: `tether.stats` when measured.',
    '',
    table(adapterRows),
  ];
  if (devServer) {
    lines.push(
      '',
      '## The dev server (`/reliable`), RSS',
      '',
      'Clients send 16 × 1 MB each to the echo, read the echoes, never acknowledge, drop TCP.',
      `\`ok\`: RSS grew by at most the limit plus ${devServer.constant / MiB} MiB, and by at most`,
      `${devServer.growthLimit / MiB} MiB more at 120 sessions than at 20: **${devServer.ok}**.`,
      '',
      table(devServer.table),
    );
  }
  return `${lines.join('\n')}\n`;
}
