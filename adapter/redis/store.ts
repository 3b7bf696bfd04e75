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
import { ADJUST, COUNT, DUE, ENLIST, REINDEX, SETTLE, UNINDEX, WITHDRAW } from './count-scripts.js';
import { CLAIM, COMMIT, KEEP_ALIVE, PEEK, REAP, RECHECK_MS, REMOVE, type Script } from './scripts.js';

/**
 * What the store needs of a Redis client: node-redis's `sendCommand` (the `redis` package, 5.x and
 * 6.x). Either a client from `createClient()` or a Redis Cluster client from `createCluster()`
 * fits. Pass it connected; the store never connects, reconnects or closes it, so one client can
 * serve the store and the application.
 */
export type RedisCommandClient = RedisSingleClient | RedisClusterClient;

/** A client of one Redis (`createClient()`). */
export interface RedisSingleClient {
  sendCommand(
    args: ReadonlyArray<string | Buffer>,
    options?: { typeMapping?: Record<number, unknown> },
  ): Promise<unknown>;
}

/**
 * A Redis Cluster client (`createCluster()`): it routes each command by its first key. Every
 * script the store runs takes keys of one hash slot (see ./scripts.ts and ./count-scripts.ts).
 */
export interface RedisClusterClient {
  readonly masters: readonly unknown[];
  sendCommand(
    firstKey: string | Buffer | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<string | Buffer>,
    options?: { typeMapping?: Record<number, unknown> },
  ): Promise<unknown>;
}

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * A connected node-redis client (`await createClient({ url }).connect()`), or a connected Redis
   * Cluster client (`await createCluster({ rootNodes }).connect()`).
   */
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
   * messages), reserved before each write that adds bytes. A batch that would go over it is refused
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
/** Most leases one reap() takes (each of up to `limit` due sessions). */
const REAP_ROUNDS = 10;
const BINARY_TAG = Buffer.from('b');

/**
 * A session store in Redis, shared by every node given the same Redis and prefix: any node can
 * resume any session, so a load balancer may route each connection anywhere (round robin), and a
 * node can die at any moment without losing a session. One Lua script call per batch of a session
 * (every message received and sent in one tick of that session), pipelined by node-redis with the
 * batches of other sessions, plus the store-wide counts (sessions and buffered bytes, for the
 * limits) in their own scripts: one before a batch that adds bytes when `maxTotalBufferedBytes` is
 * set, one after a batch that changes them. Every script takes keys of one hash slot, so a Redis
 * Cluster client (`createCluster()`) works as well as a one-Redis client; see ./scripts.ts.
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
    throw invalid(
      'client',
      client,
      'a connected node-redis client (createClient() or createCluster() from "redis")',
    );
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
  /** The store-wide keys every counting script takes (see ./count-scripts.ts), one hash slot. */
  readonly #counts: readonly string[];
  /** The limits as the scripts take them: -1 for none. */
  readonly #maxSessions: string;
  readonly #maxBytes: string;
  readonly #send: (key: string, args: ReadonlyArray<string | Buffer>, buffers: boolean) => Promise<unknown>;

  constructor(
    client: RedisCommandClient,
    private readonly prefix: string,
    maxSessions: number,
    maxTotalBufferedBytes: number,
    private readonly timeout: number,
  ) {
    const tag = `${prefix}{#counts}`;
    this.#counts = ['index', 'bytes', 'ver', 'settled', 'owner', 'reserved', 'withdrawn'].map(
      (name) => `${tag}:${name}`,
    );
    this.#maxSessions = Number.isFinite(maxSessions) ? String(maxSessions) : '-1';
    this.#maxBytes = Number.isFinite(maxTotalBufferedBytes) ? String(maxTotalBufferedBytes) : '-1';
    this.#send = isCluster(client)
      ? (key, args, buffers) => client.sendCommand(key, false, args, buffers ? AS_BUFFERS : undefined)
      : (_key, args, buffers) => client.sendCommand(args, buffers ? AS_BUFFERS : undefined);
  }

  /**
   * Looked at first (a hello the claim would refuse is refused here, before anything is counted
   * or changed), then listed (within `maxSessions`), then claimed, then settled: the session is
   * counted before it exists, and the claim's owner is the one whose byte reservations count.
   */
  async claim({ sid, owner, peerRecv, ttl, keyHash }: ClaimRequest): Promise<ClaimResult> {
    const keys = this.#keys(sid);
    const seen = String(await this.#run(PEEK, keys, [String(peerRecv), keyHash]));
    if (seen === 'wrong-key' || seen === 'refused') return { status: seen };
    if (seen !== 'absent' && seen !== 'ok') throw unexpected('PEEK', seen);
    const listed = (await this.#counted(ENLIST, [sid, String(ttl), this.#maxSessions])) as unknown[];
    if (listed[0] === 'full') return { status: 'full' };
    const ver = String(listed[1]);
    if (listed[0] !== 'listed' && listed[0] !== 'added') throw unexpected('ENLIST', listed);
    const args = [owner, String(peerRecv), String(ttl), keyHash, ver];
    const reply = (await this.#run(CLAIM, keys, args, true)) as Array<Buffer | number> | undefined;
    const status = String(reply?.[0]);
    if (status === 'refused' || status === 'wrong-key') {
      await this.#withdraw(sid, ver, String(reply?.[1])).catch(() => {}); // failing: counted high, until reaped
      return { status };
    }
    if (status === 'created') {
      await this.#counted(SETTLE, [sid, ver, owner, '0']);
      return { status };
    }
    if (status !== 'resumed' || reply === undefined) throw unexpected('CLAIM', reply);
    const [, bytes, recv, sent, acked, written, ...items] = reply;
    await this.#counted(SETTLE, [sid, ver, owner, String(bytes)]);
    return {
      status: 'resumed',
      recv: Number(recv),
      sent: Number(sent),
      acked: Number(acked),
      written: Number(written),
      pending: items.map((item) => decodePayload(item as Buffer)),
    };
  }

  /**
   * With a byte limit, what the batch appends is reserved first (refused: `full`, nothing
   * written), released again if the commit is fenced; what its acknowledgement drops is released
   * after it. Without one, the count follows the commit in one adjustment, off the batch's path.
   */
  async commit(sid: string, owner: string, batch: SessionBatch): Promise<CommitResult> {
    const args: Array<string | Buffer> = [
      owner,
      String(batch.recv),
      String(batch.acked),
      String(batch.written),
      String(batch.ttl),
    ];
    let appended = 0;
    for (const payload of batch.append) {
      args.push(encodePayload(payload));
      appended += typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
    }
    const reserve = appended > 0 && this.#maxBytes !== '-1';
    if (reserve) {
      const reserved = await this.#counted(ADJUST, [sid, owner, String(appended), this.#maxBytes]);
      if (reserved === 0) return 'fenced';
      if (reserved === 2) return 'full';
      if (reserved !== 1) throw unexpected('ADJUST', reserved);
    }
    // If this fails, applied or not, nobody knows: the reservation stays (too high, never too
    // low) until the session's next claim settles it, or the session ends.
    const reply = await this.#run(COMMIT, this.#keys(sid), args);
    const [status, dropped] = reply as [number, number];
    if (status === 0) {
      if (reserve) this.#adjust(sid, owner, -appended);
      return 'fenced';
    }
    if (status !== 1) throw unexpected('COMMIT', reply);
    this.#adjust(sid, owner, (reserve ? 0 : appended) - Number(dropped));
    return 'stored';
  }

  async keepAlive(sid: string, owner: string, ttl: number): Promise<boolean> {
    return (await this.#run(KEEP_ALIVE, this.#keys(sid), [owner, String(ttl)])) === 1;
  }

  async remove(sid: string, owner: string): Promise<boolean> {
    const reply = (await this.#run(REMOVE, this.#keys(sid), [owner])) as [number, string?];
    if (reply[0] !== 1) return false;
    // If this fails, reap() finds the session gone and unlists it then.
    await this.#counted(UNINDEX, [sid, String(reply[1])]).catch(() => {});
    return true;
  }

  async stats(): Promise<StoreStats> {
    const [sessions, bufferedBytes] = (await this.#counted(COUNT, [])) as [number, number];
    return { sessions: Number(sessions), bufferedBytes: Number(bufferedBytes) };
  }

  /**
   * Looks at up to `limit` listed sessions whose time is due (leased, so that other servers look
   * at others): one that expired is deleted and handed over (REAP deletes it once, so two
   * servers never report one session), one found gone is unlisted, one still alive is looked at
   * again when its time to live has run. A server that dies between the steps leaves its leased
   * sessions to the next look, RECHECK_MS later.
   */
  async reap(limit: number): Promise<ReapedSession[]> {
    const reaped: ReapedSession[] = [];
    // Most due sessions are alive (held, renewed since they were listed): look on, up to
    // REAP_ROUNDS leases, until `limit` were reaped or none is due.
    for (let round = 0; round < REAP_ROUNDS && reaped.length < limit; round++) {
      const wanted = limit - reaped.length;
      const due = (await this.#counted(DUE, [String(wanted)])) as string[];
      const looks: Array<Promise<ReapedSession | undefined>> = [];
      for (let i = 0; i + 1 < due.length; i += 2) looks.push(this.#look(String(due[i]), String(due[i + 1])));
      for (const session of await Promise.all(looks)) if (session !== undefined) reaped.push(session);
      if (due.length < 2 * wanted) break;
    }
    return reaped;
  }

  async #look(sid: string, listedVer: string): Promise<ReapedSession | undefined> {
    const reply = (await this.#run(REAP, this.#keys(sid), [], true)) as Array<Buffer | number>;
    const status = String(reply[0]);
    if (status === 'alive') {
      const left = Number(reply[1]);
      await this.#counted(REINDEX, [sid, String(left >= 0 ? left : RECHECK_MS)]);
      return undefined;
    }
    if (status === 'gone') {
      await this.#counted(UNINDEX, [sid, listedVer]);
      return undefined;
    }
    if (status !== 'reaped') throw unexpected('REAP', reply);
    await this.#counted(UNINDEX, [sid, String(reply[1])]).catch(() => {}); // else: gone, next look
    return { sid, undelivered: reply.slice(2).map((item) => decodePayload(item as Buffer)) };
  }

  /**
   * CLAIM refused a claim that ENLIST had listed as version `ver` (the session appeared after
   * PEEK): the counts go back to what the refusing session, version `held`, left them. If that
   * session ended meanwhile, its UNINDEX found `ver` newer and did nothing: it is done here.
   */
  async #withdraw(sid: string, ver: string, held: string): Promise<void> {
    if ((await this.#counted(WITHDRAW, [sid, ver, held])) !== 1) return; // a newer claim settles it
    const [state] = this.#keys(sid) as [string];
    if (Number(await this.#call(state, ['EXISTS', state])) === 0) await this.#counted(UNINDEX, [sid, held]);
  }

  /** A change of the session's reservation, not waited for: failing, it leaves the count too high. */
  #adjust(sid: string, owner: string, delta: number): void {
    if (delta === 0) return;
    this.#counted(ADJUST, [sid, owner, String(delta), '-1']).catch(() => {});
  }

  #keys(sid: string): string[] {
    // `{sid}` is the hash tag: a session's keys share one slot (see ./scripts.ts on Cluster).
    return [`${this.prefix}{${sid}}:s`, `${this.prefix}{${sid}}:o`];
  }

  /** A store-wide script: its keys, then `sid` first among ARGV where it has one. */
  #counted(script: Script, args: readonly string[]) {
    return this.#run(script, this.#counts, args);
  }

  /** EVALSHA, and EVAL once when Redis does not know the script (first use, or after a restart). */
  async #run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>, buffers = false) {
    const tail = [String(keys.length), ...keys, ...args];
    const first = keys[0] as string;
    try {
      return await this.#call(first, ['EVALSHA', script.sha, ...tail], buffers);
    } catch (error) {
      if (!(error instanceof Error) || !String(error.message).startsWith('NOSCRIPT')) throw error;
      return this.#call(first, ['EVAL', script.source, ...tail], buffers);
    }
  }

  /** One command, bounded by `commandTimeout`; any failure becomes `STORE_UNAVAILABLE`. */
  async #call(key: string, args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis within ${this.timeout} ms`)),
        this.timeout,
      );
    });
    try {
      return await Promise.race([this.#send(key, args, buffers), timedOut]);
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

/** A Redis Cluster client (`createCluster()`) has `masters`; a one-Redis client has not. */
function isCluster(client: RedisCommandClient): client is RedisClusterClient {
  return Array.isArray((client as { masters?: unknown }).masters);
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
