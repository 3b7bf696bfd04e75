/**
 * Failover of exactly-once sessions through a shared Redis store: three dev-server processes
 * (`REDIS_URL` set) behind nginx with plain round robin on `/reliable` (deploy/redis/nginx.conf),
 * a private redis-server, and eight exactly-once clients streaming numbered messages that the
 * server echoes back (client → server, then server → client):
 *
 *     clients ── nginx (round robin) ──┬── server A ──┐
 *                                      ├── server B ──┼── redis-server
 *                                      └── server C ──┘
 *
 * During the stream a server is SIGKILLed three times (A, B, then C), each restarted on its port:
 * its clients reconnect, land on whichever server nginx picks, and resume there from Redis. Every
 * message must arrive exactly once and in order in both directions, and no client may report
 * `session-lost`; every welcome after a client's first says `resumed: true`.
 *
 * The evidence: the client's `message` events (the echoes, in order), the welcomes read from each
 * client's sockets (a tapped `ws` constructor), and the servers' JSON logs (which server resumed
 * which session after a kill).
 */
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { exactlyOnce } from '../../client/exactly-once/index.js';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitUntil } from '../helpers/next-event.js';
import {
  createProcessGroup,
  nginxAvailable,
  type ProcessGroup,
  type ServerProcess,
} from '../helpers/nginx.js';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis-server.js';

const RUN = nginxAvailable('redis-failover') && redisAvailable('redis-failover');
const WAIT_MS = 10_000;
const CLIENTS = 8;
const NODES = 3;
const STEP_MS = 10;
const KILLS = 3;
const CONFIG = 'deploy/redis/nginx.conf';

interface Stream {
  id: number;
  client: WebSocketClient<string, string>;
  timer?: NodeJS.Timeout;
  /** Messages handed to `send()`, numbered 0, 1, 2, … (`c<id>:<n>`). */
  sent: number;
  /** Numbers echoed back, in arrival order. */
  echoes: number[];
  welcomes: Array<{ resumed: boolean }>;
  losses: string[];
  /** The session id of the latest connection. */
  sid: string;
}

let group: ProcessGroup | undefined;
let redis: RedisServer | undefined;
const streams: Stream[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) {
    clearInterval(stream.timer);
    stream.client.close();
  }
  await group?.stop();
  group = undefined;
  await redis?.stop();
  redis = undefined;
});

function numberOf(payload: string): number {
  const match = /^c\d+:(\d+)$/.exec(payload);
  if (!match) throw new Error(`unexpected payload ${JSON.stringify(payload)}`);
  return Number(match[1]);
}

/** A `ws` constructor recording the welcomes each socket of the client reads. */
function tappedWebSocket(stream: Stream): WebSocketConstructor {
  class Tapped extends WS {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      stream.sid = new URL(String(address)).searchParams.get('tether_sid') ?? '';
      this.on('message', (data: WS.RawData, isBinary: boolean) => {
        const frame = isBinary ? '' : String(data);
        if (frame.startsWith('w')) stream.welcomes.push(JSON.parse(frame.slice(1)) as { resumed: boolean });
      });
    }
  }
  return Tapped as unknown as WebSocketConstructor;
}

const range = (count: number) => Array.from({ length: count }, (_, n) => n);

/** Waits until every client has sent `more` messages beyond what it had sent when called. */
async function sendMore(more: number, what: string): Promise<void> {
  const targets = streams.map(({ sent }) => sent + more);
  await waitUntil(() => streams.every(({ sent }, i) => sent >= (targets[i] as number)), {
    timeoutMs: WAIT_MS,
    message: `every client to send ${more} more messages ${what}`,
  });
}

describe.skipIf(!RUN)(
  'exactly-once sessions in Redis behind nginx round robin (three dev-server processes)',
  () => {
    it('survives three SIGKILLs of a server: every message once and in order both ways, no session-lost', async () => {
      redis = await startRedis();
      group = await createProcessGroup('redis-failover');
      const owner = group;
      const env = { REDIS_URL: redis.url, MESSAGE_RATE: '0' };
      const servers: ServerProcess[] = await Promise.all(
        range(NODES).map(() => owner.startServer(undefined, { env })),
      );
      const ports = servers.map(({ port }) => port);
      const nginx = await owner.startNginx(ports, CONFIG);

      for (let id = 0; id < CLIENTS; id++) {
        const stream: Stream = {
          id,
          client: undefined as unknown as WebSocketClient<string, string>,
          sent: 0,
          echoes: [],
          welcomes: [],
          losses: [],
          sid: '',
        };
        stream.client = new WebSocketClient<string, string>(`ws://127.0.0.1:${nginx.port}/reliable`, {
          delivery: exactlyOnce(),
          WebSocket: tappedWebSocket(stream),
          heartbeat: { interval: 1000, timeout: 1000 },
          reconnect: { minDelay: 20, maxDelay: 200 },
          connectTimeout: 2000,
        });
        stream.client.on('message', (payload) => stream.echoes.push(numberOf(payload)));
        stream.client.on('session-lost', ({ reason, undelivered }) =>
          stream.losses.push(`${reason}, ${undelivered.length} undelivered`),
        );
        streams.push(stream);
      }
      await Promise.all(streams.map(({ client }) => client.open()));
      for (const stream of streams) {
        stream.timer = setInterval(() => {
          stream.client.send(`c${stream.id}:${stream.sent}`);
          stream.sent += 1;
        }, STEP_MS);
      }
      await sendMore(30, 'before the first kill');

      const resumesAfterKill: number[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        const index = kill % NODES;
        const victim = servers[index] as ServerProcess;
        const before = servers.reduce(
          (sum, server) => sum + server.logs.filter((r) => r.event === 'resume').length,
          0,
        );
        victim.child.kill('SIGKILL');
        await victim.exited;
        // Restarted where nginx expects it; meanwhile its clients resume on the other two.
        servers[index] = await owner.startServer(undefined, { port: ports[index] as number, env });
        await sendMore(40, `after kill ${kill + 1}`);
        await waitUntil(() => streams.every(({ client }) => client.state === 'open'), {
          timeoutMs: WAIT_MS,
          message: `every client to be open again after kill ${kill + 1}`,
        });
        const after = servers.reduce(
          (sum, server) => sum + server.logs.filter((r) => r.event === 'resume').length,
          0,
        );
        resumesAfterKill.push(after - before);
      }
      for (const stream of streams) clearInterval(stream.timer);
      await waitUntil(() => streams.every(({ echoes, sent }) => echoes.length >= sent), {
        timeoutMs: WAIT_MS,
        message: 'every message to be echoed',
      });

      for (const stream of streams) {
        const label = `c${stream.id} (session ${stream.sid})`;
        expect(stream.losses, `${label}: session-lost`).toEqual([]);
        // Both directions at once: the server delivered every message once and in order (its echo
        // would be repeated or missing otherwise), and each echo reached the client once, in order.
        expect(stream.echoes, `${label}: echoes`).toEqual(range(stream.sent));
        expect(
          stream.welcomes.map(({ resumed }) => resumed),
          `${label}: resumed flags`,
        ).toEqual([false, ...Array(stream.welcomes.length - 1).fill(true)]);
      }
      // Each kill moved the sessions of the killed server (at least one) to another server.
      for (const [kill, resumes] of resumesAfterKill.entries()) {
        expect(resumes, `resumes after kill ${kill + 1}`).toBeGreaterThan(0);
      }
      const sent = streams.reduce((sum, { sent }) => sum + sent, 0);
      const reconnects = streams.reduce((sum, { welcomes }) => sum + welcomes.length - 1, 0);
      console.log(
        `[redis-failover] ${KILLS} SIGKILLs among ${NODES} servers, ${CLIENTS} clients: ${sent} messages sent, ` +
          `${sent} echoed once in order, 0 lost; ${reconnects} resumes (${resumesAfterKill.join('/')} after each kill)`,
      );
    }, 60_000);
  },
);
