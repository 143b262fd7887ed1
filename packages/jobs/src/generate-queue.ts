// The BullMQ `generate` queue. Job data stays small (the job id and model): inputs live in the
// object store and parameters on the job record.
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { bullmqPrefix, DEFAULT_PREFIX, GENERATE_QUEUE } from './keys.ts';

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
  keepCompleted?: number;
  keepFailed?: number;
  /** Connection errors (ioredis reconnects by itself); BullMQ prints them when nobody listens. */
  onError?: (err: Error) => void;
}

export function generateJobOptions(opts: GenerateQueueOptions = {}): JobsOptions {
  return {
    attempts: opts.attempts ?? 3,
    backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
    removeOnComplete: { count: opts.keepCompleted ?? 1000, age: 24 * 3600 },
    removeOnFail: { count: opts.keepFailed ?? 5000, age: 7 * 24 * 3600 },
  };
}

export class GenerateQueue {
  readonly queue: Queue<GenerateJobData>;
  readonly #connection: ConnectionOptions;

  constructor(connection: ConnectionOptions, opts: GenerateQueueOptions = {}) {
    this.#connection = connection;
    this.queue = new Queue<GenerateJobData>(GENERATE_QUEUE, {
      connection,
      prefix: bullmqPrefix(opts.prefix ?? DEFAULT_PREFIX),
      defaultJobOptions: generateJobOptions(opts),
    });
    this.queue.on('error', opts.onError ?? (() => {}));
  }

  async add(id: string, data: GenerateJobData, opts: { priority?: number } = {}): Promise<void> {
    await this.queue.add(GENERATE_QUEUE, data, { jobId: id, ...(opts.priority ? { priority: opts.priority } : {}) });
  }

  /** True when adds are written on this very ioredis connection (JobStore.createAndEnqueue pipelines them). */
  sharesConnection(redis: unknown): boolean {
    return this.#connection === redis;
  }

  /** Removes a waiting or delayed job (true also when it is already gone); false when a worker holds its lock. */
  async remove(id: string): Promise<boolean> {
    return (await this.queue.remove(id)) === 1;
  }

  /** The BullMQ side of a job, for the reconciler. */
  async inspect(id: string): Promise<QueueEntryState> {
    const job = await this.queue.getJob(id);
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
  async removeFinished(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    if (job && (await job.isCompleted() || await job.isFailed())) await job.remove();
  }

  /** Jobs ahead of this one in the wait list (0 = next); null when it is not waiting. O(n) LPOS:
   *  request paths use JobStore's queue position (ZRANK) instead. */
  async position(id: string): Promise<number | null> {
    const client = await this.queue.getBackend().client;
    const key = this.queue.toKey('wait');
    // New jobs are pushed on the left and workers take from the right.
    const [idx, len] = await Promise.all([client.lpos(key, id), client.llen(key)]);
    if (idx === null || idx === undefined) return null;
    return len - 1 - Number(idx);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
