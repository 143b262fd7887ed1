// What A1111 keeps per process (the loaded checkpoint, the running task) kept per caller in Redis,
// so any API instance answers the same: `<prefix>:a1111:<caller>` hash with `checkpoint` (a model
// id, POST /sdapi/v1/options) and `current` (the jobs of the caller's running request, for
// /progress, /interrupt and /skip).
import type { Redis } from 'ioredis';

const TTL_SECONDS = 30 * 24 * 3600;

export interface CurrentTask {
  ids: string[];
  /** Epoch ms of the submission. */
  started: number;
  /** A1111's job_timestamp (YYYYMMDDhhmmss). */
  timestamp: string;
}

export class A1111CallerState {
  readonly #redis: Redis;
  readonly #prefix: string;
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(caller: string): string {
    return `${this.#prefix}:a1111:${caller || 'anonymous'}`;
  }

  async checkpoint(caller: string): Promise<string | null> {
    return await this.#redis.hget(this.#key(caller), 'checkpoint');
  }

  async setCheckpoint(caller: string, modelId: string): Promise<void> {
    await this.#redis.multi().hset(this.#key(caller), 'checkpoint', modelId).expire(this.#key(caller), TTL_SECONDS).exec();
  }

  async current(caller: string): Promise<CurrentTask | null> {
    const raw = await this.#redis.hget(this.#key(caller), 'current');
    return raw ? JSON.parse(raw) as CurrentTask : null;
  }

  async setCurrent(caller: string, task: CurrentTask): Promise<void> {
    await this.#redis.multi().hset(this.#key(caller), 'current', JSON.stringify(task)).expire(this.#key(caller), TTL_SECONDS).exec();
  }

  /** Clears `current` if it is still `task` (a later request of the same caller may have replaced it). */
  async clearCurrent(caller: string, task: CurrentTask): Promise<void> {
    const now = await this.current(caller);
    if (now && now.started === task.started && now.ids.join() === task.ids.join()) await this.#redis.hdel(this.#key(caller), 'current');
  }
}
