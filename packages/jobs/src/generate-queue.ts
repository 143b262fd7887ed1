// The BullMQ generate queues (one per model). Job data stays small (the job id and model): inputs live in the
// object store and parameters on the job record.
import { Queue, type ConnectionOptions, type JobsOptions, type KeepJobs } from 'bullmq';
import { bullmqPrefix, DEFAULT_PREFIX, GENERATE_QUEUE, generateQueueName } from './keys.ts';

export interface GenerateJobData { jobId: string; model: string }

/** Where BullMQ has a job: 'gone' when it has no entry for it (never added, or removed). */
export interface QueueEntryState {
  state: 'waiting' | 'delayed' | 'active' | 'prioritized' | 'completed' | 'failed' | 'other' | 'gone';
  failedReason?: string;
}

export interface GenerateQueueOptions {
  prefix?: string;
  /** Worker attempts per job (default 3), with exponential backoff from `backoffMs` (default 2000). */
  attempts?: number;
  backoffMs?: number;
  /** Connection errors (ioredis reconnects by itself); BullMQ prints them when nobody listens. */
  onError?: (err: Error) => void;
}

/** What each job carries: its attempts and their backoff (BullMQ reads them from the job). */
export function generateJobOptions(opts: GenerateQueueOptions = {}): JobsOptions {
  return {
    attempts: opts.attempts ?? 3,
    backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
  };
}

export interface GenerateRetentionOptions {
  /** Finished queue entries kept (default 1000 completed for a day, 5000 failed for a week). */
  keepCompleted?: number;
  keepFailed?: number;
}

/**
 * How many finished entries BullMQ keeps, as options of the Worker that finishes the jobs rather
 * than of every job: an add carries less (the nested retention objects cost BullMQ's add CPU on
 * both sides: ~1 µs of Redis per job, and a few µs of the API's in an A/B, issue #11). The Worker trims the whole completed or failed set
 * each time it finishes a job, so entries without retention of their own (failed by the stalled
 * check, which reads only the job's options) are trimmed by the next failure. Jobs queued by
 * earlier versions keep their own options.
 */
export function generateRetention(opts: GenerateRetentionOptions = {}): { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } {
  return {
    removeOnComplete: { count: opts.keepCompleted ?? 1000, age: 24 * 3600 },
    removeOnFail: { count: opts.keepFailed ?? 5000, age: 7 * 24 * 3600 },
  };
}

/**
 * The generate queues: one BullMQ queue per model (`generate.<model>`), so a worker listens only to
 * the models it holds. Queue objects are made on first use and share one connection.
 */
export class GenerateQueue {
  readonly #connection: ConnectionOptions;
  readonly #prefix: string;
  readonly #jobOptions: JobsOptions;
  readonly #onError: (err: Error) => void;
  readonly #queues = new Map<string, Queue<GenerateJobData>>();
  #legacy: Queue<GenerateJobData> | null = null;

  constructor(connection: ConnectionOptions, opts: GenerateQueueOptions = {}) {
    this.#connection = connection;
    this.#prefix = bullmqPrefix(opts.prefix ?? DEFAULT_PREFIX);
    this.#jobOptions = generateJobOptions(opts);
    this.#onError = opts.onError ?? (() => {});
  }

  /** BullMQ's key prefix (`<QUEUE_PREFIX>:bull`). */
  get bullPrefix(): string {
    return this.#prefix;
  }

  /** The BullMQ queue of `model` (dashboards, metrics, tests). */
  queueFor(model: string): Queue<GenerateJobData> {
    let q = this.#queues.get(model);
    if (!q) {
      q = this.#open(generateQueueName(model));
      this.#queues.set(model, q);
    }
    return q;
  }

  /** The models whose queue this object has opened so far. */
  get models(): string[] {
    return [...this.#queues.keys()];
  }

  async add(id: string, data: GenerateJobData, opts: { priority?: number } = {}): Promise<void> {
    await this.queueFor(data.model).add(GENERATE_QUEUE, data, { jobId: id, ...(opts.priority ? { priority: opts.priority } : {}) });
  }

  /** True when adds are written on this very ioredis connection (JobStore.createAndEnqueue pipelines them). */
  sharesConnection(redis: unknown): boolean {
    return this.#connection === redis;
  }

  /** Removes a waiting or delayed job (true also when it is already gone); false when a worker holds its lock. */
  async remove(id: string, model: string): Promise<boolean> {
    return (await this.queueFor(model).remove(id)) === 1;
  }

  /** The BullMQ side of a job, for the reconciler. */
  async inspect(id: string, model: string): Promise<QueueEntryState> {
    const job = await this.queueFor(model).getJob(id);
    if (!job) return { state: 'gone' };
    const state = await job.getState();
    switch (state) {
      case 'waiting': case 'delayed': case 'active': case 'prioritized': case 'completed': return { state };
      case 'failed': return { state, failedReason: job.failedReason };
      case 'unknown': return { state: 'gone' };
      default: return { state: 'other' };
    }
  }

  /** Removes a finished (completed/failed) entry so the same id can be queued again. */
  async removeFinished(id: string, model: string): Promise<void> {
    const job = await this.queueFor(model).getJob(id);
    if (job && (await job.isCompleted() || await job.isFailed())) await job.remove();
  }

  /** Jobs ahead of this one in its model's wait list (0 = next); null when it is not waiting. O(n)
   *  LPOS: request paths use JobStore's queue position (ZRANK) instead. */
  async position(id: string, model: string): Promise<number | null> {
    const queue = this.queueFor(model);
    const client = await queue.getBackend().client;
    const key = queue.toKey('wait');
    // New jobs are pushed on the left and workers take from the right.
    const [idx, len] = await Promise.all([client.lpos(key, id), client.llen(key)]);
    if (idx === null || idx === undefined) return null;
    return len - 1 - Number(idx);
  }

  /**
   * Moves jobs still waiting in the single `generate` queue of earlier versions into their model's
   * queue (same id, same priority; the old entry is removed after the new one exists). Returns how
   * many moved. Jobs an old worker is running there finish there.
   */
  async migrateLegacy(limit = 500): Promise<number> {
    this.#legacy ??= this.#open(GENERATE_QUEUE);
    const jobs = await this.#legacy.getJobs(['wait', 'prioritized', 'delayed'], 0, limit - 1);
    let moved = 0;
    for (const job of jobs) {
      if (!job?.id || !job.data?.model) continue;
      const priority = job.opts.priority;
      await this.add(job.id, { jobId: job.data.jobId ?? job.id, model: job.data.model }, priority ? { priority } : {});
      await job.remove().catch(() => { /* taken meanwhile by an old worker: it runs there */ });
      moved++;
    }
    return moved;
  }

  async close(): Promise<void> {
    const all = [...this.#queues.values(), ...(this.#legacy ? [this.#legacy] : [])];
    this.#queues.clear();
    this.#legacy = null;
    await Promise.all(all.map((q) => q.close()));
  }

  #open(name: string): Queue<GenerateJobData> {
    const q = new Queue<GenerateJobData>(name, { connection: this.#connection, prefix: this.#prefix, defaultJobOptions: this.#jobOptions });
    q.on('error', this.#onError);
    return q;
  }
}
