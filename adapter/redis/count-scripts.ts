/**
 * The counting scripts of the Redis session store: the store-wide keys, for the limits and
 * `reap()`; a session's own scripts are in ./scripts.ts. Every script here takes the store-wide
 * keys only (one hash slot), never a session's.
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
import { RECHECK_MS, script } from './scripts.js';

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
