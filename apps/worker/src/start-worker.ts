// startWorker: one process's generation worker. One EngineHost (model sessions are loaded once
// and reused), one BullMQ Worker per model it holds (sharing the process's job slots), one cancel
// subscription, and its registration in the worker registry; close() hands back what is running.
import { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import { EngineHost } from '@sdsvc/engine';
import { UnrecoverableError, WaitingError, type Job, type Worker } from 'bullmq';
import { bullmqPrefix, GenerateQueue, isTerminal, JobStore, WorkerRegistry, type GenerateJobData } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import { createObjectStore, type ObjectStore } from '@sdsvc/storage';
import { startCancelWatcher } from './cancel-watcher.ts';
import { createGenerateWorker } from './generate-worker.ts';
import { lostError } from './job-errors.ts';
import { startReconciler, type ReconcileReport } from './reconciler.ts';
import { runGenerateJob, ShutdownRequested } from './run-job.ts';
import { ImageSafety } from './image-safety.ts';
import { parseWatermarkPayload } from '@sdsvc/images';
import { loraUrlCacheFor } from '@sdsvc/submission';
import { createWebhookNotifier, type JobNotifier } from './webhook-notifier.ts';
import { attachWorkerMetrics } from './metrics/worker-telemetry.ts';
import { resolveHeldModels } from './held-models.ts';
import { GateClosed, SlotGate } from './slot-gate.ts';
import { jobTypes, startAnnouncer } from './worker-announcer.ts';

export interface StartWorkerOptions {
  config: Config;
  logger: Logger;
  /** Redis URL when config.redisUrl is unset (the embedded default resolved by the caller). */
  redisUrl?: string;
  /** Injected parts (tests, ROLE=all sharing); created from config when absent and then owned. */
  objects?: ObjectStore;
  engine?: EngineHost;
  notifier?: JobNotifier;
  /** Override config.workerLockDurationMs / config.workerStalledIntervalMs. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Override config.reconcileIntervalMs. */
  reconcileIntervalMs?: number;
}

export interface RunningWorker {
  /** The models this worker takes jobs for (WORKER_MODELS, or every usable one in MODELS_DIR). */
  readonly models: string[];
  /** Readiness: Redis answers and the engine thread is alive with its first model loaded. */
  ready(): Promise<{ ok: boolean; detail?: string }>;
  /** Stops taking jobs; lets the running ones finish for SHUTDOWN_GRACE_MS, then aborts them
   *  between two steps and hands them back to the queue. */
  close(): Promise<void>;
  /** One reconciler pass now (tests). */
  reconcile(): Promise<ReconcileReport>;
}

/** After the grace period aborts the running jobs, how long their hand-back may take. */
const HANDBACK_MS = 2000;
/** Everything closes within SHUTDOWN_GRACE_MS + this (the process gives up at + 5 s). */
const CLOSE_MARGIN_MS = 4000;

/** True when `p` settles within `ms` (its result is not needed, only that it finished). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true as const, () => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = opts;
  const redisUrl = opts.redisUrl ?? config.redisUrl;
  if (!redisUrl) throw new Error('startWorker: no Redis URL (config.redisUrl or opts.redisUrl)');
  const owned: Array<() => Promise<unknown>> = [];

  // BullMQ needs maxRetriesPerRequest: null on worker connections (blocking commands).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  owned.push(() => connection.quit().catch(() => connection.disconnect()));

  const held = await resolveHeldModels(config.modelsDir, config.workerModels, logger);
  const heldIds = held.map((m) => m.id);
  // Loaded and warmed before the worker takes jobs: the default model when held, else the first.
  const firstModel = heldIds.includes(config.defaultModel) ? config.defaultModel : heldIds[0]!;
  const store = new JobStore(connection, { prefix: config.queuePrefix, ttlSeconds: Math.ceil(config.resultTtlMs / 1000) });
  owned.unshift(() => store.close());
  const objects = opts.objects ?? (await createObjectStore(config));
  if (!opts.objects) owned.unshift(() => objects.close());
  const engine = opts.engine ?? (await EngineHost.start({
    modelsDir: config.modelsDir,
    executionProviders: config.executionProviders,
    enableCpuMemArena: config.ortCpuMemArena,
    modelCacheMax: config.modelCacheMax, modelCacheBytes: config.modelCacheBytes,
    batchMaxJobs: config.batchMaxJobs, batchWaitMs: config.batchWaitMs,
    ...(config.warmupSizes ? { warmupSizes: config.warmupSizes } : {}),
    log: (message: string) => logger.info({ component: 'engine' }, message),
    // The thread cannot be kept alive: exit non-zero so the orchestrator restarts the process
    // (the jobs it held run again elsewhere through stalled-job recovery).
    onFatal: (err: Error) => {
      logger.fatal({ err }, 'engine thread keeps dying; exiting');
      logger.flush?.();
      process.exit(70);
    },
  }));
  attachWorkerMetrics({ store, engine, config, logger }); // job, step and model-load metrics (metrics/)
  if (!opts.engine) {
    owned.unshift(() => engine.close());
    // Load and warm the first model now, so the first job does not pay for it.
    await engine.preload(firstModel)
      .catch((err: unknown) => logger.warn({ err, model: firstModel }, 'model preload failed'));
  }
  const notifier = opts.notifier ?? createWebhookNotifier({ config, connection, store, objects, logger });
  owned.unshift(() => notifier.close());
  const loraUrls = loraUrlCacheFor(config); // used when ALLOW_LORA_URLS
  const cancels = await startCancelWatcher(store);
  owned.unshift(() => cancels.close());

  // The reconciler re-queues jobs through the same queue settings the API uses.
  const queue = new GenerateQueue(connection, { prefix: config.queuePrefix, attempts: config.jobAttempts,
    onError: (err) => logger.warn({ err: err.message }, 'generate queue connection error') });
  owned.unshift(() => queue.close());

  // Content safety and provenance of what this worker stores (SAFETY_MODE, WATERMARK).
  const safety = new ImageSafety({
    modelsDir: config.modelsDir, checkerModel: config.safetyCheckerModel, mode: config.safetyMode,
    executionProviders: config.executionProviders, log: (message) => logger.info({ component: 'safety' }, message),
  });
  owned.unshift(() => safety.close());
  const watermark = config.watermark ? parseWatermarkPayload(config.watermarkPayload).bits : undefined;
  // Batching needs several jobs at once: each keeps its own BullMQ lock, progress and cancel; only
  // the engine call is shared (EngineHost batchMaxJobs).
  const concurrency = Math.max(config.workerConcurrency, config.batchMaxJobs);
  const gate = new SlotGate(concurrency);
  const runJob = (job: Job<GenerateJobData>, token: string | undefined) => runGenerateJob(job, token, {
    store, objects, engine, cancels, logger,
    notify: (id, event) => notifier.notify(id, event),
    imageLimits: { maxPixels: config.maxImagePixels },
    loraDir: config.loraDir,
    ...(config.allowLoraUrls ? { loraUrls } : {}),
    timeoutMs: config.jobTimeoutMs,
    safety,
    ...(watermark ? { watermark } : {}),
  });
  const processJob = async (job: Job<GenerateJobData>, token: string | undefined): Promise<void> => {
    if (!heldIds.includes(job.data.model)) {
      // Only a hand-made queue entry can get here (each queue is one model's): it fails (worker_lost).
      throw new UnrecoverableError(`this worker does not hold model ${job.data.model}`);
    }
    let release: () => void;
    try {
      release = await gate.acquire();
    } catch (err) {
      if (!(err instanceof GateClosed)) throw err;
      await job.moveToWait(token); // not started: straight back to the queue for another worker
      throw new WaitingError();
    }
    try {
      await runJob(job, token);
    } finally {
      release();
    }
  };
  const workers: Worker<GenerateJobData, void>[] = heldIds.map((model) => createGenerateWorker({
    model,
    connection,
    prefix: bullmqPrefix(config.queuePrefix),
    concurrency,
    lockDurationMs: opts.lockDurationMs ?? config.workerLockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs ?? config.workerStalledIntervalMs,
    // A job whose worker was lost JOB_ATTEMPTS times is failed by BullMQ (then by us: worker_lost).
    maxStalledCount: Math.max(0, config.jobAttempts - 1),
    process: processJob,
  }));
  gate.attach(workers);
  for (const worker of workers) {
    worker.on('error', (err) => logger.error({ err }, 'generate worker error'));
    worker.on('stalled', (jobId) => logger.warn({ job_id: jobId }, 'job stalled (a worker died); it will run again'));
    // BullMQ fails some jobs without calling our processor (stalled too often, started too often):
    // the record must end too. Our own failures were recorded already (finishLost is then a no-op).
    worker.on('failed', (job, err) => {
      if (!job?.id) return;
      const id = job.id;
      void (async () => {
        if ((await queue.inspect(id, job.data.model)).state !== 'failed') return; // a retry is scheduled
        const rec = await store.get(id);
        if (!rec || isTerminal(rec.status)) return;
        const status = await store.finishLost(id, lostError(err?.message));
        if (status) {
          logger.warn({ job_id: id, status, reason: err?.message }, 'job failed by the queue without running; recorded');
          await notifier.notify(id, status === 'canceled' ? 'job.canceled' : 'job.failed');
        }
      })().catch((e: unknown) => logger.warn({ err: e, job_id: id }, 'could not record a failed job (the reconciler will)'));
    });
  }
  const reconciler = startReconciler({
    redis: connection, store, queue, objects, logger, prefix: config.queuePrefix,
    maxRecoveries: config.jobAttempts,
    intervalMs: opts.reconcileIntervalMs ?? config.reconcileIntervalMs,
    minAgeMs: opts.reconcileIntervalMs ?? config.reconcileIntervalMs,
  });
  owned.unshift(() => reconciler.close());
  for (const worker of workers) void worker.run().catch((err: unknown) => logger.error({ err }, 'generate worker stopped'));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Registered once it takes jobs: from now on the API accepts jobs for these models.
  const announcer = await startAnnouncer({
    registry: new WorkerRegistry(connection, { prefix: config.queuePrefix }),
    models: held,
    capabilities: {
      job_types: jobTypes(held), execution_providers: [...config.executionProviders], concurrency, batch_max_jobs: config.batchMaxJobs,
    },
    heartbeatMs: config.workerHeartbeatMs,
    logger,
    providersOf: (model) => engine.providersOf(model),
  });
  logger.info({
    concurrency, batchMaxJobs: config.batchMaxJobs, models: heldIds,
    lockDurationMs: workers[0]!.opts.lockDuration, stalledIntervalMs: workers[0]!.opts.stalledInterval,
  }, 'generate worker started');
  const closeWorkers = (force = false) => Promise.all(workers.map((w) => w.close(force)));

  let closing: Promise<void> | undefined;
  return {
    models: heldIds,
    reconcile: () => reconciler.runNow(),
    async ready() {
      if (closing) return { ok: false, detail: 'worker shutting down' };
      const ping = connection.ping();
      ping.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), 1500); });
      const answer = await Promise.race([ping.then(() => 'ok' as const, () => 'error' as const), timeout]);
      clearTimeout(timer);
      if (answer !== 'ok') return { ok: false, detail: `redis ${answer === 'timeout' ? 'does not answer' : 'unreachable'}` };
      if (!engine.isAlive()) return { ok: false, detail: 'engine thread not running' };
      if (!engine.hasLoaded(firstModel)) return { ok: false, detail: `model ${firstModel} not loaded` };
      return { ok: true };
    },
    close() {
      closing ??= (async () => {
        const started = Date.now();
        logger.info({ graceMs: config.shutdownGraceMs }, 'generate worker stopping');
        // First out of the registry (no new jobs for models only this worker holds), and jobs
        // waiting for a slot go straight back to the queue.
        gate.close();
        await within(announcer.withdraw(), 1000);
        const grace = setTimeout(() => cancels.abortAll(new ShutdownRequested()), config.shutdownGraceMs);
        try {
          // The hand-back needs Redis. When it cannot finish (Redis unreachable), stop anyway: the
          // job's lock expires and another worker's stalled-job check runs it again.
          if (!(await within(closeWorkers(), config.shutdownGraceMs + HANDBACK_MS))) {
            logger.warn({ handBackMs: HANDBACK_MS }, 'running job not handed back in time (Redis unreachable?); its lock will expire and another worker re-runs it');
            await within(closeWorkers(true), 1000);
            connection.disconnect();
          }
        } finally {
          clearTimeout(grace);
        }
        const closeBy = started + config.shutdownGraceMs + CLOSE_MARGIN_MS;
        for (const close of owned) {
          const left = Math.max(100, closeBy - Date.now());
          if (!(await within(close().catch((err: unknown) => logger.warn({ err }, 'error while closing the worker')), left))) {
            logger.warn({ waitedMs: left }, 'a part of the worker did not close in time (Redis unreachable?); going on');
          }
        }
        logger.info('generate worker stopped');
      })();
      return closing;
    },
  };
}
