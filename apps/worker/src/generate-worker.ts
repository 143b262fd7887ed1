// The BullMQ Worker on one model's generate queue. Only scheduling lives here; the job itself is
// run-job.ts. The engine computes on its own thread, so the event loop stays free to renew locks.
import { Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { generateQueueName, generateRetention, type GenerateJobData, type GenerateRetentionOptions } from '@sdsvc/jobs';

export interface GenerateWorkerOptions {
  /** The model whose queue this Worker takes jobs from. */
  model: string;
  connection: Redis;
  prefix: string;
  /** Jobs at once: one per device (the engine runs one generation at a time anyway). */
  concurrency: number;
  /** Lock TTL; renewed every lockDuration/2 while the job runs. A dead worker's job is taken
   *  back by the stalled check after at most lockDuration + stalledInterval. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Stalls (lost workers) a job survives; one more fails it (default 1). */
  maxStalledCount?: number;
  /** Finished entries kept in the queue (generateRetention: applied by this Worker, not per job). */
  retention?: GenerateRetentionOptions;
  process(job: Job<GenerateJobData>, token: string | undefined): Promise<void>;
}

export function createGenerateWorker(opts: GenerateWorkerOptions): Worker<GenerateJobData, void> {
  const options: WorkerOptions = {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    lockDuration: opts.lockDurationMs ?? 60_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    // A stall (crash, OOM kill) re-runs the job; past maxStalledCount it fails rather than loop forever.
    maxStalledCount: opts.maxStalledCount ?? 1,
    ...generateRetention(opts.retention),
    autorun: false,
  };
  return new Worker<GenerateJobData, void>(generateQueueName(opts.model), (job, token) => opts.process(job, token), options);
}
