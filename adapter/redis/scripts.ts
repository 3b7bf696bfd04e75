/**
 * The Lua scripts of the Redis session store. Each runs atomically in Redis, and each touches the
 * keys of one hash slot only, so the store works on Redis Cluster as on one Redis: a session's
 * scripts take its two keys, the counting scripts take the store-wide keys, never both.
 *
 * Keys of one session (hash tag `{<sid>}`):
 * - `<prefix>{<sid>}:s`, a hash: `owner` (the token of the node holding it), `key` (hex SHA-256 of
 *   the session key, or empty), `recv`, `sent`, `acked`, `written` (see StoredSession in
 *   ../store.ts), `bytes` (payload bytes of its unacknowledged messages), `ver` (the version of
 *   the claim that last took it, see ./count-scripts.ts);
 * - `<prefix>{<sid>}:o`, a list: the unacknowledged outbound payloads, seq `acked + 1` first, each
 *   prefixed with `t` (text) or `b` (binary).
 * Both carry the session's time to live (PEXPIRE) plus REAP_GRACE_MS, renewed by every write of
 * its owner: a session whose PTTL is at most REAP_GRACE_MS has expired, with its keys still there
 * for a reaper. Expiry is Redis's own (relative times, no clock compared across nodes).
 *
 * The store-wide counts (the limits, `reap()`) have their own scripts, in ./count-scripts.ts; a
 * claim reads the session first (PEEK), so that a hello CLAIM would refuse changes nothing there.
 */
import { createHash } from 'node:crypto';

export interface Script {
  readonly source: string;
  readonly sha: string;
}

/** A script with its SHA-1, for EVALSHA; every script starts with the shared PRELUDE. */
export function script(body: string): Script {
  const source = PRELUDE + body;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * How long a session's keys outlive its expiry, in ms: the time servers have to report it
 * (`reap()`, every 5 s on every server) before Redis drops it unreported.
 */
export const REAP_GRACE_MS = 60_000;

/**
 * How long `reap()` leases the sessions it looks at (their index score moves this far ahead), so
 * that concurrent reapers do not look at the same ones, and a reaper that died between its steps
 * leaves them to be looked at again.
 */
export const RECHECK_MS = 15_000;

const PRELUDE = `
local GRACE = ${REAP_GRACE_MS}
local clock
local function now()
  if clock == nil then
    local t = redis.call('TIME')
    clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return clock
end
local function keep(key, ttl)
  redis.call('PEXPIRE', key, tonumber(ttl) + GRACE)
end
-- Payload bytes of stored items (each carries a one-byte kind tag).
local function sum(items)
  local n = 0
  for i = 1, #items do n = n + #items[i] - 1 end
  return n
end
`;

// ---- Scripts of one session: KEYS[1] its state hash, KEYS[2] its outbox list. ----

/**
 * Before anything is counted, read only. ARGV: peerRecv, keyHash. Reply: 'absent', 'ok' (CLAIM
 * would resume it), 'wrong-key' or 'refused' (CLAIM would refuse it: the claim stops here).
 */
export const PEEK = script(`
local f = redis.call('HMGET', KEYS[1], 'key', 'acked', 'written')
if not f[1] then return 'absent' end
if f[1] ~= '' and f[1] ~= ARGV[2] then return 'wrong-key' end
local peer = tonumber(ARGV[1])
if peer < tonumber(f[2]) or peer > tonumber(f[3]) then return 'refused' end
return 'ok'
`);

/**
 * ARGV: owner, peerRecv, ttl, keyHash, ver (from ENLIST). Reply: {'created'} | {'wrong-key', held}
 * | {'refused', held} (`held`: the version of the session, which is left as it was) | {'resumed',
 * bytes, recv, sent, acked, written, payload...} (`bytes`: what is buffered after the hello's ack).
 */
export const CLAIM = script(`
local s, o = KEYS[1], KEYS[2]
local owner, peer, ttl, key, ver = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', s) == 0 then
  redis.call('DEL', o)
  redis.call('HSET', s, 'owner', owner, 'key', key, 'recv', 0, 'sent', 0, 'acked', 0, 'written', 0, 'bytes', 0, 'ver', ver)
  keep(s, ttl)
  return {'created'}
end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written', 'key', 'bytes', 'ver')
local recv, sent, acked, written = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
local bytes = tonumber(f[6])
if f[5] ~= '' and f[5] ~= key then return {'wrong-key', f[7]} end
if peer < acked or peer > written then return {'refused', f[7]} end
if peer > acked then
  bytes = bytes - sum(redis.call('LRANGE', o, 0, peer - acked - 1))
  redis.call('LTRIM', o, peer - acked, -1)
  acked = peer
end
-- The new owner writes every pending message at once, so written catches up with sent.
redis.call('HSET', s, 'owner', owner, 'acked', acked, 'written', sent, 'bytes', bytes, 'ver', ver)
keep(s, ttl)
keep(o, ttl)
local reply = {'resumed', bytes, recv, sent, acked, sent}
local items = redis.call('LRANGE', o, 0, -1)
for i = 1, #items do reply[#reply + 1] = items[i] end
return reply
`);

/**
 * ARGV: owner, recv, acked, written, ttl, payload... Reply: {0} (fenced: another owner, or gone)
 * | {1, dropped} (stored; `dropped`: payload bytes its acknowledgement took out, for release).
 */
export const COMMIT = script(`
local s, o = KEYS[1], KEYS[2]
local first = 6
if redis.call('HGET', s, 'owner') ~= ARGV[1] then return {0} end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written', 'bytes')
local recv = math.max(tonumber(f[1]), tonumber(ARGV[2]))
local sent, acked, bytes = tonumber(f[2]), tonumber(f[3]), tonumber(f[5])
local written = math.max(tonumber(f[4]), tonumber(ARGV[4]))
local appended = math.max(0, #ARGV - first + 1)
local ack = math.min(tonumber(ARGV[3]), sent + appended)
for i = first, #ARGV do bytes = bytes + #ARGV[i] - 1 end
-- RPUSH in slices: unpack() of thousands of values would overflow Lua's C stack.
for i = first, #ARGV, 1000 do
  redis.call('RPUSH', o, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
sent = sent + appended
local dropped = 0
if ack > acked then
  dropped = sum(redis.call('LRANGE', o, 0, ack - acked - 1))
  redis.call('LTRIM', o, ack - acked, -1)
  acked = ack
end
bytes = bytes - dropped
redis.call('HSET', s, 'recv', recv, 'sent', sent, 'acked', acked, 'written', written, 'bytes', bytes)
keep(s, ARGV[5])
keep(o, ARGV[5])
return {1, dropped}
`);

/** ARGV: owner, ttl. Reply: 1, or 0 when fenced. */
export const KEEP_ALIVE = script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
keep(KEYS[1], ARGV[2])
keep(KEYS[2], ARGV[2])
return 1
`);

/** ARGV: owner. Reply: {1, ver} (deleted), or {0} when fenced. */
export const REMOVE = script(`
local f = redis.call('HMGET', KEYS[1], 'owner', 'ver')
if f[1] ~= ARGV[1] then return {0} end
redis.call('DEL', KEYS[1], KEYS[2])
return {1, f[2]}
`);

/**
 * No ARGV. A session `reap()` looks at: {'gone'} (no keys: removed, or dropped by Redis), {'alive',
 * ms} (its time to live runs `ms` more; -1: none set), or, if it expired, deletes its keys and
 * replies {'reaped', ver, payload...}, once (the next call finds it gone).
 */
export const REAP = script(`
local left = redis.call('PTTL', KEYS[1])
if left == -2 then return {'gone'} end
if left == -1 or left > GRACE then return {'alive', left == -1 and -1 or left - GRACE} end
local reply = {'reaped', redis.call('HGET', KEYS[1], 'ver')}
local items = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #items do reply[#reply + 1] = items[i] end
redis.call('DEL', KEYS[1], KEYS[2])
return reply
`);
