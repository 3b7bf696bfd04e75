/**
 * Adapter nodes in this process sharing one redis-server: each a ws server on port 0 with its own
 * node-redis connection and Redis store. `crash()` kills a node the way a process dies: its Redis
 * connection is destroyed first (so it writes nothing more; commands already on the wire may or
 * may not be applied), then its sockets are reset and its listener closed; `tether.close()` is
 * never called on it (until `stop()` releases its timers). `pick()` is a round-robin load balancer
 * over the live nodes, e.g. for the fault proxy's target.
 *
 * @example
 * const cluster = await startRedisCluster(redis, 3, (node, session) => session.on('message', …));
 * const proxy = await createFaultProxy({ target: () => cluster.pick() });
 * await cluster.crash(cluster.nodes[0]);  // a new node takes its place
 * afterAll(() => cluster.stop());
 */
import { createClient } from 'redis';
import {
  createTetherServer,
  handleProtocols,
  type TetherServer,
  type TetherServerOptions,
  type TetherSession,
} from '../../adapter/index.js';
import { createRedisStore } from '../../adapter/redis/index.js';
import type { RedisServer } from './redis-server.js';
import { startWsServer } from './tether-wire.js';

export interface ClusterNode {
  readonly tether: TetherServer;
  readonly url: string;
  readonly port: number;
  /** False once crashed. */
  readonly alive: boolean;
}

interface Node extends ClusterNode {
  readonly redis: { destroy(): void };
  readonly server: Awaited<ReturnType<typeof startWsServer>>;
  alive: boolean;
}

export class RedisCluster {
  /** The current nodes: a crashed one is replaced in its slot. */
  readonly nodes: ClusterNode[] = [];
  readonly #everyNode: Node[] = [];
  #turn = 0;

  constructor(
    private readonly redis: RedisServer,
    private readonly onSession: (node: ClusterNode, session: TetherSession) => void,
    private readonly options: Omit<TetherServerOptions, 'store'>,
  ) {}

  /** @internal Use {@link startRedisCluster}. */
  async start(size: number): Promise<void> {
    for (let n = 0; n < size; n++) this.nodes.push(await this.#startNode());
  }

  /** The load balancer: the next live node. */
  pick(): { host: string; port: number } {
    const live = this.nodes.filter((node) => node.alive);
    const node = live[this.#turn++ % live.length] as ClusterNode;
    return { host: '127.0.0.1', port: node.port };
  }

  /** Crashes `node` (see the file's comment); with `replace`, a new node takes its slot. */
  async crash(target: ClusterNode, { replace = true } = {}): Promise<void> {
    const node = this.#everyNode.find((candidate) => candidate === target);
    if (node === undefined || !node.alive) throw new Error('crash(): not a live node of this cluster');
    node.alive = false;
    node.redis.destroy(); // commands not answered yet are rejected; nothing more is sent
    await node.server.close(); // resets every socket, stops listening
    if (replace) this.nodes[this.nodes.indexOf(node)] = await this.#startNode();
  }

  /** Closes every node, crashed ones included (their timers). */
  async stop(): Promise<void> {
    for (const node of this.#everyNode.splice(0)) {
      node.tether.close();
      if (node.alive) {
        await node.server.close();
        node.redis.destroy();
      }
    }
  }

  async #startNode(): Promise<Node> {
    const redis = createClient({ url: this.redis.url, disableOfflineQueue: true });
    redis.on('error', () => {}); // refused reconnects after a crash; each command reports its own failure
    await redis.connect();
    const tether = createTetherServer({ ...this.options, store: createRedisStore({ client: redis }) });
    const server = await startWsServer((socket, request) => tether.handle(socket, request), {
      handleProtocols,
    });
    const port = Number(new URL(server.url).port);
    const node: Node = { tether, redis, server, url: server.url, port, alive: true };
    tether.on('session', (session) => this.onSession(node, session));
    this.#everyNode.push(node);
    return node;
  }
}

/** Starts `size` nodes on `redis`; `onSession` sees every session any node (or a replacement) starts holding. */
export async function startRedisCluster(
  redis: RedisServer,
  size: number,
  onSession: (node: ClusterNode, session: TetherSession) => void = () => {},
  options: Omit<TetherServerOptions, 'store'> = {},
): Promise<RedisCluster> {
  const cluster = new RedisCluster(redis, onSession, options);
  await cluster.start(size);
  return cluster;
}
