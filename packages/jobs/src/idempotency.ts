// Idempotency-Key records. The key is claimed before any work, with a short-lived `pending` entry
// naming the job id the request will create; once the job is recorded and queued the entry becomes
// `created` and lives 24 h. Same key and body → the same job; other body → conflict; a twin that
// arrives while the first request is still creating the job waits briefly, then gets
// `in_progress`. A request that fails releases its claim, so a retry creates the job.
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, idempotencyKey } from './keys.ts';
import { jobCommands, type JobCommands } from './scripts.ts';

export interface IdempotencyEntry { job_id: string; body_hash: string; state?: 'pending' | 'created' }
export type IdempotencyOutcome =
  | { status: 'new' }
  | { status: 'replay'; jobId: string }
  | { status: 'conflict'; jobId: string }
  | { status: 'in_progress'; jobId: string };

export interface IdempotencyOptions {
  prefix?: string;
  /** Life of a created entry (default 24 h). */
  ttlSeconds?: number;
  /** Life of a pending claim: a request that died while creating its job frees the key after it (default 60 s). */
  pendingTtlSeconds?: number;
  /** How long a twin waits for a pending claim to settle before `in_progress` (default 1500 ms). */
  waitMs?: number;
}

export class IdempotencyStore {
  readonly #redis: Redis;
  readonly #commands: JobCommands;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #pendingTtl: number;
  readonly #waitMs: number;

  constructor(redis: Redis, opts: IdempotencyOptions = {}) {
    this.#redis = redis;
    this.#commands = jobCommands(redis);
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#ttl = opts.ttlSeconds ?? 24 * 3600;
    this.#pendingTtl = opts.pendingTtlSeconds ?? 60;
    this.#waitMs = opts.waitMs ?? 1500;
  }

  /** What a request with this key and body should do, without claiming anything. */
  async check(key: string, bodyHash: string): Promise<IdempotencyOutcome> {
    const raw = await this.#redis.get(idempotencyKey(this.#prefix, key));
    return raw ? judge(JSON.parse(raw) as IdempotencyEntry, bodyHash) : { status: 'new' };
  }

  /**
   * Claims the key for `jobId` before any work ('new'), or says what to answer: the job an earlier
   * request created ('replay'), 'conflict' for another body, 'in_progress' when a twin is still
   * creating it after waiting up to `waitMs` for it.
   */
  async claim(key: string, jobId: string, bodyHash: string): Promise<IdempotencyOutcome> {
    const entry: IdempotencyEntry = { job_id: jobId, body_hash: bodyHash, state: 'pending' };
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const existing = (await this.#commands.idempotencyClaim(idempotencyKey(this.#prefix, key), JSON.stringify(entry), this.#pendingTtl)) as string | null;
      if (!existing) return { status: 'new' };
      const outcome = judge(JSON.parse(existing) as IdempotencyEntry, bodyHash);
      if (outcome.status !== 'in_progress' || Date.now() >= deadline) return outcome;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The job is recorded and queued: twins get it from now on, for `ttlSeconds`. */
  async commit(key: string, jobId: string, bodyHash: string): Promise<void> {
    const entry: IdempotencyEntry = { job_id: jobId, body_hash: bodyHash, state: 'created' };
    await this.#commands.idempotencySettle(idempotencyKey(this.#prefix, key), jobId, JSON.stringify(entry), this.#ttl);
  }

  /** The request failed: frees the key (only if `jobId` still holds it) so a retry creates the job. */
  async release(key: string, jobId: string): Promise<void> {
    await this.#commands.idempotencySettle(idempotencyKey(this.#prefix, key), jobId, '', 0);
  }
}

function judge(entry: IdempotencyEntry, bodyHash: string): IdempotencyOutcome {
  if (entry.body_hash !== bodyHash) return { status: 'conflict', jobId: entry.job_id };
  // Entries written before claims had a state were created ones.
  return entry.state === 'pending' ? { status: 'in_progress', jobId: entry.job_id } : { status: 'replay', jobId: entry.job_id };
}
