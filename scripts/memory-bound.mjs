#!/usr/bin/env node
// Issue 12's memory scenario, reproducible: 40 exactly-once sessions each receive 16 × 1 MB, never
// acknowledge, then drop TCP without a close frame, so the adapter holds them detached for the resume
// window. Before the server-wide limits this pinned ~600 MiB for 60 s; with the defaults the memory
// held must stay within `maxTotalBufferedBytes` (128 MiB) plus a small constant.
//
// The adapter runs in this process (measured); the misbehaving clients run in a child process, so
// what they receive does not count. Loopback only, bounded: 40 sessions, 640 MB offered, 30 s at most.
// Usage (after `npm run build`): node --expose-gc scripts/memory-bound.mjs [--dev-server]
//
// `--dev-server` also runs the issue's own form of it against the dev server (`dist/server/main.js`,
// defaults, `/reliable` echo): the clients send the 16 × 1 MB, the echo buffers them, and the
// server's RSS is read from /proc before and after, for 20, 40 and 120 sessions. It asserts that RSS
// grows by no more than the limit plus a constant, and not with what is offered.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const SESSIONS = 40;
const MESSAGES = 16;
const SIZE = 1_000_000;
const MiB = 1024 * 1024;

if (process.argv[2] === 'clients') {
  await runClients(Number(process.argv[3]));
} else {
  const adapterOk = await runServer();
  const devServerOk = process.argv.includes('--dev-server') ? await runDevServer() : true;
  process.exit(adapterOk && devServerOk ? 0 : 1);
}

async function runServer() {
  const { createTetherServer, handleProtocols } = await import('../dist/adapter/index.js');
  const tether = createTetherServer(); // the defaults: that is the point
  const lost = {};
  tether.on('session', (session) => {
    for (let i = 0; i < MESSAGES; i++) session.send(Buffer.alloc(SIZE, i));
    session.on('lost', ({ reason }) => {
      lost[reason] = (lost[reason] ?? 0) + 1;
    });
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols });
  wss.on('connection', (socket, request) => tether.handle(socket, request));
  await new Promise((resolve) => wss.once('listening', resolve));
  const rss = () => {
    globalThis.gc?.();
    return process.memoryUsage().rss;
  };
  const before = rss();
  const child = fork(fileURLToPath(import.meta.url), ['clients', String(wss.address().port)]);
  const [received] = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve([m]));
    child.once('exit', (code) => code !== 0 && reject(new Error(`clients exited with ${code}`)));
  });
  // Let the adapter notice every dropped socket (ws sees the TCP reset at once on loopback).
  const deadline = Date.now() + 10_000;
  while (tether.stats.attached > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // Buffers freed by a collection are released by later weak callbacks: collect a few times.
  for (let i = 0; i < 5; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = rss();
  const stats = tether.stats;
  const { maxTotalBufferedBytes } = (await import('../dist/adapter/index.js')).DEFAULT_TETHER_OPTIONS;
  const held = after - before;
  console.log(
    JSON.stringify(
      {
        node: process.version,
        sessions: SESSIONS,
        offered: `${SESSIONS} × ${MESSAGES} × ${SIZE} B`,
        messagesReceivedByClients: received,
        rssBeforeMiB: +(before / MiB).toFixed(1),
        rssAfterMiB: +(after / MiB).toFixed(1),
        arrayBuffersAfterMiB: +(process.memoryUsage().arrayBuffers / MiB).toFixed(1),
        heapUsedAfterMiB: +(process.memoryUsage().heapUsed / MiB).toFixed(1),
        heldMiB: +(held / MiB).toFixed(1),
        limitMiB: maxTotalBufferedBytes / MiB,
        stats,
        lost,
      },
      null,
      2,
    ),
  );
  child.kill();
  await tether.close?.();
  wss.close();
  // What the adapter keeps alive (buffers + JS heap after collection) must stay within the limit plus
  // a small constant. RSS is reported too but not asserted: after streaming 640 MB, the allocator
  // keeps freed pages mapped, so RSS stays above the live figure without growing with more sessions.
  const { arrayBuffers, heapUsed } = process.memoryUsage();
  const live = arrayBuffers + heapUsed;
  const slack = 16 * MiB;
  if (live > maxTotalBufferedBytes + slack) {
    console.error(`FAIL: live ${(live / MiB).toFixed(1)} MiB > limit + ${slack / MiB} MiB`);
    return false;
  }
  console.log(
    `OK: live ${(live / MiB).toFixed(1)} MiB <= limit ${maxTotalBufferedBytes / MiB} MiB + ${slack / MiB} MiB`,
  );
  return true;
}

/**
 * The dev server as `npm start` runs it, its RSS read from /proc (Linux). Growth over the limit is
 * garbage not yet collected (V8 collects external memory in steps of tens of MiB) and allocator
 * slack: a constant, which must not grow with the sessions offered.
 */
async function runDevServer() {
  const { maxTotalBufferedBytes } = (await import('../dist/adapter/index.js')).DEFAULT_TETHER_OPTIONS;
  const constant = 128 * MiB; // 73 to 104 MiB measured on a 2-core machine, Node 20 (the limit's
  // bytes are live; the rest is garbage not yet collected and allocator slack)
  const growthLimit = 64 * MiB; // from 20 to 120 sessions (6× the bytes offered): 31 MiB measured, 566 before the cut
  const rows = [];
  for (const sessions of [20, 40, 120]) rows.push(await devServerRun(sessions));
  console.table(rows.map(({ growth, ...row }) => ({ ...row, growthMiB: +(growth / MiB).toFixed(1) })));
  const worst = Math.max(...rows.map((row) => row.growth));
  const spread = rows[rows.length - 1].growth - rows[0].growth;
  const ok = worst <= maxTotalBufferedBytes + constant && spread <= growthLimit;
  const verdict = `RSS grew by ${(worst / MiB).toFixed(1)} MiB at most (limit ${maxTotalBufferedBytes / MiB} MiB + ${
    constant / MiB
  } MiB allowed), ${(spread / MiB).toFixed(1)} MiB more at 120 sessions than at 20 (${growthLimit / MiB} MiB allowed)`;
  (ok ? console.log : console.error)(`${ok ? 'OK' : 'FAIL'}: dev server ${verdict}`);
  return ok;
}

async function devServerRun(sessions) {
  const main = fileURLToPath(new URL('../dist/server/main.js', import.meta.url));
  const server = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      server.once('exit', (code) => reject(new Error(`dev server exited with ${code}`)));
      server.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /127\.0\.0\.1:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
    });
    server.stdout.resume();
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) * 1024;
    const before = rss();
    let received = 0;
    await Promise.all(
      Array.from({ length: sessions }, (_, i) =>
        echoAndDrop(`ws://127.0.0.1:${port}/reliable`, `dev-${i}-${process.pid}`, () => received++),
      ),
    );
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    return {
      sessions,
      offeredMB: (sessions * MESSAGES * SIZE) / 1e6,
      echoedBack: received,
      held: health.sessions.held,
      evicted: health.sessions.ended.evicted,
      refused: Object.values(health.sessions.refused).reduce((a, b) => a + b, 0),
      rssBeforeMiB: +(before / MiB).toFixed(1),
      rssAfterMiB: +(rss() / MiB).toFixed(1),
      growth: rss() - before,
    };
  } finally {
    server.kill('SIGKILL');
  }
}

/** One client of the dev-server run: sends 16 × 1 MB, reads the echoes, never acknowledges, drops TCP. */
function echoAndDrop(url, sid, onEcho) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?tether_sid=${sid}`, ['tether.v1']);
    let echoed = 0;
    const drop = () => {
      clearTimeout(timer);
      ws._socket?.destroy();
      resolve();
    };
    const timer = setTimeout(drop, 20_000);
    ws.on('open', () =>
      ws.send(`h${JSON.stringify({ v: 1, sid, recv: 0, key: `${sid}-key-0123456789abcdef` })}`),
    );
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        if (!String(data).startsWith('w')) return;
        for (let seq = 1; seq <= MESSAGES; seq++) {
          const frame = Buffer.alloc(5 + SIZE, seq);
          frame[0] = 0x6d;
          frame.writeUInt32BE(seq, 1);
          ws.send(frame);
        }
        return;
      }
      onEcho();
      if (++echoed === MESSAGES) drop();
    });
    ws.on('close', drop);
    ws.on('error', drop);
  });
}

async function runClients(port) {
  let received = 0;
  await Promise.all(
    Array.from({ length: SESSIONS }, (_, i) => {
      const sid = `memory-bound-${i}-${process.pid}`;
      const key = `${sid}-key-0123456789abcdef`;
      return new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/?tether_sid=${sid}`, ['tether.v1']);
        let count = 0;
        const drop = () => {
          clearTimeout(timer);
          ws._socket?.destroy(); // TCP gone, no close frame: the session stays held, detached
          resolve();
        };
        const timer = setTimeout(drop, 20_000);
        ws.on('open', () => ws.send(`h${JSON.stringify({ v: 1, sid, recv: 0, key })}`));
        ws.on('message', (_data, isBinary) => {
          if (!isBinary) return; // the welcome
          received++;
          if (++count === MESSAGES) drop(); // never acknowledged
        });
        ws.on('close', drop);
        ws.on('error', drop);
      });
    }),
  );
  process.send(received);
}
