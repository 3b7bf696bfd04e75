/**
 * A real Redis Cluster for one test file: `masters` redis-server processes in cluster mode
 * (`--cluster-enabled yes`, each with its own temporary directory and `nodes.conf`), on free ports
 * of 127.0.0.1 (client and cluster-bus ports both chosen free, never the +10000 default), joined by
 * `redis-cli --cluster create … --cluster-replicas 0 --cluster-yes` (Debian's redis-tools), ready
 * once every node reports `cluster_state:ok`. `stop()` kills every process by its PID and removes
 * the directories. Not to be confused with ./redis-cluster.ts (adapter nodes on one Redis).
 *
 * @example
 * const cluster = await startRedisClusterServers(3);
 * afterAll(() => cluster.stop());
 * const client = await createCluster({ rootNodes: cluster.rootNodes }).connect();
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { waitUntil } from './next-event.js';
import { freePort } from './nginx.js';
import { type RedisServer, startRedis } from './redis-server.js';

const run = promisify(execFile);
const READY_MS = 15_000;

/** Path of redis-cli, or undefined when it is not installed. */
export const REDIS_CLI = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli'].find((path) => existsSync(path));

export interface RedisClusterServers {
  /** For `createCluster({ rootNodes })`. */
  readonly rootNodes: ReadonlyArray<{ readonly url: string }>;
  readonly nodes: readonly RedisServer[];
  /** Stops every node and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts and joins a cluster of `masters` nodes; see the file's comment. */
export async function startRedisClusterServers(masters = 3): Promise<RedisClusterServers> {
  if (REDIS_CLI === undefined)
    throw new Error('redis-cli is required for a Redis Cluster (apt-get install redis-tools).');
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let n = 0; n < masters; n++) {
      const busPort = await freePort();
      nodes.push(
        await startRedis({
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: READY_MS,
    });
    for (const node of nodes) {
      const client = await createClient({ url: node.url }).connect();
      try {
        await waitUntil(
          async () =>
            (await client.sendCommand(['CLUSTER', 'INFO']))?.toString().includes('cluster_state:ok'),
          {
            timeoutMs: READY_MS,
            intervalMs: 50,
            message: `cluster_state:ok on 127.0.0.1:${node.port}`,
          },
        );
      } finally {
        client.destroy();
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { rootNodes: nodes.map((node) => ({ url: node.url })), nodes, stop };
}
