// `npm run bench:store`: what the session store costs, side by side in one run. Exactly-once
// echo (tether-ws's client with `delivery: exactlyOnce()` against the tether-ws/server adapter)
// through one node on the memory store, one node on the Redis store, one node on Redis with AOF
// and `appendfsync always` (the setting under which the guarantee survives a Redis restart), and
// three nodes on one Redis (clients spread over them round robin, directly, no proxy). Rounds are
// interleaved (every scenario once per round, in turn), so a disturbance of the shared machine
// hits all of them alike. Per scenario and round:
// - throughput: 10 clients, 100,000 messages in all, 50 in flight per client; also the p50/p99
//   of send → echo under that load;
// - latency: 1 client, 2,000 messages, one in flight: p50/p99 of a round trip through the store;
// - Redis commands per message: INFO commandstats of the bench's own redis-server, reset before
//   the throughput run (so its 10 claims and closes are in it), calls divided by messages; both
//   the script calls the nodes send (EVALSHA: round trips' worth) and every command Redis ran,
//   those inside the scripts included.
// Everything is on 127.0.0.1; a private redis-server per Redis setting on a free port, no
// persistence but for the AOF one. Bounded: every child has a deadline. Writes bench/store-results.md
// (committed: the record the docs cite) and bench/results/store-raw.json (git-ignored).
//   npm run bench:store [-- --rounds=N]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClient } from 'redis';
import { runChild, startChild, stopChild } from './processes.mjs';
import { storeReport } from './store-report.mjs';

const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const LOAD = { clients: 10, messages: 100_000, window: 50 };
const LATENCY = { clients: 1, messages: 2_000, window: 1 };
const LOAD_DEADLINE_MS = 180_000;

const SCENARIOS = [
  { name: 'memory', label: 'memory store, 1 node', nodes: 1, redis: undefined },
  { name: 'redis', label: 'Redis store, 1 node', nodes: 1, redis: 'plain' },
  { name: 'redis-aof', label: 'Redis store (AOF, fsync always), 1 node', nodes: 1, redis: 'aof' },
  { name: 'redis-3', label: 'Redis store, 3 nodes', nodes: 3, redis: 'plain' },
];

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** A private redis-server; resolves once it accepts connections. */
async function startRedis(aof) {
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-redis-'));
  const port = await freePort();
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', ...persistence];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`redis-server not ready in 10 s: ${output}`)), 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.resume();
        done();
      }
    });
    child.once('exit', (code) => fail(new Error(`redis-server exited (${code}): ${output}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = await createClient({ url }).connect();
  return {
    url,
    client,
    async stop() {
      client.destroy();
      child.kill('SIGKILL');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls per command since the last CONFIG RESETSTAT (the reset itself left out). */
async function commandCalls(client) {
  const info = await client.info('commandstats');
  const calls = {};
  for (const [, name, count] of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    if (name !== 'config|resetstat') calls[name] = Number(count);
  }
  return calls;
}

async function measure(scenario, redis) {
  if (redis) await redis.client.flushAll();
  const nodes = [];
  try {
    for (let n = 0; n < scenario.nodes; n++) {
      nodes.push(await startChild('store-node.mjs', redis ? [redis.url] : []));
    }
    const ports = nodes.map(({ message }) => message.port).join(',');
    const load = (shape) =>
      runChild('store-load.mjs', [ports, shape.clients, shape.messages, shape.window], {
        timeoutMs: LOAD_DEADLINE_MS,
      });
    if (redis) await redis.client.configResetStat();
    const throughput = await load(LOAD);
    const calls = redis ? await commandCalls(redis.client) : undefined;
    const latency = await load(LATENCY);
    return { throughput, latency, calls };
  } finally {
    await Promise.all(nodes.map(({ child }) => stopChild(child)));
  }
}

const began = Date.now();
const redisServers = { plain: await startRedis(false), aof: await startRedis(true) };
const redisVersion = (await redisServers.plain.client.info('server')).match(/redis_version:(\S+)/)?.[1];
const samples = Object.fromEntries(SCENARIOS.map(({ name }) => [name, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      const result = await measure(scenario, scenario.redis && redisServers[scenario.redis]);
      samples[scenario.name].push(result);
      const { perSecond, p50Ms, p99Ms } = result.throughput;
      console.error(
        `[bench:store] round ${round}/${ROUNDS} ${scenario.label}: ${Math.round(perSecond)} msg/s, p50 ${p50Ms.toFixed(2)} ms, p99 ${p99Ms.toFixed(2)} ms`,
      );
    }
  }
} finally {
  await Promise.all(Object.values(redisServers).map((server) => server.stop()));
}
const cpu = cpus();
const run = {
  date: new Date().toISOString(),
  seconds: (Date.now() - began) / 1000,
  machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, node: process.version, redis: redisVersion },
  rounds: ROUNDS,
  load: LOAD,
  latency: LATENCY,
  scenarios: SCENARIOS.map(({ name, label, nodes }) => ({ name, label, nodes })),
  samples,
};
const { markdown, floorMet } = storeReport(run);
const out = resolve(import.meta.dirname, 'store-results.md');
writeFileSync(out, markdown);
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'results/store-raw.json'), `${JSON.stringify(run, null, 2)}\n`);
console.error(`[bench:store] wrote ${out}${floorMet ? '' : ' (floor NOT met)'}`);
process.exit(floorMet ? 0 : 1);
