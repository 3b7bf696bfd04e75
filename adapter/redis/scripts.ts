/**
 * The Lua scripts of the Redis session store. Each runs atomically in Redis, which is what makes
 * the fencing hold (the owner check and the write it guards cannot be split by another node's
 * claim) and what keeps the store-wide counts exact: a session's write and the counts it changes
 * are one step, so a node that dies between two commands leaves nothing half-counted.
 *
 * Keys of one session (hash-tagged by the session id):
 * - `<prefix>{<sid>}:s`, a hash: `owner` (the token of the node holding it), `key` (hex SHA-256 of
 *   the session key, or empty), `recv`, `sent`, `acked`, `written` (see StoredSession in
 *   ../store.ts), `bytes` (payload bytes of its unacknowledged messages);
 * - `<prefix>{<sid>}:o`, a list: the unacknowledged outbound payloads, seq `acked + 1` first, each
 *   prefixed with `t` (text) or `b` (binary).
 * Both carry the session's time to live (PEXPIRE) plus REAP_GRACE_MS, renewed by every write of
 * its owner.
 *
 * Store-wide keys, written by the same scripts:
 * - `<prefix>sessions`, a sorted set: member sid, score the time its keys expire at (Redis's
 *   clock, so nodes whose clocks disagree still agree on what expired), for `maxSessions`;
 * - `<prefix>bytes`, a hash: sid → its `bytes`, and `<prefix>bytes-total`, their sum, for
 *   `maxTotalBufferedBytes`.
 * - `<prefix>expired`, a list of sids whose expiry in the index passed.
 * A session that expires (its owner died and nobody resumed it) is taken out of the counts by the
 * next script that runs ("prune" below) and listed in `expired`; a server's `reap()` then takes
 * its unacknowledged messages (REAP) to report it, within REAP_GRACE_MS, after which Redis drops
 * its keys anyway.
 *
 * Because every script touches the store-wide keys along with a session's, they need one Redis (or
 * a primary with replicas); in Redis Cluster they would be cross-slot. The `{sid}` hash tags keep a
 * session's own keys in one slot all the same.
 */
import { createHash } from 'node:crypto';

export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(body: string): Script {
  const source = PRELUDE + body;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Shared by every script. The last four KEYS: the expired list, the index, the per-session byte
 * counts, the byte total. `now()`: Redis's clock in ms. `prune()`: takes up to 100 expired
 * sessions out of the counts and lists them for `reap()`. `keep(key, ttl)`: a session key's time
 * to live, GRACE ms beyond its expiry in the index, so that a reaper finds its messages.
 * `account(sid, bytes)`: sets a session's byte count (0 when it is gone) and moves the total.
 * `renew(sid, ttl)`: the session's expiry in the index.
 */
/**
 * How long a session's keys outlive its expiry in the index, in ms: the time servers have to
 * report it (`reap()`, every 5 s on every server) before Redis drops it unreported.
 */
export const REAP_GRACE_MS = 60_000;

const PRELUDE = `
local expired, index, sizes, total = KEYS[#KEYS - 3], KEYS[#KEYS - 2], KEYS[#KEYS - 1], KEYS[#KEYS]
local GRACE = ${REAP_GRACE_MS}
local function keep(key, ttl)
  redis.call('PEXPIRE', key, tonumber(ttl) + GRACE)
end
local clock
local function now()
  if clock == nil then
    local t = redis.call('TIME')
    clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return clock
end
local function account(sid, bytes)
  local old = tonumber(redis.call('HGET', sizes, sid)) or 0
  if bytes == old then return end
  redis.call('INCRBY', total, bytes - old)
  if bytes == 0 then redis.call('HDEL', sizes, sid) else redis.call('HSET', sizes, sid, bytes) end
end
local function prune()
  local gone = redis.call('ZRANGEBYSCORE', index, '-inf', now(), 'LIMIT', 0, 100)
  for i = 1, #gone do
    account(gone[i], 0)
    redis.call('ZREM', index, gone[i])
    redis.call('RPUSH', expired, gone[i])
  end
end
local function renew(sid, ttl)
  redis.call('ZADD', index, now() + ttl, sid)
end
-- Payload bytes of stored items (each carries a one-byte kind tag).
local function sum(items)
  local n = 0
  for i = 1, #items do n = n + #items[i] - 1 end
  return n
end
`;

/**
 * KEYS: state, outbox, expired, index, sizes, total. ARGV: sid, owner, peerRecv, ttl, keyHash, maxSessions
 * (-1: no limit). Reply: {'created'} | {'full'} | {'wrong-key'} | {'refused'} |
 * {'resumed', recv, sent, acked, written, payload...}.
 */
export const CLAIM = script(`
local s, o = KEYS[1], KEYS[2]
local sid, owner, peer, ttl, key, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
prune()
if redis.call('EXISTS', s) == 0 then
  if max >= 0 and redis.call('ZCARD', index) >= max then return {'full'} end
  redis.call('DEL', o)
  account(sid, 0)
  redis.call('HSET', s, 'owner', owner, 'key', key, 'recv', 0, 'sent', 0, 'acked', 0, 'written', 0, 'bytes', 0)
  keep(s, ttl)
  renew(sid, ttl)
  return {'created'}
end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written', 'key', 'bytes')
local recv, sent, acked, written = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
local bytes = tonumber(f[6])
if f[5] ~= '' and f[5] ~= key then return {'wrong-key'} end
if peer < acked or peer > written then return {'refused'} end
if peer > acked then
  bytes = bytes - sum(redis.call('LRANGE', o, 0, peer - acked - 1))
  redis.call('LTRIM', o, peer - acked, -1)
  acked = peer
end
-- The new owner writes every pending message at once, so written catches up with sent.
redis.call('HSET', s, 'owner', owner, 'acked', acked, 'written', sent, 'bytes', bytes)
keep(s, ttl)
keep(o, ttl)
renew(sid, ttl)
account(sid, bytes)
local reply = {'resumed', recv, sent, acked, sent}
local items = redis.call('LRANGE', o, 0, -1)
for i = 1, #items do reply[#reply + 1] = items[i] end
return reply
`);

/**
 * KEYS: state, outbox, expired, index, sizes, total. ARGV: sid, owner, recv, acked, written, ttl,
 * maxTotalBufferedBytes (-1: no limit), payload... Reply: 1 (stored), 0 (fenced: another owner),
 * 2 (refused whole: it would take the store's buffered bytes over the limit).
 */
export const COMMIT = script(`
local s, o = KEYS[1], KEYS[2]
local sid = ARGV[1]
local first = 8
prune()
if redis.call('HGET', s, 'owner') ~= ARGV[2] then return 0 end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written', 'bytes')
local recv = math.max(tonumber(f[1]), tonumber(ARGV[3]))
local sent, acked, bytes = tonumber(f[2]), tonumber(f[3]), tonumber(f[5])
local written = math.max(tonumber(f[4]), tonumber(ARGV[5]))
local appended = math.max(0, #ARGV - first + 1)
local ack = math.min(tonumber(ARGV[4]), sent + appended)
-- Bytes after the batch: plus what it appends, minus what it acknowledges (stored items first,
-- then, for an ack beyond them, the batch's own).
local after = bytes
for i = first, #ARGV do after = after + #ARGV[i] - 1 end
if ack > acked then
  local stored = math.min(ack, sent) - acked
  if stored > 0 then after = after - sum(redis.call('LRANGE', o, 0, stored - 1)) end
  for i = first, first + ack - sent - 1 do after = after - #ARGV[i] + 1 end
end
local max = tonumber(ARGV[7])
if max >= 0 and after > bytes and (tonumber(redis.call('GET', total)) or 0) + after - bytes > max then
  return 2
end
-- RPUSH in slices: unpack() of thousands of values would overflow Lua's C stack.
for i = first, #ARGV, 1000 do
  redis.call('RPUSH', o, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
sent = sent + appended
if ack > acked then
  redis.call('LTRIM', o, ack - acked, -1)
  acked = ack
end
redis.call('HSET', s, 'recv', recv, 'sent', sent, 'acked', acked, 'written', written, 'bytes', after)
keep(s, ARGV[6])
keep(o, ARGV[6])
renew(sid, tonumber(ARGV[6]))
account(sid, after)
return 1
`);

/** KEYS: state, outbox, expired, index, sizes, total. ARGV: sid, owner, ttl. Reply: 1, or 0 when fenced. */
export const KEEP_ALIVE = script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
keep(KEYS[1], ARGV[3])
keep(KEYS[2], ARGV[3])
renew(ARGV[1], tonumber(ARGV[3]))
return 1
`);

/** KEYS: state, outbox, expired, index, sizes, total. ARGV: sid, owner. Reply: 1, or 0 when fenced. */
export const REMOVE = script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', index, ARGV[1])
account(ARGV[1], 0)
return 1
`);

/** KEYS: expired, index, sizes, total. Forgets expired sessions. Reply: {sessions, bytes}. */
export const COUNT = script(`
prune()
return {redis.call('ZCARD', index), tonumber(redis.call('GET', total)) or 0}
`);

/**
 * KEYS: state, outbox, expired, index, sizes, total. ARGV: sid. A session `prune()` listed: if
 * nobody resumed it since (it is not in the index) and its keys are still there, deletes them and
 * returns its unacknowledged payloads, once. Reply: {1, payload...}, or {0}.
 */
export const REAP = script(`
if redis.call('ZSCORE', index, ARGV[1]) or redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local reply = {1}
local items = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #items do reply[#reply + 1] = items[i] end
redis.call('DEL', KEYS[1], KEYS[2])
return reply
`);

/** KEYS: expired, index, sizes, total. ARGV: limit. Prunes, then pops up to `limit` expired sids. */
export const POP_EXPIRED = script(`
prune()
return redis.call('LPOP', expired, ARGV[1]) or {}
`);
