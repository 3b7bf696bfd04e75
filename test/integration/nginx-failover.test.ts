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
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketClient, type WebSocketConstructor } from '../../client/index.js';
import { waitUntil } from '../helpers/next-event.js';
import {
  buildServerIfMissing,
  createProcessGroup,
  type LogRecord,
  nginxAvailable,
  type ProcessGroup,
  type ServerProcess,
} from '../helpers/nginx.js';

const RUN = nginxAvailable('nginx-failover');
const WAIT_MS = 10_000;
const CLIENTS = 4;
const STEP_MS = 10;

interface EchoServer extends ServerProcess {
  /** Numbers received per client id, in arrival order, from the server's log. */
  received: Map<number, number[]>;
}

let group: ProcessGroup | undefined;
const streams: Array<{ client: WebSocketClient<string, string>; timer?: NodeJS.Timeout }> = [];

afterEach(async () => {
  for (const stream of streams) clearInterval(stream.timer);
  await Promise.all(streams.splice(0).map(({ client }) => client.close()));
  await group?.stop();
  group = undefined;
});

beforeAll(async () => {
  if (RUN) await buildServerIfMissing();
}, 120_000);

/** A dev-server process whose log lines `Data received: … "c<id>:<n>"` are collected per client. */
async function startServer(owner: ProcessGroup): Promise<EchoServer> {
  const received = new Map<number, number[]>();
  const collect = (record: LogRecord) => {
    const match = /Data received: text, \d+ bytes: "c(\d+):(\d+)"/.exec(record.msg);
    if (!match) return;
    const id = Number(match[1]);
    const list = received.get(id) ?? [];
    list.push(Number(match[2]));
    received.set(id, list);
  };
  return Object.assign(await owner.startServer(collect), { received });
}

describe.skipIf(!RUN)('nginx in front of two dev-server processes', () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'clients reconnect through nginx to the survivor when one server gets %s mid-stream',
    async (signal) => {
      group = await createProcessGroup('nginx-failover');
      const owner = group;
      const servers = await Promise.all([startServer(owner), startServer(owner)]);
      const { port: nginxPort } = await owner.startNginx([servers[0].port, servers[1].port]);

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
      const counts = await Promise.all(servers.map((server) => server.connections()));
      const victimIndex = (counts[0] ?? 0) >= (counts[1] ?? 0) ? 0 : 1;
      const victim = servers[victimIndex] as EchoServer;
      const survivor = servers[1 - victimIndex] as EchoServer;
      expect(counts[victimIndex]).toBeGreaterThan(0);
      const sentBeforeStop = runs.map(({ sends }) => sends.length);
      victim.child.kill(signal);
      await victim.exited;

      // Every client is connected to the survivor, and keeps streaming there.
      await waitUntil(async () => (await survivor.connections()) === CLIENTS, {
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
