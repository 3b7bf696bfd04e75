/**
 * deploy/redis/README.md's example, run as written: `deploy/redis/run.sh` (on free ports, through
 * its LISTEN_PORT, REDIS_PORT and SERVER_PORTS variables) starts redis-server, three dev servers
 * and nginx round robin. Through its nginx: the demo page is served, and four exactly-once clients
 * (with the Origin a page on that address sends) stream numbered messages that the servers echo;
 * one server is SIGKILLed by the pid the script printed, as the README suggests, and not restarted.
 * Every message must come back once and in order, no client may report `session-lost`, and the
 * clients of the killed server must have resumed elsewhere. Then SIGINT (Ctrl-C) must leave no
 * process and no directory of the script's behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitFor, waitUntil } from '../helpers/next-event.js';
import { buildServerIfMissing, freePort, nginxAvailable } from '../helpers/nginx.js';
import { redisAvailable } from '../helpers/redis-server.js';

const RUN = nginxAvailable('deploy-redis') && redisAvailable('deploy-redis');
const root = fileURLToPath(new URL('../..', import.meta.url));
const WAIT_MS = 15_000;
const CLIENTS = 4;
const STEP_MS = 10;

interface Stream {
  id: number;
  client: WebSocketClient<string, string>;
  timer?: NodeJS.Timeout;
  sent: number;
  echoes: number[];
  welcomes: boolean[];
  losses: string[];
}

let script: ChildProcess | undefined;
const streams: Stream[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) {
    clearInterval(stream.timer);
    stream.client.close();
  }
  if (script && script.exitCode === null && script.signalCode === null) {
    const exited = waitFor(script, 'exit', { timeoutMs: WAIT_MS });
    script.kill('SIGINT');
    await exited;
  }
  script = undefined;
});

const range = (count: number) => Array.from({ length: count }, (_, n) => n);

/** Pids whose command line mentions `text` (the script's directory: its redis-server and nginx). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!RUN)('deploy/redis/run.sh (the documented example)', () => {
  it('serves the demo through nginx, survives a SIGKILLed server with every message once and in order, and stops clean on Ctrl-C', async () => {
    await buildServerIfMissing();
    const [listen, redisPort, ...serverPorts] = await Promise.all(range(5).map(() => freePort()));
    const child = spawn('bash', ['deploy/redis/run.sh'], {
      cwd: root,
      env: {
        ...process.env,
        LISTEN_PORT: String(listen),
        REDIS_PORT: String(redisPort),
        SERVER_PORTS: serverPorts.join(' '),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    script = child;
    const servers = new Map<number, number>(); // port → pid
    let ready: { url: string; dir: string } | undefined;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const server = /^server (\d+) pid (\d+)$/.exec(line);
      if (server) servers.set(Number(server[1]), Number(server[2]));
      const up = /^ready: (\S+) .*logs in (\S+)\)$/.exec(line);
      if (up) ready = { url: up[1] as string, dir: up[2] as string };
    });
    await waitUntil(() => ready, { timeoutMs: WAIT_MS, message: 'run.sh to print its ready line' });
    const { url, dir } = ready as { url: string; dir: string };
    expect(url).toBe(`http://127.0.0.1:${listen}`);
    expect([...servers.keys()]).toEqual(serverPorts);

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');

    const origin = url;
    for (let id = 0; id < CLIENTS; id++) {
      const stream: Stream = {
        id,
        client: undefined as unknown as WebSocketClient<string, string>,
        sent: 0,
        echoes: [],
        welcomes: [],
        losses: [],
      };
      class PageSocket extends WS {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers: { Origin: origin } });
          this.on('message', (data: WS.RawData, isBinary: boolean) => {
            const frame = isBinary ? '' : String(data);
            if (frame.startsWith('w'))
              stream.welcomes.push((JSON.parse(frame.slice(1)) as { resumed: boolean }).resumed);
          });
        }
      }
      stream.client = new WebSocketClient<string, string>(`ws://127.0.0.1:${listen}/reliable`, {
        delivery: exactlyOnce(),
        WebSocket: PageSocket as unknown as WebSocketConstructor,
        heartbeat: { interval: 1000, timeout: 1000 },
        reconnect: { minDelay: 20, maxDelay: 200 },
        connectTimeout: 2000,
      });
      stream.client.on('message', (payload) => stream.echoes.push(Number(payload.split(':')[1])));
      stream.client.on('session-lost', ({ reason }) => stream.losses.push(reason));
      streams.push(stream);
    }
    await Promise.all(streams.map(({ client }) => client.open()));
    for (const stream of streams) {
      stream.timer = setInterval(() => {
        stream.client.send(`c${stream.id}:${stream.sent}`);
        stream.sent += 1;
      }, STEP_MS);
    }
    const sendMore = async (more: number, what: string) => {
      const targets = streams.map(({ sent }) => sent + more);
      await waitUntil(() => streams.every(({ sent }, i) => sent >= (targets[i] as number)), {
        timeoutMs: WAIT_MS,
        message: `every client to send ${more} more messages ${what}`,
      });
    };
    await sendMore(30, 'before the kill');
    // Round robin gave each of the three servers at least one of the four sessions.
    const victim = servers.get(serverPorts[0] as number) as number;
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => !alive(victim), { timeoutMs: WAIT_MS, message: 'the killed server to be gone' });
    await sendMore(40, 'after the kill');
    for (const stream of streams) clearInterval(stream.timer);
    await waitUntil(() => streams.every(({ echoes, sent }) => echoes.length >= sent), {
      timeoutMs: WAIT_MS,
      message: 'every message to be echoed',
    });
    for (const stream of streams) {
      expect(stream.losses, `c${stream.id}: session-lost`).toEqual([]);
      expect(stream.echoes, `c${stream.id}: echoes`).toEqual(range(stream.sent));
      expect(stream.welcomes, `c${stream.id}: resumed flags`).toEqual([
        false,
        ...Array(stream.welcomes.length - 1).fill(true),
      ]);
    }
    expect(
      streams.some(({ welcomes }) => welcomes.length > 1),
      'a client resumed on another server',
    ).toBe(true);

    for (const stream of streams.splice(0)) await stream.client.close();
    const exited = waitFor(child, 'exit', { timeoutMs: WAIT_MS });
    child.kill('SIGINT');
    await exited;
    expect(child.exitCode).toBe(130);
    expect([...servers.values()].filter(alive)).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
