// The dev-server run of scripts/memory-bound.mjs (issue 12's own form of it): the dev server as
// `npm start` runs it (`dist/server/main.js`, defaults, `/reliable` echo), clients that send 16 ×
// 1 MB each, read the echoes, never acknowledge and drop TCP, for 20, 40 and 120 sessions; the
// server's RSS is read from /proc (Linux) before and after.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const MESSAGES = 16;
const SIZE = 1_000_000;
const MiB = 1024 * 1024;

/**
 * The dev server as `npm start` runs it, its RSS read from /proc (Linux). Growth over the limit is
 * garbage not yet collected (V8 collects external memory in steps of tens of MiB) and allocator
 * slack: a constant, which must not grow with the sessions offered.
 */
export async function runDevServer(LIMIT) {
  const constant = 128 * MiB;
  const growthLimit = 64 * MiB; // from 20 to 120 sessions (6× the bytes offered)
  const table = [];
  for (const sessions of [20, 40, 120]) table.push(await devServerRun(sessions));
  console.table(table);
  const worst = Math.max(...table.map((entry) => entry.growthMiB)) * MiB;
  const spread = (table.at(-1).growthMiB - table[0].growthMiB) * MiB;
  const ok = worst <= LIMIT + constant && spread <= growthLimit;
  return { table, ok, constant, growthLimit };
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
    const after = rss();
    return {
      sessions,
      offered: `${(sessions * MESSAGES * SIZE) / 1e6} MB`,
      echoedBack: received,
      held: health.sessions.held,
      evicted: health.sessions.ended.evicted,
      rssMiB: `${(before / MiB).toFixed(1)} → ${(after / MiB).toFixed(1)}`,
      growthMiB: +((after - before) / MiB).toFixed(1),
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
