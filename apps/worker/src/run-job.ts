// One generation job, start to finish: the record's state machine around the engine call.
// queued → running → succeeded | failed | canceled, or handed back to the queue on shutdown.
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { GenerateJobData, JobStore } from '@sdsvc/jobs';
import type { EngineHost } from '@sdsvc/engine';
import type { ObjectStore } from '@sdsvc/storage';
import type { WebhookEventType } from '@sdsvc/contracts';
import type { DecodeLimits } from '@sdsvc/images';
import { withJobId, type Logger } from '@sdsvc/logging';
import { CancelRequested, type CancelWatcher } from './cancel-watcher.ts';
import { buildGenerateRequest } from './generate-request.ts';
import { lorasForEngine } from './job-loras.ts';
import type { LoraUrlCache } from '@sdsvc/lora';
import { loadJobInputs } from './job-inputs.ts';
import { isAbortError, modelFailure, toJobFailure } from './job-errors.ts';
import { storeOutputs } from './job-outputs.ts';

export interface RunJobDeps {
  store: JobStore;
  objects: ObjectStore;
  engine: EngineHost;
  cancels: CancelWatcher;
  /** Webhook for the job's current state; never throws (delivery has its own queue and retries). */
  notify(jobId: string, event: WebhookEventType): Promise<void>;
  logger: Logger;
  /** Bounds for decoding stored input images. */
  imageLimits: DecodeLimits;
  /** LORA_DIR: where the files of params.loras are. */
  loraDir?: string;
  /** ALLOW_LORA_URLS: LoRAs given by URL, fetched and kept by sha256. */
  loraUrls?: LoraUrlCache;
}

/** Abort reason used when this worker shuts down: the job goes back to the queue. */
export class ShutdownRequested extends Error {
  constructor() {
    super('worker shutting down');
    this.name = 'ShutdownRequested';
  }
}

export async function runGenerateJob(job: Job<GenerateJobData>, token: string | undefined, deps: RunJobDeps): Promise<void> {
  const id = job.id!;
  const attempt = job.attemptsMade + 1;
  const log = withJobId(deps.logger, id, { attempt });
  const maxAttempts = job.opts.attempts ?? 1;

  const record = await deps.store.get(id);
  if (!record) {
    log.warn('job record missing (expired or deleted); dropping the queue entry');
    return;
  }
  if (record.status === 'succeeded' || record.status === 'failed' || record.status === 'canceled') {
    // A stalled copy of a job that already ended: never run it a second time.
    log.info({ status: record.status }, 'job already finished; skipping');
    return;
  }

  const abort = deps.cancels.watch(id);
  try {
    if (!(await deps.store.markRunning(id, { total: record.params.steps, attempt }))) {
      log.info('job canceled before it started');
      return;
    }
    log.info({ maxAttempts, type: record.type, model: record.model }, 'job started');
    await deps.notify(id, 'job.started');
    // A cancel published before watch() registered is only visible as the flag.
    if (await deps.store.isCancelRequested(id)) abort.abort(new CancelRequested(id));

    const inputs = await loadJobInputs(record.type, record.params, deps.objects, deps.imageLimits);
    const request = buildGenerateRequest(record.type, record.params, inputs, { loras: await lorasForEngine(record.params.loras, deps) });

    // Every step is reported, in order: each write waits for the previous one.
    let progress: Promise<void> = Promise.resolve();
    const onStep = (step: number, total: number) => {
      progress = progress.then(() => deps.store.setProgress(id, step, total))
        .catch((err: unknown) => log.warn({ err }, 'progress update failed'));
    };
    let result;
    try {
      result = await deps.engine.generate(record.model, request, { onStep, signal: abort.signal });
    } catch (err) {
      throw isAbortError(err) || abort.signal.aborted ? err : modelFailure(err);
    } finally {
      await progress;
    }
    abort.signal.throwIfAborted();

    const overlayOn = record.type === 'inpaint' && record.params.overlay !== false;
    const full = inputs.fullRes;
    const fullRes = full && { original: full.original, region: full.region, mask: overlayOn ? full.mask : undefined, padding: full.padding };
    const overlay = overlayOn && !full && inputs.init && inputs.mask ? { original: inputs.init, mask: inputs.mask } : undefined;
    const images = await storeOutputs(result, { jobId: id, model: record.model, params: record.params, overlay, fullRes }, deps.objects);
    await deps.store.markSucceeded(id, { images });
    log.info({ images: images.length, bytes: images.reduce((n, i) => n + i.bytes, 0) }, 'job succeeded');
    await deps.notify(id, 'job.succeeded');
  } catch (err) {
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
    if (reason instanceof ShutdownRequested) {
      // Hand the job back: another worker (or this one after restart) runs it from the start.
      await deps.store.requeue(id);
      await job.moveToWait(token);
      log.info('job handed back to the queue (worker shutting down)');
      throw new WaitingError();
    }
    if (reason instanceof CancelRequested || (isAbortError(err) && reason === undefined)) {
      await deps.store.markCanceled(id);
      log.info('job canceled');
      await deps.notify(id, 'job.canceled');
      return; // completes the BullMQ job: a canceled job is never retried
    }
    const failure = toJobFailure(err);
    if (failure.retryable && attempt < maxAttempts) {
      await deps.store.requeue(id);
      log.warn({ err, code: failure.code, attempt, maxAttempts }, 'job attempt failed; will retry');
      throw failure; // BullMQ retries with the queue's backoff
    }
    await deps.store.markFailed(id, { code: failure.code, message: failure.message });
    log.error({ err, code: failure.code, attempt, maxAttempts }, 'job failed');
    await deps.notify(id, 'job.failed');
    throw new UnrecoverableError(failure.message);
  } finally {
    deps.cancels.release(id);
  }
}
