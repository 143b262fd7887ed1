// The delivery worker: one BullMQ job per message, one HTTP attempt per run. Failures throw so
// BullMQ re-runs the job after the delay our backoff strategy picks (schedule or Retry-After);
// 410 and refused URLs throw UnrecoverableError so nothing more is tried.
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { bullmqPrefix, DEFAULT_PREFIX } from '@sdsvc/jobs';
import { deliverOnce } from './deliver.ts';
import { DEFAULT_SCHEDULE_MS } from './dispatcher.ts';
import { destinationOf, HostSlots } from './host-slots.ts';
import { nextDelayMs } from './schedule.ts';
import { WEBHOOK_QUEUE, type WebhookAttempt, type WebhookJobData } from './types.ts';

export interface WebhookWorkerOptions {
  connection: ConnectionOptions;
  /** QUEUE_PREFIX, the same as the dispatcher's (BullMQ keys under `bullmqPrefix(prefix)`). */
  prefix?: string;
  /** whsec_… (WEBHOOK_SECRET). */
  secret: string;
  /** Must match the dispatcher's (both come from WEBHOOK_RETRY_SCHEDULE). */
  schedule?: readonly number[];
  /** Per attempt (WEBHOOK_TIMEOUT_MS, 15 s by default). */
  timeoutMs?: number;
  allowPrivate?: boolean;
  /** Deliveries in flight at once (I/O bound, so many; default 16). */
  concurrency?: number;
  /** Deliveries in flight at once to one destination (scheme://host:port; default 2). A message for
   *  a saturated destination goes back to the queue for `busyDelayMs` instead of taking a slot. */
  perHostConcurrency?: number;
  /** How long a message for a saturated destination waits before it is tried again (default 1 s, ±50 %). */
  busyDelayMs?: number;
  /** BullMQ lock of a delivery in flight and the stalled check period (a killed process's
   *  deliveries are taken over after at most lock + interval; defaults 30 s each). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Rewrites a message right before each attempt (the worker signs image URLs again, so they
   *  work whenever the attempt happens). An error counts as a failed attempt. */
  prepare?: (msg: WebhookJobData) => Promise<WebhookJobData>;
  /** Called after every attempt, e.g. to record it on the job resource. Errors are swallowed. */
  onAttempt?: (jobId: string, attempt: WebhookAttempt) => void | Promise<void>;
  onError?: (err: Error) => void;
}

export interface WebhookWorker {
  worker: Worker<WebhookJobData>;
  /** Stops taking messages and waits for the deliveries in flight; with `graceMs`, at most that
   *  long: then it stops without them (their lock lapses and they are delivered again later, with
   *  the same webhook-id). */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/** Carries the delay chosen for the next attempt to the backoff strategy. */
class RetryLater extends Error {
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.name = 'RetryLater';
    this.delayMs = delayMs;
  }
}

export function startWebhookWorker(opts: WebhookWorkerOptions): WebhookWorker {
  const schedule = opts.schedule ?? DEFAULT_SCHEDULE_MS;
  const report = async (jobId: string, attempt: WebhookAttempt) => {
    try {
      await opts.onAttempt?.(jobId, attempt);
    } catch (err) {
      opts.onError?.(err as Error);
    }
  };

  const slots = new HostSlots(opts.perHostConcurrency ?? 2);
  let inFlight = 0;
  const whenIdle: Array<() => void> = [];
  const busyDelayMs = opts.busyDelayMs ?? 1000;

  const processor = async (job: Job<WebhookJobData>, token?: string) => {
    // A destination that already has its share of slots (slow or dead receiver): back to the
    // queue, not counted as an attempt, so this slot serves other receivers meanwhile.
    const release = slots.tryAcquire(destinationOf(job.data.url));
    if (!release) {
      await job.moveToDelayed(Date.now() + Math.round(busyDelayMs * (0.5 + Math.random())), token);
      throw new DelayedError();
    }
    inFlight++;
    try {
      return await deliver(job);
    } finally {
      release();
      if (--inFlight === 0) for (const wake of whenIdle.splice(0)) wake();
    }
  };

  const deliver = async (job: Job<WebhookJobData>) => {
    const attempt = job.attemptsMade + 1;
    const started = new Date();
    const msg = opts.prepare ? await opts.prepare(job.data) : job.data;
    const outcome = await deliverOnce(msg, {
      secret: opts.secret, timeoutMs: opts.timeoutMs ?? 15_000, allowPrivate: opts.allowPrivate ?? false, now: () => started,
    });
    const base = { event: job.data.type, attempt, at: started.toISOString() };
    if (outcome.kind === 'delivered') {
      await report(job.data.jobId, { ...base, status: outcome.status, error: null, next_retry_at: null });
      return { status: outcome.status };
    }
    if (outcome.kind === 'stop') {
      await report(job.data.jobId, { ...base, status: outcome.status, error: outcome.error, next_retry_at: null });
      throw new UnrecoverableError(outcome.error);
    }
    const lastAllowed = Math.min(schedule.length, job.opts.attempts ?? schedule.length);
    const delay = attempt < lastAllowed ? nextDelayMs(schedule, attempt, outcome.retryAfterMs) : undefined;
    const next = delay === undefined ? null : new Date(Date.now() + delay).toISOString();
    await report(job.data.jobId, { ...base, status: outcome.status, error: outcome.error, next_retry_at: next });
    if (delay === undefined) throw new UnrecoverableError(`${outcome.error} (last attempt)`);
    throw new RetryLater(outcome.error, delay);
  };

  const worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, processor, {
    connection: opts.connection,
    prefix: bullmqPrefix(opts.prefix ?? DEFAULT_PREFIX),
    concurrency: opts.concurrency ?? 16,
    ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
        err instanceof RetryLater ? err.delayMs : (schedule[attemptsMade] ?? -1),
    },
  });
  worker.on('error', (err) => opts.onError?.(err));
  return {
    worker,
    async close({ graceMs }: { graceMs?: number } = {}) {
      if (graceMs === undefined) return await worker.close();
      // Stop taking messages, wait (bounded) for the deliveries in flight, then close: without
      // waiting when some are still running (a plain close() cannot be cut short once started).
      await worker.pause(true).catch(() => {});
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => { whenIdle.push(resolve); timer = setTimeout(resolve, graceMs); });
        clearTimeout(timer);
      }
      await worker.close(inFlight > 0);
    },
  };
}
