import { TetherServerError } from '../errors.js';
import type {
  ClaimRequest,
  ClaimResult,
  CommitResult,
  ReapedSession,
  SessionBatch,
  SessionStore,
  StoredPayload,
  StoreStats,
} from '../store.js';
import { CLAIM, COMMIT, COUNT, KEEP_ALIVE, POP_EXPIRED, REAP, REMOVE, type Script } from './scripts.js';

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
   * Most payload bytes buffered in Redis across every node's sessions (their unacknowledged
   * messages), counted in the same script as each write. A batch that would go over it is refused
   * whole, and the adapter ends that session (`lost` `'evicted'`, bye, close 1013). An integer >= 0,
   * or `Infinity`. Each adapter's own `maxTotalBufferedBytes` bounds that server's memory; this
   * bounds Redis's.
   * @default Infinity
   */
  maxTotalBufferedBytes?: number;
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
 * batches of other sessions; see ./scripts.ts for the keys. The store-wide counts (sessions and
 * buffered bytes, for its limits) are written by the same scripts, so they need one Redis (a
 * primary, with replicas if you like), not Redis Cluster.
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
    maxTotalBufferedBytes = Number.POSITIVE_INFINITY,
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
  if (
    !(
      maxTotalBufferedBytes === Number.POSITIVE_INFINITY ||
      (Number.isInteger(maxTotalBufferedBytes) && maxTotalBufferedBytes >= 0)
    )
  ) {
    throw invalid('maxTotalBufferedBytes', maxTotalBufferedBytes, 'an integer >= 0, or Infinity');
  }
  if (!(Number.isInteger(commandTimeout) && commandTimeout >= 1 && commandTimeout <= 2_147_483_647)) {
    throw invalid('commandTimeout', commandTimeout, 'an integer from 1 to 2147483647 (ms)');
  }
  return new RedisStore(client, keyPrefix, maxSessions, maxTotalBufferedBytes, commandTimeout);
}

class RedisStore implements SessionStore {
  readonly shared = true;
  /** The store-wide keys every script takes last (see ./scripts.ts). */
  readonly #counts: readonly string[];
  /** The limits as the scripts take them: -1 for none. */
  readonly #maxSessions: string;
  readonly #maxBytes: string;

  constructor(
    private readonly client: RedisCommandClient,
    private readonly prefix: string,
    maxSessions: number,
    maxTotalBufferedBytes: number,
    private readonly timeout: number,
  ) {
    this.#counts = [`${prefix}expired`, `${prefix}sessions`, `${prefix}bytes`, `${prefix}bytes-total`];
    this.#maxSessions = Number.isFinite(maxSessions) ? String(maxSessions) : '-1';
    this.#maxBytes = Number.isFinite(maxTotalBufferedBytes) ? String(maxTotalBufferedBytes) : '-1';
  }

  async claim({ sid, owner, peerRecv, ttl, keyHash }: ClaimRequest): Promise<ClaimResult> {
    const args = [sid, owner, String(peerRecv), String(ttl), keyHash, this.#maxSessions];
    const reply = (await this.#run(CLAIM, this.#keys(sid), args, true)) as Array<Buffer | number> | undefined;
    const status = String(reply?.[0]);
    if (status === 'created' || status === 'full' || status === 'refused' || status === 'wrong-key') {
      return { status };
    }
    if (status !== 'resumed' || reply === undefined) throw unexpected('CLAIM', reply);
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

  async commit(sid: string, owner: string, batch: SessionBatch): Promise<CommitResult> {
    const args: Array<string | Buffer> = [
      sid,
      owner,
      String(batch.recv),
      String(batch.acked),
      String(batch.written),
      String(batch.ttl),
      this.#maxBytes,
    ];
    for (const payload of batch.append) args.push(encodePayload(payload));
    const reply = await this.#run(COMMIT, this.#keys(sid), args);
    if (reply === 1) return 'stored';
    if (reply === 0) return 'fenced';
    if (reply === 2) return 'full';
    throw unexpected('COMMIT', reply);
  }

  async keepAlive(sid: string, owner: string, ttl: number): Promise<boolean> {
    return (await this.#run(KEEP_ALIVE, this.#keys(sid), [sid, owner, String(ttl)])) === 1;
  }

  async remove(sid: string, owner: string): Promise<boolean> {
    return (await this.#run(REMOVE, this.#keys(sid), [sid, owner])) === 1;
  }

  async stats(): Promise<StoreStats> {
    const [sessions, bufferedBytes] = (await this.#run(COUNT, this.#counts, [])) as [number, number];
    return { sessions: Number(sessions), bufferedBytes: Number(bufferedBytes) };
  }

  async reap(limit: number): Promise<ReapedSession[]> {
    // Popped first, so that two servers never report one session; one that dies in between leaves
    // those sessions to expire unreported (REAP_GRACE_MS later).
    const sids = (await this.#run(POP_EXPIRED, this.#counts, [String(limit)])) as string[];
    const reaped = await Promise.all(
      sids.map(async (sid) => {
        const reply = (await this.#run(REAP, this.#keys(sid), [sid], true)) as Array<Buffer | number>;
        if (reply[0] !== 1) return undefined;
        return { sid, undelivered: reply.slice(1).map((item) => decodePayload(item as Buffer)) };
      }),
    );
    return reaped.filter((session) => session !== undefined);
  }

  #keys(sid: string): string[] {
    // `{sid}` is the hash tag: a session's own keys share one slot (see ./scripts.ts on Cluster).
    return [`${this.prefix}{${sid}}:s`, `${this.prefix}{${sid}}:o`, ...this.#counts];
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
