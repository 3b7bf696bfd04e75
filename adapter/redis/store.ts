import { TetherServerError } from '../errors.js';
import type {
  ClaimRequest,
  ClaimResult,
  SessionBatch,
  SessionStore,
  StoredPayload,
  StoreStats,
} from '../store.js';
import { ADMIT, CLAIM, COMMIT, COUNT, KEEP_ALIVE, REMOVE, type Script } from './scripts.js';

/**
 * What the store needs of a Redis client: node-redis's `sendCommand` (the `redis` package, 4.x to
 * 6.x; a client from `createClient()` fits). Pass a connected client; the store never connects,
 * reconnects or closes it, so one client can serve the store and the application.
 */
export interface RedisCommandClient {
  sendCommand(
    args: ReadonlyArray<string | Buffer>,
    options?: { typeMapping?: Record<number, unknown> },
  ): Promise<unknown>;
}

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** A connected node-redis client (`await createClient({ url }).connect()`). */
  client: RedisCommandClient;
  /**
   * Prefix of every key the store writes. Give each application (or environment) sharing a Redis
   * its own. A string of 1 to 64 characters without `{` or `}`.
   * @default 'tether:'
   */
  keyPrefix?: string;
  /**
   * Most sessions held in the store across every node; a new session beyond it is refused (the
   * adapter closes with 1013, which clients retry). An integer >= 1, or `Infinity`.
   * @default Infinity
   */
  maxSessions?: number;
  /**
   * A Redis call that has not answered within this many ms counts as Redis being unavailable (the
   * adapter closes the connection with 1011 and acknowledges nothing more). The call may still be
   * applied later; fencing and the atomic batch keep that safe (docs/protocol.md §9).
   * @default 2000
   */
  commandTimeout?: number;
}

/** node-redis's code for a RESP bulk string (`$`): mapped to Buffer so binary payloads survive. */
const RESP_BLOB_STRING = 36;
const AS_BUFFERS = { typeMapping: { [RESP_BLOB_STRING]: Buffer } };
const TEXT = 0x74; // 't'
const BINARY_TAG = Buffer.from('b');

/**
 * A session store in Redis, shared by every node given the same Redis and prefix: any node can
 * resume any session, so a load balancer may route each connection anywhere (round robin), and a
 * node can die at any moment without losing a session. One Lua script call per batch of a session
 * (every message received and sent in one tick of that session), pipelined by node-redis with the
 * batches of other sessions; see ./scripts.ts for the keys.
 * @throws {TetherServerError} `INVALID_OPTION` for an invalid option.
 * @example
 * import { createClient } from 'redis';
 * import { createTetherServer } from 'tether-ws/server';
 * import { createRedisStore } from 'tether-ws/server/redis';
 *
 * const client = await createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true }).connect();
 * const tether = createTetherServer({ store: createRedisStore({ client }) });
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', options, 'an object with a connected node-redis "client"');
  }
  const {
    client,
    keyPrefix = 'tether:',
    maxSessions = Number.POSITIVE_INFINITY,
    commandTimeout = 2000,
  } = options;
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function') {
    throw invalid('client', client, 'a connected node-redis client (createClient() from "redis")');
  }
  if (typeof keyPrefix !== 'string' || !/^[^{}]{1,64}$/.test(keyPrefix)) {
    throw invalid('keyPrefix', keyPrefix, 'a string of 1 to 64 characters without "{" or "}"');
  }
  if (!(maxSessions === Number.POSITIVE_INFINITY || (Number.isInteger(maxSessions) && maxSessions >= 1))) {
    throw invalid('maxSessions', maxSessions, 'an integer >= 1, or Infinity');
  }
  if (!(Number.isInteger(commandTimeout) && commandTimeout >= 1 && commandTimeout <= 2_147_483_647)) {
    throw invalid('commandTimeout', commandTimeout, 'an integer from 1 to 2147483647 (ms)');
  }
  return new RedisStore(client, keyPrefix, maxSessions, commandTimeout);
}

class RedisStore implements SessionStore {
  readonly shared = true;
  readonly #index: string;

  constructor(
    private readonly client: RedisCommandClient,
    private readonly prefix: string,
    private readonly maxSessions: number,
    private readonly timeout: number,
  ) {
    this.#index = `${prefix}sessions`;
  }

  async claim({ sid, owner, peerRecv, ttl, keyHash }: ClaimRequest): Promise<ClaimResult> {
    const args = [owner, String(peerRecv), String(ttl), keyHash];
    const reply = (await this.#run(CLAIM, this.#keys(sid), args, true)) as Array<Buffer | number> | undefined;
    const status = String(reply?.[0]);
    if (status === 'refused' || status === 'wrong-key') return { status };
    const limit = Number.isFinite(this.maxSessions) ? this.maxSessions : -1;
    if (status === 'created') {
      const admitted = await this.#run(ADMIT, [this.#index], [sid, String(ttl), String(limit)]);
      if (admitted === 1) return { status: 'created' };
      await this.#run(REMOVE, this.#keys(sid), [owner]);
      return { status: 'full' };
    }
    if (status !== 'resumed' || reply === undefined) throw unexpected('CLAIM', reply);
    await this.#run(ADMIT, [this.#index], [sid, String(ttl), '-1']);
    const [, recv, sent, acked, written, ...items] = reply;
    return {
      status: 'resumed',
      recv: Number(recv),
      sent: Number(sent),
      acked: Number(acked),
      written: Number(written),
      pending: items.map((item) => decodePayload(item as Buffer)),
    };
  }

  async commit(sid: string, owner: string, batch: SessionBatch): Promise<boolean> {
    const args: Array<string | Buffer> = [
      owner,
      String(batch.recv),
      String(batch.acked),
      String(batch.written),
      String(batch.ttl),
    ];
    for (const payload of batch.append) args.push(encodePayload(payload));
    return (await this.#run(COMMIT, this.#keys(sid), args)) === 1;
  }

  async keepAlive(sid: string, owner: string, ttl: number): Promise<boolean> {
    const [alive] = await Promise.all([
      this.#run(KEEP_ALIVE, this.#keys(sid), [owner, String(ttl)]),
      this.#run(ADMIT, [this.#index], [sid, String(ttl), '-1']),
    ]);
    return alive === 1;
  }

  async remove(sid: string, owner: string): Promise<boolean> {
    const removed = (await this.#run(REMOVE, this.#keys(sid), [owner])) === 1;
    if (removed) await this.#call(['ZREM', this.#index, sid]);
    return removed;
  }

  async stats(): Promise<StoreStats> {
    return { sessions: Number(await this.#run(COUNT, [this.#index], [])) };
  }

  #keys(sid: string): [string, string] {
    // `{sid}` is the hash tag: both keys of a session land in one Redis Cluster slot.
    return [`${this.prefix}{${sid}}:s`, `${this.prefix}{${sid}}:o`];
  }

  /** EVALSHA, and EVAL once when Redis does not know the script (first use, or after a restart). */
  async #run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>, buffers = false) {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#call(['EVALSHA', script.sha, ...tail], buffers);
    } catch (error) {
      if (!(error instanceof Error) || !String(error.message).startsWith('NOSCRIPT')) throw error;
      return this.#call(['EVAL', script.source, ...tail], buffers);
    }
  }

  /** One command, bounded by `commandTimeout`; any failure becomes `STORE_UNAVAILABLE`. */
  async #call(args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis within ${this.timeout} ms`)),
        this.timeout,
      );
    });
    try {
      return await Promise.race([this.client.sendCommand(args, buffers ? AS_BUFFERS : undefined), timedOut]);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) throw error;
      throw new TetherServerError(
        'STORE_UNAVAILABLE',
        `Redis session store: ${String(args[0])} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

function encodePayload(payload: StoredPayload): string | Buffer {
  return typeof payload === 'string' ? `t${payload}` : Buffer.concat([BINARY_TAG, payload]);
}

function decodePayload(item: Buffer): StoredPayload {
  const body = item.subarray(1);
  return item[0] === TEXT ? body.toString('utf8') : body;
}

function unexpected(script: string, reply: unknown): TetherServerError {
  return new TetherServerError(
    'STORE_UNAVAILABLE',
    `Redis session store: unexpected ${script} reply ${JSON.stringify(reply)}; is another program using the same keys?`,
  );
}

function invalid(name: string, value: unknown, expected: string): TetherServerError {
  const got = typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
  const shown = typeof value === 'number' ? String(value) : got;
  return new TetherServerError(
    'INVALID_OPTION',
    `Invalid option "${name}": got ${shown}; expected ${expected}.`,
  );
}
