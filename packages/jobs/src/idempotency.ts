// Idempotency-Key records: key → {job id, body hash} for 24 h. Same key and body → same job;
// same key, other body → conflict.
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, idempotencyKey } from './keys.ts';
import { CLAIM_IDEMPOTENCY } from './scripts.ts';

export interface IdempotencyEntry { job_id: string; body_hash: string }
export type IdempotencyOutcome =
  | { status: 'new' }
  | { status: 'replay'; jobId: string }
  | { status: 'conflict'; jobId: string };

export class IdempotencyStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;

  constructor(redis: Redis, opts: { prefix?: string; ttlSeconds?: number } = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#ttl = opts.ttlSeconds ?? 24 * 3600;
  }

  /** What a request with this key and body should do, without claiming anything. */
  async check(key: string, bodyHash: string): Promise<IdempotencyOutcome> {
    const raw = await this.#redis.get(idempotencyKey(this.#prefix, key));
    return raw ? judge(JSON.parse(raw) as IdempotencyEntry, bodyHash) : { status: 'new' };
  }

  /** Atomically binds key → jobId; when another request got there first, says what to answer. */
  async claim(key: string, jobId: string, bodyHash: string): Promise<IdempotencyOutcome> {
    const entry: IdempotencyEntry = { job_id: jobId, body_hash: bodyHash };
    const existing = (await this.#redis.eval(CLAIM_IDEMPOTENCY, 1, idempotencyKey(this.#prefix, key), JSON.stringify(entry), this.#ttl)) as string | null;
    return existing ? judge(JSON.parse(existing) as IdempotencyEntry, bodyHash) : { status: 'new' };
  }

  async release(key: string): Promise<void> {
    await this.#redis.del(idempotencyKey(this.#prefix, key));
  }
}

function judge(entry: IdempotencyEntry, bodyHash: string): IdempotencyOutcome {
  return entry.body_hash === bodyHash ? { status: 'replay', jobId: entry.job_id } : { status: 'conflict', jobId: entry.job_id };
}
