import type { IncomingMessage } from 'node:http';
import { describeValue } from './describe.js';
import { TetherServerError } from './errors.js';
import { createMemoryStore } from './memory-store.js';
import { checkStore, type SessionStore } from './store.js';

/** What {@link TetherServerOptions.authorize} is asked about, before the session is touched. */
export interface AuthorizeRequest {
  /** The session id of the hello (equal to the URL's `tether_sid`, which is checked first). */
  readonly sid: string;
  /** The HTTP upgrade request passed to `tether.handle()`: cookies, headers, remote address. Absent if none was passed. */
  readonly request: IncomingMessage | undefined;
  /**
   * Whether this server holds a session with that id now: `true` means the hello would resume it
   * (or take it over from its connection), `false` that it would create it.
   */
  readonly held: boolean;
}

/** Returns (or resolves to) `true` to let the connection go on; anything else refuses it. */
export type Authorize = (request: AuthorizeRequest) => boolean | Promise<boolean>;

/** Options of {@link createTetherServer}. Every field is optional; the defaults are in {@link DEFAULT_TETHER_OPTIONS}. */
export interface TetherServerOptions {
  /**
   * How long a session whose connection dropped is kept for its client to resume, in ms. When it
   * passes, the session is discarded and its unacknowledged messages are reported (`lost`,
   * reason `'expired'`). Sent to clients in `welcome.window`. `0`: a session ends with its connection.
   * @default 60000
   */
  resumeWindow?: number;
  /**
   * The resume window, in ms, of a session whose client never acknowledged anything: it was sent
   * messages and acknowledged none, or nothing was exchanged at all. Such a session costs the
   * server memory without any sign of a working client behind it. The shorter of this and
   * `resumeWindow` applies.
   * @default 10000
   */
  unacknowledgedResumeWindow?: number;
  /**
   * Most unacknowledged messages a session may hold (sent while the client is away, or not yet
   * acknowledged). One more ends the session: `lost` with reason `'overflow'`, close 1008.
   * An integer >= 1, or `Infinity`.
   * @default 10000
   */
  maxBufferedMessages?: number;
  /**
   * Most payload bytes (UTF-8 for text) of unacknowledged messages a session may hold; beyond it the
   * session ends as for `maxBufferedMessages`. An integer >= 1, or `Infinity`.
   * @default 16777216 (16 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Most sessions held at once, attached or detached. A hello that would create one more ends the
   * oldest detached session (`lost` with reason `'evicted'`); if every session is attached, the new
   * one is refused with close 1013 "Server busy, try again later". An integer >= 1, or `Infinity`.
   * @default 10000
   */
  maxSessions?: number;
  /**
   * Most payload bytes buffered across all sessions. A `send()` that goes over it ends sessions
   * until the total fits again: detached ones first, longest detached first, then attached ones,
   * largest buffer first; each gets `lost` with reason `'evicted'` and its `undelivered` (an
   * attached one also bye and close 1013). An integer >= 1, or `Infinity`.
   * @default 134217728 (128 MiB)
   */
  maxTotalBufferedBytes?: number;
  /**
   * New sessions per second one remote address (`request.socket.remoteAddress`) may create, long
   * run; a hello over it is refused with close 1013. Resumes are not counted. `0`: no limit. Behind
   * a proxy every client has the proxy's address: raise it, or limit in `authorize`.
   * @default 10
   */
  sessionRate?: number;
  /**
   * New sessions one remote address may create in a burst above `sessionRate`.
   * @default 100
   */
  sessionBurst?: number;
  /**
   * Acknowledge at once when this many received messages are unacknowledged.
   * @default 32
   */
  ackBatch?: number;
  /**
   * Otherwise acknowledge this many ms after the first unacknowledged message.
   * @default 20
   */
  ackDelay?: number;
  /**
   * A connection that has not sent its `hello` within this many ms is closed with 1002; one whose
   * `authorize` has not answered within this many ms of its hello is closed with 1011.
   * `0` waits forever.
   * @default 10000
   */
  helloTimeout?: number;
  /**
   * Accept a hello without `key` (clients before the key was added, docs/protocol.md §4). Such a
   * session can be resumed by anyone who knows its id; leave this off unless you must serve them.
   * @default false
   */
  allowKeylessClients?: boolean;
  /**
   * Decides, after the hello and before anything happens to a session, whether this connection
   * may create (`held: false`) or resume and take over (`held: true`) session `sid`: bind sessions
   * to your own users here (a cookie, a token in a header). Sync or async. Anything but `true`
   * refuses: only this connection is closed, with 1008 "Session refused", and a held session,
   * its buffers and its connection are left untouched. A throw or rejection closes it with 1011
   * and is reported as `error`.
   * @default undefined (every connection may)
   */
  authorize?: Authorize;
  /**
   * Where sessions live (docs/protocol.md §9). Every change of a session is written there before
   * anything reaches its client. The default keeps them in this process; a shared store,
   * `createRedisStore()` from `tether-ws/server/redis`, lets any server resume any session, so
   * a load balancer may route every connection anywhere and a server may die at any moment.
   * @default createMemoryStore() (a new one per server)
   */
  store?: SessionStore;
}

type NumericOption = Exclude<keyof TetherServerOptions, 'authorize' | 'allowKeylessClients' | 'store'>;

export type ResolvedTetherOptions = Readonly<
  Required<Pick<TetherServerOptions, NumericOption | 'allowKeylessClients' | 'store'>> &
    Pick<TetherServerOptions, 'authorize'>
>;

/**
 * The defaults, in one place (docs/protocol.md §8 lists the same values). `store` is not among
 * them: each server gets its own memory store.
 */
export const DEFAULT_TETHER_OPTIONS: Omit<ResolvedTetherOptions, 'store'> = Object.freeze({
  resumeWindow: 60_000,
  unacknowledgedResumeWindow: 10_000,
  maxBufferedMessages: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxSessions: 10_000,
  maxTotalBufferedBytes: 128 * 1024 * 1024,
  sessionRate: 10,
  sessionBurst: 100,
  ackBatch: 32,
  ackDelay: 20,
  helloTimeout: 10_000,
  allowKeylessClients: false,
  authorize: undefined,
});

/** The longest delay `setTimeout` honours; a longer one fires at once (Node warns and uses 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

type Rule = { readonly min: number; readonly max: number; readonly infinite: boolean };

const RULES: Record<NumericOption, Rule> = {
  resumeWindow: { min: 0, max: MAX_TIMER_MS, infinite: false },
  unacknowledgedResumeWindow: { min: 0, max: MAX_TIMER_MS, infinite: false },
  maxBufferedMessages: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  maxBufferedBytes: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  maxSessions: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  maxTotalBufferedBytes: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: true },
  sessionRate: { min: 0, max: Number.MAX_SAFE_INTEGER, infinite: false },
  sessionBurst: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: false },
  ackBatch: { min: 1, max: Number.MAX_SAFE_INTEGER, infinite: false },
  ackDelay: { min: 0, max: MAX_TIMER_MS, infinite: false },
  helloTimeout: { min: 0, max: MAX_TIMER_MS, infinite: false },
};

const KNOWN = [...Object.keys(RULES), 'allowKeylessClients', 'authorize', 'store'];

/**
 * Checks `input` once and fills the defaults (with `??`: an explicit `0` is kept, `undefined` means
 * the default). Returns a frozen object; the rest of the adapter reads only that.
 * @throws {TetherServerError} `INVALID_OPTION` for an unknown option, a wrong type or a value out of range.
 */
export function normalizeTetherOptions(input: TetherServerOptions = {}): ResolvedTetherOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TetherServerError(
      'INVALID_OPTION',
      `Invalid options: got ${describeValue(input)}; expected an object or undefined.`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN.includes(key)) {
      throw new TetherServerError(
        'INVALID_OPTION',
        `Unknown option "${key}"; expected one of ${KNOWN.join(', ')}.`,
      );
    }
  }
  const numbers = {} as Record<NumericOption, number>;
  for (const key of Object.keys(RULES) as NumericOption[]) {
    numbers[key] = check(key, input[key] ?? DEFAULT_TETHER_OPTIONS[key], RULES[key]);
  }
  const allowKeylessClients = input.allowKeylessClients ?? DEFAULT_TETHER_OPTIONS.allowKeylessClients;
  if (typeof allowKeylessClients !== 'boolean') {
    throw invalid('allowKeylessClients', allowKeylessClients, 'true or false');
  }
  const authorize = input.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw invalid('authorize', authorize, 'a function or undefined');
  }
  const store = checkStore(input.store) ?? createMemoryStore();
  return Object.freeze({ ...numbers, allowKeylessClients, authorize, store });
}

function check(key: string, value: unknown, rule: Rule): number {
  if (rule.infinite && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max) {
    return value;
  }
  let expected = `an integer from ${rule.min} to ${rule.max}`;
  if (rule.infinite) expected = `an integer >= ${rule.min}, or Infinity`;
  else if (rule.max === Number.MAX_SAFE_INTEGER) expected = `an integer >= ${rule.min}`;
  throw invalid(key, value, expected);
}

function invalid(key: string, value: unknown, expected: string): TetherServerError {
  return new TetherServerError(
    'INVALID_OPTION',
    `Invalid option "${key}": got ${describeValue(value)}; expected ${expected}.`,
  );
}
