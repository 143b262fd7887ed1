// Lua scripts: each status change is checked, applied, numbered and published in one atomic step,
// so concurrent API and worker updates can never interleave and events come out in `seq` order.

const HASH_TO_JSON = `
local function record_json(key)
  local flat = redis.call('HGETALL', key)
  local map = {}
  for i = 1, #flat, 2 do map[flat[i]] = flat[i + 1] end
  return map
end
`;

/**
 * KEYS: record, events channel. ARGV: allowed statuses (comma list), event type, ttl seconds,
 * option ('nocancel' refuses when a cancel was requested, '' otherwise), then field/value pairs.
 * Returns {1, previous status} when applied, {0, current status or ''} when refused.
 */
export const TRANSITION = `${HASH_TO_JSON}
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, ''} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur} end
if ARGV[4] == 'nocancel' and redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then return {0, 'cancel_requested'} end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('PUBLISH', KEYS[2], cjson.encode({type = ARGV[2], seq = seq, record = record_json(KEYS[1])}))
return {1, cur}
`;

/** KEYS: record, events channel. ARGV: ttl, created fields as pairs. Returns 0 when the id exists. */
export const CREATE = `${HASH_TO_JSON}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
redis.call('PUBLISH', KEYS[2], cjson.encode({type = 'queued', seq = seq, record = record_json(KEYS[1])}))
return 1
`;

/**
 * KEYS: record, events channel, cancel channel. ARGV: job id, now, ttl.
 * queued → canceled at once; running → flag + message on the cancel channel for the worker.
 */
export const REQUEST_CANCEL = `${HASH_TO_JSON}
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'not_found' end
if cur == 'succeeded' or cur == 'failed' or cur == 'canceled' then return 'finished' end
if cur == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'canceled', 'finished_at', ARGV[2], 'cancel_requested', '1')
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
  redis.call('PUBLISH', KEYS[2], cjson.encode({type = 'canceled', seq = seq, record = record_json(KEYS[1])}))
  return 'canceled'
end
redis.call('HSET', KEYS[1], 'cancel_requested', '1')
redis.call('PUBLISH', KEYS[3], ARGV[1])
return 'cancel_requested'
`;

/** KEYS: idempotency key. ARGV: value, ttl. Returns nil when claimed, else the stored value. */
export const CLAIM_IDEMPOTENCY = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
`;
