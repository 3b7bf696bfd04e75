/**
 * The Lua scripts of the Redis session store. Each runs atomically in Redis, and each touches the
 * keys of one hash slot only, so the store works on Redis Cluster as on one Redis: a session's
 * scripts take its two keys, the counting scripts take the store-wide keys, never both.
 *
 * Keys of one session (hash tag `{<sid>}`):
 * - `<prefix>{<sid>}:s`, a hash: `owner` (the token of the node holding it), `key` (hex SHA-256 of
 *   the session key, or empty), `recv`, `sent`, `acked`, `written` (see StoredSession in
 *   ../store.ts), `bytes` (payload bytes of its unacknowledged messages), `ver` (the version of
 *   the claim that last took it, see below);
 * - `<prefix>{<sid>}:o`, a list: the unacknowledged outbound payloads, seq `acked + 1` first, each
 *   prefixed with `t` (text) or `b` (binary).
 * Both carry the session's time to live (PEXPIRE) plus REAP_GRACE_MS, renewed by every write of
 * its owner: a session whose PTTL is at most REAP_GRACE_MS has expired, with its keys still there
 * for a reaper. Expiry is Redis's own (relative times, no clock compared across nodes).
 *
 * Store-wide keys (hash tag `{#counts}`: `#` is not allowed in a session id, so no session shares
 * their slot by accident), for the limits and `reap()`:
 * - `<prefix>{#counts}:index`, a sorted set: every session that may exist, score the time (Redis's
 *   clock on that node) at which to look at it again; its size is what `maxSessions` bounds;
 * - `<prefix>{#counts}:ver`, `:settled`, `:owner`, `:reserved`, hashes keyed by sid: the version
 *   of its latest claim (bumped by every claim that passed PEEK), the version of the claim that
 *   last settled it, that claim's owner token, and the payload bytes reserved for it;
 * - `<prefix>{#counts}:withdrawn`, a hash keyed by sid: `<ver>:<held>` when the claim of version
 *   `ver` was refused by CLAIM after all (WITHDRAW): until another claim comes, `ver` stands for
 *   `held`, the version of the session that refused it, so that session's UNINDEX still applies;
 * - `<prefix>{#counts}:bytes`, the sum of the reservations, what `maxTotalBufferedBytes` bounds.
 *
 * The counts are kept by separate scripts, in an order that makes them over-count, never
 * under-count (docs/protocol.md §9): a session is listed (ENLIST) before it is created (CLAIM) and
 * unlisted (UNINDEX) only after its keys are gone; bytes are reserved (ADJUST) before the commit
 * that stores them and released after the one that drops them. A node that dies between two of
 * them leaves the counts too high, never too low; SETTLE (after every claim) and UNINDEX (when the
 * session ends, or is found gone) put them right.
 *
 * A hello that is refused (wrong key, impossible recv) must change nothing of the session it names
 * (issue 23: session ids are public, and a refused hello that bumped the version made the
 * session's UNINDEX a no-op, so the session stayed counted for its whole time to live). PEEK
 * refuses it before anything is written. Only if the session appears between PEEK and CLAIM (a
 * race of two first hellos for one id) does CLAIM refuse a claim already listed; WITHDRAW then
 * makes its version stand for the session's, and the store unlists the session itself if it
 * ended meanwhile.
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

// ---- Store-wide scripts: KEYS = the index, the byte total, and the hashes ver, settled, owner, reserved, withdrawn. ----

const COUNTS = `
local index, total, vers, settled, owners, reserved, withdrawn = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
`;

/**
 * Before a claim. ARGV: sid, ttl, maxSessions (-1: none). Lists the session (a new one only within
 * `maxSessions`) and bumps its version. Reply: {'listed', ver} (it was), {'added', ver}, {'full'}.
 */
export const ENLIST = script(`${COUNTS}
local sid, ttl, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local score = redis.call('ZSCORE', index, sid)
local status = 'listed'
if not score then
  if max >= 0 and redis.call('ZCARD', index) >= max then return {'full'} end
  status = 'added'
end
if not score or tonumber(score) < now() + ttl then redis.call('ZADD', index, now() + ttl, sid) end
redis.call('HDEL', withdrawn, sid)
return {status, redis.call('HINCRBY', vers, sid, 1)}
`);

/**
 * After CLAIM refused a claim ENLIST had listed (the session appeared after PEEK). ARGV: sid, ver
 * (the claim's), held (the refusing session's version). Unless a newer claim came since, `ver`
 * stands for `held` in UNINDEX, so the session's own unlisting still applies. Reply: 1, or 0.
 */
export const WITHDRAW = script(`${COUNTS}
local sid = ARGV[1]
if (redis.call('HGET', vers, sid) or '') ~= ARGV[2] then return 0 end
redis.call('HSET', withdrawn, sid, ARGV[2] .. ':' .. ARGV[3])
return 1
`);

/**
 * After a claim that took the session. ARGV: sid, ver, owner, bytes (what it buffers now). The
 * newest claim wins: an older one's settle changes nothing. The owner's reservation becomes exactly
 * `bytes`, which also clears what a node that died mid-write left reserved. Reply: 1, or 0.
 */
export const SETTLE = script(`${COUNTS}
local sid, ver = ARGV[1], tonumber(ARGV[2])
if not redis.call('ZSCORE', index, sid) then return 0 end
if tonumber(redis.call('HGET', settled, sid) or -1) >= ver then return 0 end
redis.call('INCRBY', total, tonumber(ARGV[4]) - (tonumber(redis.call('HGET', reserved, sid)) or 0))
redis.call('HSET', settled, sid, ver)
redis.call('HSET', owners, sid, ARGV[3])
redis.call('HSET', reserved, sid, ARGV[4])
return 1
`);

/**
 * ARGV: sid, owner, delta (bytes, signed), maxTotalBufferedBytes (-1: none). A reservation
 * (delta > 0) within the limit, or a release (never below 0), for the session's settled owner
 * only. Reply: 1 (applied), 2 (refused: over the limit), 0 (not the owner: fenced, or gone).
 */
export const ADJUST = script(`${COUNTS}
local sid = ARGV[1]
if redis.call('HGET', owners, sid) ~= ARGV[2] then return 0 end
local delta, max = tonumber(ARGV[3]), tonumber(ARGV[4])
local held = tonumber(redis.call('HGET', reserved, sid)) or 0
if delta > 0 and max >= 0 and (tonumber(redis.call('GET', total)) or 0) + delta > max then return 2 end
-- 0 - x, not -x: Lua's -0 reaches Redis as "-0", which INCRBY refuses.
if delta < 0 - held then delta = 0 - held end
if delta == 0 then return 1 end
redis.call('HSET', reserved, sid, held + delta)
redis.call('INCRBY', total, delta)
return 1
`);

/**
 * After a session's keys are gone. ARGV: sid, ver (of the incarnation that went). Unlists it and
 * releases its reservation, unless a newer claim listed it since (then that claim's session is
 * counted, and this changes nothing); a withdrawn claim is not one (see WITHDRAW). Reply: 1, or 0.
 */
export const UNINDEX = script(`${COUNTS}
local sid = ARGV[1]
local latest = redis.call('HGET', vers, sid) or ''
if latest ~= ARGV[2] and redis.call('HGET', withdrawn, sid) ~= latest .. ':' .. ARGV[2] then return 0 end
redis.call('HDEL', withdrawn, sid)
redis.call('INCRBY', total, 0 - (tonumber(redis.call('HGET', reserved, sid)) or 0))
redis.call('HDEL', vers, sid)
redis.call('HDEL', settled, sid)
redis.call('HDEL', owners, sid)
redis.call('HDEL', reserved, sid)
redis.call('ZREM', index, sid)
return 1
`);

/** ARGV: sid, ms. A session found alive: looked at again when its time to live has run. */
export const REINDEX = script(`${COUNTS}
redis.call('ZADD', index, 'XX', now() + tonumber(ARGV[2]), ARGV[1])
return 1
`);

/**
 * ARGV: limit. Leases up to `limit` sessions due for a look (their score RECHECK_MS ahead). Reply:
 * {sid, ver, sid, ver, ...} (ver '' for a session listed without a version: never, unless the
 * keys were edited by hand).
 */
export const DUE = script(`${COUNTS}
local due = redis.call('ZRANGEBYSCORE', index, '-inf', now(), 'LIMIT', 0, tonumber(ARGV[1]))
local reply = {}
for i = 1, #due do
  redis.call('ZADD', index, now() + ${RECHECK_MS}, due[i])
  reply[#reply + 1] = due[i]
  reply[#reply + 1] = redis.call('HGET', vers, due[i]) or ''
end
return reply
`);

/** Reply: {sessions, bytes}. */
export const COUNT = script(`${COUNTS}
return {redis.call('ZCARD', index), tonumber(redis.call('GET', total)) or 0}
`);
