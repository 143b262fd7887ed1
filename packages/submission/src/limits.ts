// What one job may cost, and how many jobs one key may have in flight.
//
// Cost limits (400 limit_exceeded, naming the limit): width × height ≤ max_output_pixels,
// steps ≤ max_steps, num_images ≤ max_num_images. Global defaults MAX_OUTPUT_PIXELS (unset:
// 4 × the model's native pixel count), MAX_STEPS, MAX_NUM_IMAGES; MODEL_LIMITS overrides them per
// model id. GET /v1/models shows the effective values.
//
// Active jobs (429 quota_exceeded): MAX_ACTIVE_JOBS_PER_KEY queued + running jobs per owner, kept
// in Redis as a sorted set of job ids per owner (score = when reserved). A Lua script reconciles
// and reserves atomically: ids whose record ended (or never appeared within a grace period) are
// dropped, then the new id is added only if the owner is under the limit. Terminal transitions
// need no hook: the next count drops them.
import type { Redis } from 'ioredis';
import { HttpProblem, TERMINAL_STATUSES, type CreateJobRequest } from '@sdsvc/contracts';
import type { CostLimitOverrides } from '@sdsvc/config';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { jobKeys } from '@sdsvc/jobs';
import type { SubmissionDeps } from './deps.ts';

export interface CostLimits {
  maxOutputPixels: number;
  maxSteps: number;
  maxNumImages: number;
}

export interface LimitsConfig {
  maxOutputPixels?: number | undefined;
  maxSteps?: number;
  maxNumImages?: number;
  modelLimits?: Record<string, CostLimitOverrides>;
  maxActiveJobsPerKey?: number;
  /** JOB_TIMEOUT_MS (enforced by the worker), shown with the limits. */
  jobTimeoutMs?: number;
}

/** The limits that apply to jobs on `model`. */
export function limitsFor(config: LimitsConfig, model: Pick<ModelInfo, 'id' | 'nativeSize'>): CostLimits {
  const own = config.modelLimits?.[model.id] ?? {};
  return {
    maxOutputPixels: own.maxOutputPixels ?? config.maxOutputPixels ?? 4 * model.nativeSize * model.nativeSize,
    maxSteps: own.maxSteps ?? config.maxSteps ?? 150,
    maxNumImages: own.maxNumImages ?? config.maxNumImages ?? 8,
  };
}

function exceeded(limit: string, path: string, message: string): HttpProblem {
  return new HttpProblem(400, 'limit_exceeded', message, { errors: [{ path, code: 'limit_exceeded', message: `${limit}: ${message}` }] });
}

/** Throws 400 limit_exceeded for the first limit the job is over. */
export function checkCostLimits(limits: CostLimits, job: { width: number; height: number; steps: number; numImages: number; model: string }): void {
  const pixels = job.width * job.height;
  if (pixels > limits.maxOutputPixels) {
    throw exceeded('max_output_pixels', 'width', `${job.width}×${job.height} = ${pixels} pixels is over max_output_pixels (${limits.maxOutputPixels}) for model ${job.model}`);
  }
  if (job.steps > limits.maxSteps) {
    throw exceeded('max_steps', 'steps', `steps ${job.steps} is over max_steps (${limits.maxSteps}) for model ${job.model}`);
  }
  if (job.numImages > limits.maxNumImages) {
    throw exceeded('max_num_images', 'num_images', `num_images ${job.numImages} is over max_num_images (${limits.maxNumImages}) for model ${job.model}`);
  }
}

/** A reservation whose job record has not appeared after this long is dropped (a submission that failed midway). */
export const RESERVATION_GRACE_MS = 60_000;
const ACTIVE_TTL_SECONDS = 8 * 24 * 3600; // records live 7 days after their last change

// KEYS[1] active set. ARGV: job id, now ms, max, grace ms, record key prefix, terminal statuses (comma-separated), ttl s.
// Returns the count after reserving, or -(count) when full.
const RESERVE = `
local terminal = {}
for s in string.gmatch(ARGV[6], '[^,]+') do terminal[s] = true end
local now = tonumber(ARGV[2])
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #members, 2 do
  local id = members[i]
  local st = redis.call('HGET', ARGV[5] .. id, 'status')
  if (not st and now - tonumber(members[i + 1]) > tonumber(ARGV[4])) or (st and terminal[st]) then
    redis.call('ZREM', KEYS[1], id)
  end
end
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[3]) then return -n end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
return n + 1
`;

export const activeJobsKey = (prefix: string, owner: string): string => `${prefix}:active-jobs:${owner}`;

/** Reserves a slot for `jobId` under `owner`, or throws 429 quota_exceeded. */
export async function reserveActiveSlot(redis: Redis, prefix: string, owner: string, jobId: string, max: number, now = Date.now()): Promise<number> {
  const recordPrefix = jobKeys(prefix, '').record;
  const n = Number(await redis.eval(RESERVE, 1, activeJobsKey(prefix, owner), jobId, now, max, RESERVATION_GRACE_MS,
    recordPrefix, TERMINAL_STATUSES.join(','), ACTIVE_TTL_SECONDS));
  if (n < 0) {
    throw new HttpProblem(429, 'quota_exceeded', `this key already has ${-n} queued or running jobs (MAX_ACTIVE_JOBS_PER_KEY = ${max}); wait for one to finish`, {
      headers: { 'retry-after': '5', 'ratelimit-limit': String(max), 'ratelimit-remaining': '0' },
    });
  }
  return n;
}

/**
 * Every limit a new job must pass, called by submitJob once the job's size is known and its id
 * chosen: the cost limits, then (with an owner) the active-job quota.
 */
export async function enforceLimits(
  deps: Pick<SubmissionDeps, 'config' | 'redis' | 'store'>,
  job: { request: CreateJobRequest; model: ModelInfo; size: { width: number; height: number }; owner: string | null; jobId: string },
): Promise<void> {
  const config: LimitsConfig = deps.config;
  checkCostLimits(limitsFor(config, job.model), {
    width: job.size.width, height: job.size.height, steps: job.request.steps, numImages: job.request.num_images, model: job.model.id,
  });
  const max = config.maxActiveJobsPerKey ?? 0;
  if (job.owner && max > 0 && deps.redis) await reserveActiveSlot(deps.redis, deps.store.prefix, job.owner, job.jobId, max);
}
