// Lua scripts, registered with ioredis `defineCommand` (EVALSHA, EVAL once after a SCRIPT FLUSH).
// Each status change is checked, applied, numbered and published in one atomic step, together with
// the bookkeeping that must never be split from it by a crash:
// - the index of unfinished jobs (`<prefix>:jobs:active`, what the reconciler walks; no SCAN),
// - the deletion schedule (`<prefix>:jobs:expiry`, RESULT_TTL after the last change),
// - the webhook outbox (`<prefix>:outbox`): the event a subscribed webhook must receive,
// - the queued sets (`<prefix>:jobs:queued:<model>`, one per model like the BullMQ queues): queued
//   jobs in the order workers take them, so the queue position is one ZRANK (O(log n)) on every read
//   instead of an LPOS over the wait list.
// Every status-change script takes the same 6 keys: record, events channel, active index, expiry
// index, outbox, and the base name of the queued sets (the script appends ':' .. the record's model;
// the model is only known inside the script, as BullMQ's scripts name job keys from ids).
// CREATE_MANY and READ_MANY serve a whole event-loop turn (TurnBatches): their keys vary per call.
import type { Redis } from 'ioredis';

const COMMON = `
local function record_map(key)
  local flat = redis.call('HGETALL', key)
  local map = {}
  for i = 1, #flat, 2 do map[flat[i]] = flat[i + 1] end
  return map
end

-- Queue order as BullMQ takes jobs: the wait list (priority 0) first, then prioritised jobs by
-- priority; within a band by when the job is ready, in µs of the server's clock (one clock for
-- every API and worker; two scripts never share a µs); a delayed job (queue_ready_ms set) counts
-- from when its delay ends. Score = band * 1e16 + ready_us.
local function queue_score(map)
  local t = redis.call('TIME')
  local ready = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local delayed = tonumber(map['queue_ready_ms'] or '')
  if delayed and delayed * 1000 > ready then ready = delayed * 1000 end
  local band = tonumber(map['queue_priority'] or '') or 0
  return band * 1e16 + ready
end

local WEBHOOK_EVENTS = { started = true, succeeded = true, failed = true, canceled = true }
local TERMINAL = { succeeded = true, failed = true, canceled = true }

local function webhook_wants(map, event)
  local raw = map['webhook']
  if not raw or raw == '' then return false end
  local ok, hook = pcall(cjson.decode, raw)
  if not ok or type(hook) ~= 'table' then return false end
  local events = hook['events']
  if type(events) ~= 'table' or #events == 0 then return true end
  for _, e in ipairs(events) do if e == 'job.' .. event then return true end end
  return false
end

-- After a change: number it, keep the indexes right, publish it, and queue its webhook.
-- ttl: record EXPIRE (s), expire_at: deletion due (ms), now_ms: index score.
local function emit(event, ttl, expire_at, now_ms)
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('EXPIRE', KEYS[1], ttl)
  local map = record_map(KEYS[1])
  local id = map['id']
  redis.call('ZADD', KEYS[4], expire_at, id)
  if TERMINAL[map['status']] then redis.call('ZREM', KEYS[3], id) else redis.call('ZADD', KEYS[3], now_ms, id) end
  local queued = KEYS[6] .. ':' .. (map['model'] or '')
  if map['status'] == 'queued' then
    redis.call('ZADD', queued, string.format('%.0f', queue_score(map)), id)
  else
    redis.call('ZREM', queued, id)
  end
  redis.call('PUBLISH', KEYS[2], cjson.encode({ type = event, seq = seq, record = map }))
  if WEBHOOK_EVENTS[event] and webhook_wants(map, event) then
    redis.call('RPUSH', KEYS[5], cjson.encode({ id = id, type = 'job.' .. event, seq = seq, record = map }))
  end
  return seq
end

local function cancel_now(now_iso, ttl, expire_at, now_ms)
  redis.call('HSET', KEYS[1], 'status', 'canceled', 'finished_at', now_iso, 'cancel_requested', '1')
  emit('canceled', ttl, expire_at, now_ms)
end
`;

/**
 * Creates the new jobs of one event-loop turn (JobStore batches them): one call however many.
 * KEYS: active index, expiry index, base of the queued sets, then one record key per job.
 * ARGV: ttl, expire_at, now_ms, then per job: id, model, n, and n strings (the record's fields as
 * pairs). Returns one number per job: -1 when its id exists, else its queue position (so the caller
 * needs no read-back). emit()'s work without what cannot matter for a new id: no one can be
 * subscribed to the events of an id that did not exist (ids are random and given out by this
 * call's caller), and no webhook takes 'queued'; so no PUBLISH and no read-back of the hash — the
 * hot path of every submission. Without COMMON (defining its functions costs every call) and
 * straight from ARGV: the queue score of a new job is queue_score's for no priority and no delay
 * (band 0, ready now), plus its place in the batch so the batch keeps its order (the order its
 * queue entries are added in).
 */
const CREATE_MANY = `
local ttl, expire_at, now_ms = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
local ready = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out, expiry, active, queued, models = {}, {}, {}, {}, {}
local a = 4
for j = 4, #KEYS do
  local id, model, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local key = KEYS[j]
  if redis.call('EXISTS', key) == 1 then
    out[j - 3] = -1
  else
    redis.call('HSET', key, 'seq', '1', unpack(ARGV, a + 3, a + 2 + n))
    redis.call('EXPIRE', key, ttl)
    expiry[#expiry + 1] = expire_at; expiry[#expiry + 1] = id
    active[#active + 1] = now_ms; active[#active + 1] = id
    local q = queued[model]
    if not q then q = { pairs = {}, jobs = {} }; queued[model] = q; models[#models + 1] = model end
    q.pairs[#q.pairs + 1] = string.format('%.0f', ready + j - 4); q.pairs[#q.pairs + 1] = id
    q.jobs[#q.jobs + 1] = j - 3
  end
  a = a + 3 + n
end
if #expiry == 0 then return out end
redis.call('ZADD', KEYS[2], unpack(expiry))
redis.call('ZADD', KEYS[1], unpack(active))
for _, model in ipairs(models) do
  local q, set = queued[model], KEYS[3] .. ':' .. model
  redis.call('ZADD', set, unpack(q.pairs))
  local first = redis.call('ZRANK', set, q.pairs[2])
  local contiguous = #q.jobs == 1 or redis.call('ZRANK', set, q.pairs[#q.pairs]) == first + #q.jobs - 1
  for k, job in ipairs(q.jobs) do
    out[job] = contiguous and first + k - 1 or redis.call('ZRANK', set, q.pairs[2 * k])
  end
end
return out
`;

/**
 * ARGV: ttl, expire_at, now_ms, now_iso, allowed statuses (comma list), event, attempt ('' = any
 * attempt; else the change applies only while the record's attempt_id is this one: fencing),
 * mode ('' or 'cancelwins': a requested cancel turns the change into canceled), then field pairs.
 * Returns {applied, status after, cancel_requested}: applied 1 = done, 2 = canceled instead,
 * 0 = refused (status '' when the record is gone, 'superseded' when another attempt owns it).
 */
const TRANSITION = `${COMMON}
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, '', 0} end
local cancel = redis.call('HGET', KEYS[1], 'cancel_requested') == '1' and 1 or 0
local allowed = false
for s in string.gmatch(ARGV[5], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur, cancel} end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[1], 'attempt_id') ~= ARGV[7] then return {0, 'superseded', cancel} end
local ttl, expire_at, now_ms = tonumber(ARGV[1]), ARGV[2], ARGV[3]
if ARGV[8] == 'cancelwins' and cancel == 1 then
  cancel_now(ARGV[4], ttl, expire_at, now_ms)
  return {2, 'canceled', 1}
end
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
emit(ARGV[6], ttl, expire_at, now_ms)
return {1, redis.call('HGET', KEYS[1], 'status'), cancel}
`;

/**
 * ARGV: ttl, expire_at, now_ms, now_iso, cancel channel, job id.
 * queued → canceled at once; running → flag (read by the worker at every step) + a message on the
 * cancel channel so it stops without waiting for the next step's write.
 */
const REQUEST_CANCEL = `${COMMON}
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'not_found' end
if TERMINAL[cur] then return 'finished' end
if cur == 'queued' then
  cancel_now(ARGV[4], tonumber(ARGV[1]), ARGV[2], ARGV[3])
  return 'canceled'
end
redis.call('HSET', KEYS[1], 'cancel_requested', '1')
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'cancel_requested'
`;

/**
 * The jobs read in one event-loop turn (JobStore.get batches them), in one call. KEYS: the record
 * keys. ARGV: base of the queued sets, f, the f record fields to read, then the job ids (one per
 * key). Returns per job {the f values (nil where unset), queue rank or -1 (among the queued jobs of
 * the record's model), webhook attempts (only for a job with a webhook)}: what a read needs, read
 * at one instant. One call for the turn instead of two commands per job: the API spends its time
 * per command, Redis its time per job.
 */
const READ_MANY = `
local base, f = ARGV[1], tonumber(ARGV[2])
local mi, wi
for i = 1, f do
  if ARGV[2 + i] == 'model' then mi = i elseif ARGV[2 + i] == 'webhook' then wi = i end
end
local out = {}
for j = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[j], unpack(ARGV, 3, 2 + f))
  local rank = false
  if mi and values[mi] then rank = redis.call('ZRANK', base .. ':' .. values[mi], ARGV[2 + f + j]) end
  local attempts = {}
  if wi and values[wi] and values[wi] ~= '' then attempts = redis.call('LRANGE', KEYS[j] .. ':webhook-attempts', 0, -1) end
  out[j] = { values, rank or -1, attempts }
end
return out
`;

/**
 * Idempotency keys. KEYS: the key. ARGV: entry JSON, pending ttl (s).
 * Claims the key with a pending entry; returns nil when claimed, else the stored entry.
 */
const IDEMPOTENCY_CLAIM = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
`;

/** KEYS: the key. ARGV: job id, new entry JSON ('' = delete), ttl (s). Only the claimant's entry changes. */
const IDEMPOTENCY_SETTLE = `
local existing = redis.call('GET', KEYS[1])
if not existing then return 0 end
local ok, entry = pcall(cjson.decode, existing)
if not ok or entry['job_id'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3])) end
return 1
`;

type Arg = string | number;
type Call = (...args: Arg[]) => Promise<unknown>;

/** The scripts as commands on one connection. */
export interface JobCommands {
  /** numkeys, keys, argv (CREATE_MANY). */
  createMany: Call;
  transition: Call;
  requestCancel: Call;
  /** numkeys, keys, argv (READ_MANY). */
  readMany: Call;
  idempotencyClaim: Call;
  idempotencySettle: Call;
}

const COMMANDS = {
  sdsvcJobCreateMany: { lua: CREATE_MANY }, // numkeys given per call
  sdsvcJobTransition: { numberOfKeys: 6, lua: TRANSITION },
  sdsvcJobRequestCancel: { numberOfKeys: 6, lua: REQUEST_CANCEL },
  sdsvcJobReadMany: { lua: READ_MANY }, // numkeys given per call
  sdsvcIdempotencyClaim: { numberOfKeys: 1, lua: IDEMPOTENCY_CLAIM },
  sdsvcIdempotencySettle: { numberOfKeys: 1, lua: IDEMPOTENCY_SETTLE },
} as const;

/** Registers the scripts on `redis` (once per connection) and returns typed callers. */
export function jobCommands(redis: Redis): JobCommands {
  const r = redis as unknown as Record<string, Call | undefined>;
  for (const [name, def] of Object.entries(COMMANDS)) {
    if (typeof r[name] !== 'function') redis.defineCommand(name, def);
  }
  const bind = (name: keyof typeof COMMANDS): Call => (...args) => (r[name] as Call).apply(redis, args);
  return {
    createMany: bind('sdsvcJobCreateMany'),
    transition: bind('sdsvcJobTransition'),
    requestCancel: bind('sdsvcJobRequestCancel'),
    readMany: bind('sdsvcJobReadMany'),
    idempotencyClaim: bind('sdsvcIdempotencyClaim'),
    idempotencySettle: bind('sdsvcIdempotencySettle'),
  };
}
