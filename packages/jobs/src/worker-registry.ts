// Which workers are alive and which models they hold, in Redis. Each worker announces itself every
// heartbeat (its registration expires after a few missed ones); the API reads the live set to decide
// whether a job can run at all, and what a model accepts, without the model folders mounted.
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, knownModelsKey, workerKey, workersKey } from './keys.ts';

/** A model as a worker announces it. `info` is the engine's description of the folder (its
 *  ModelInfo without the worker-local path); the jobs package does not interpret it. */
export interface ModelAnnouncement {
  id: string;
  /** Unix seconds of the export (model_index.json's mtime on the worker). */
  created: number;
  /** sha256 of model_index.json + unet/config.json: identifies the export (A1111 checkpoint hash). */
  sha256: string;
  info: Record<string, unknown>;
  /** The execution provider each graph runs on in this worker (graph folder → provider), once loaded. */
  execution_providers?: Record<string, string>;
}

export interface WorkerCapabilities {
  /** Job types the worker runs (txt2img, img2img, inpaint, animation). */
  job_types: string[];
  /** EXECUTION_PROVIDERS, in the order the worker tries them. */
  execution_providers: string[];
  /** Jobs it takes at once, and the most it denoises as one batch (BATCH_MAX_JOBS). */
  concurrency: number;
  batch_max_jobs: number;
}

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  started_at: string;
  models: ModelAnnouncement[];
  capabilities: WorkerCapabilities;
}

export class WorkerRegistry {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, opts: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? DEFAULT_PREFIX;
  }

  /** Registers (or renews) `reg` for `ttlMs`; the models join the known ones. */
  async announce(reg: WorkerRegistration, ttlMs: number): Promise<void> {
    const now = Date.now();
    const tx = this.#redis.multi()
      .set(workerKey(this.#prefix, reg.id), JSON.stringify(reg), 'PX', ttlMs)
      .zadd(workersKey(this.#prefix), now + ttlMs, reg.id)
      .zremrangebyscore(workersKey(this.#prefix), '-inf', now); // lapsed registrations
    if (reg.models.length > 0) tx.hset(knownModelsKey(this.#prefix), Object.fromEntries(reg.models.map((m) => [m.id, JSON.stringify(m)])));
    await tx.exec();
  }

  /** Removes the registration (a worker that stops): its models stop counting at once. */
  async withdraw(id: string): Promise<void> {
    await this.#redis.multi().del(workerKey(this.#prefix, id)).zrem(workersKey(this.#prefix), id)
      .zremrangebyscore(workersKey(this.#prefix), '-inf', Date.now()).exec();
  }

  /** The live workers (registration not lapsed), and every model ever announced. */
  async read(): Promise<{ workers: WorkerRegistration[]; known: ModelAnnouncement[] }> {
    const [ids, knownRaw] = await Promise.all([
      this.#redis.zrangebyscore(workersKey(this.#prefix), Date.now(), '+inf'),
      this.#redis.hvals(knownModelsKey(this.#prefix)),
    ]);
    const raw = ids.length > 0 ? await this.#redis.mget(ids.map((id) => workerKey(this.#prefix, id))) : [];
    const workers = raw.flatMap((r) => (r ? [parse<WorkerRegistration>(r)] : [])).filter((w): w is WorkerRegistration => w !== null);
    const known = knownRaw.map((r) => parse<ModelAnnouncement>(r)).filter((m): m is ModelAnnouncement => m !== null);
    return { workers, known };
  }
}

function parse<T>(raw: string): T | null {
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}
