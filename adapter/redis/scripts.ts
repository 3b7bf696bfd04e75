/**
 * The Lua scripts of the Redis session store. Each runs atomically in Redis, which is what makes
 * the fencing hold: the owner check and the write it guards cannot be split by another node's claim.
 *
 * Keys of one session (hash-tagged by the session id, so that in Redis Cluster both live in one
 * slot and a script may touch them together):
 * - `<prefix>{<sid>}:s`, a hash: `owner` (the token of the node holding it), `key` (hex SHA-256 of
 *   the session key, or empty), `recv`, `sent`, `acked`, `written` (see StoredSession in ../store.ts);
 * - `<prefix>{<sid>}:o`, a list: the unacknowledged outbound payloads, seq `acked + 1` first, each
 *   prefixed with `t` (text) or `b` (binary).
 * Both carry the session's time to live (PEXPIRE), renewed by every write of its owner.
 *
 * The session index `<prefix>sessions` is a sorted set, member sid, score the time it expires at;
 * it lives in another slot, so it is written by separate commands (ADMIT, and ZADD/ZREM), and
 * counts sessions for the store-wide limit and for `stats()`.
 */
import { createHash } from 'node:crypto';

export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: state, outbox. ARGV: owner, peerRecv, ttl, keyHash.
 * Reply: {'created'} | {'wrong-key'} | {'refused'} | {'resumed', recv, sent, acked, written, payload...}.
 */
export const CLAIM = script(`
local s, o = KEYS[1], KEYS[2]
local owner, peer, ttl, key = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if redis.call('EXISTS', s) == 0 then
  redis.call('DEL', o)
  redis.call('HSET', s, 'owner', owner, 'key', key, 'recv', 0, 'sent', 0, 'acked', 0, 'written', 0)
  redis.call('PEXPIRE', s, ttl)
  return {'created'}
end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written', 'key')
local recv, sent, acked, written = tonumber(f[1]), tonumber(f[2]), tonumber(f[3]), tonumber(f[4])
if f[5] ~= '' and f[5] ~= key then return {'wrong-key'} end
if peer < acked or peer > written then return {'refused'} end
if peer > acked then
  redis.call('LTRIM', o, peer - acked, -1)
  acked = peer
end
-- The new owner writes every pending message at once, so written catches up with sent.
redis.call('HSET', s, 'owner', owner, 'acked', acked, 'written', sent)
redis.call('PEXPIRE', s, ttl)
redis.call('PEXPIRE', o, ttl)
local reply = {'resumed', recv, sent, acked, sent}
local items = redis.call('LRANGE', o, 0, -1)
for i = 1, #items do reply[#reply + 1] = items[i] end
return reply
`);

/** KEYS: state, outbox. ARGV: owner, recv, acked, written, ttl, payload... Reply: 1, or 0 when fenced. */
export const COMMIT = script(`
local s, o = KEYS[1], KEYS[2]
if redis.call('HGET', s, 'owner') ~= ARGV[1] then return 0 end
local f = redis.call('HMGET', s, 'recv', 'sent', 'acked', 'written')
local recv = math.max(tonumber(f[1]), tonumber(ARGV[2]))
local sent, acked = tonumber(f[2]), tonumber(f[3])
local written = math.max(tonumber(f[4]), tonumber(ARGV[4]))
-- RPUSH in slices: unpack() of thousands of values would overflow Lua's C stack.
for i = 6, #ARGV, 1000 do
  redis.call('RPUSH', o, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
sent = sent + math.max(0, #ARGV - 5)
local ack = math.min(tonumber(ARGV[3]), sent)
if ack > acked then
  redis.call('LTRIM', o, ack - acked, -1)
  acked = ack
end
redis.call('HSET', s, 'recv', recv, 'sent', sent, 'acked', acked, 'written', written)
redis.call('PEXPIRE', s, ARGV[5])
redis.call('PEXPIRE', o, ARGV[5])
return 1
`);

/** KEYS: state, outbox. ARGV: owner, ttl. Reply: 1, or 0 when fenced. */
export const KEEP_ALIVE = script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`);

/** KEYS: state, outbox. ARGV: owner. Reply: 1, or 0 when fenced. */
export const REMOVE = script(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`);

/**
 * KEYS: index. ARGV: sid, ttl, maxSessions (-1: no limit). Forgets expired sessions, then records
 * `sid` as expiring `ttl` ms from now, unless that would go over the limit. Redis's own clock, so
 * nodes whose clocks disagree still agree on what expired. Reply: 1 (recorded), 0 (full).
 */
export const ADMIT = script(`
local z = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
local max = tonumber(ARGV[3])
if max >= 0 and not redis.call('ZSCORE', z, ARGV[1]) and redis.call('ZCARD', z) >= max then return 0 end
redis.call('ZADD', z, now + tonumber(ARGV[2]), ARGV[1])
return 1
`);

/** KEYS: index. Forgets expired sessions. Reply: the number of sessions left. */
export const COUNT = script(`
local t = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return redis.call('ZCARD', KEYS[1])
`);
