// One generation job, start to finish: the record's state machine around the engine call.
// queued → running → succeeded | failed | canceled, or handed back to the queue (shutdown, retry).
//
// Each run is an *attempt* with its own id (BullMQ's lock token): markRunning makes it the owner,
// and every later write (progress, result, final status, hand-back) is applied by the Lua scripts
// only while it still is. A worker that lost its lock (another worker runs the job now) may keep
// computing, but its writes are refused and it never notifies. Webhooks are not sent from here:
// the transition itself writes them to the outbox (same script); `notify` only asks the local
// outbox drain to run soon.
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { GenerateJobData, JobRecord, JobStore } from '@sdsvc/jobs';
import type { EngineHost, GenerateResult } from '@sdsvc/engine';
import type { ObjectStore } from '@sdsvc/storage';
import type { WebhookEventType } from '@sdsvc/contracts';
import type { DecodeLimits } from '@sdsvc/images';
import { withJobId, type Logger } from '@sdsvc/logging';
import { CancelRequested, type CancelWatcher } from './cancel-watcher.ts';
import { buildGenerateRequest } from './generate-request.ts';
import { lorasForEngine } from './job-loras.ts';
import type { LoraUrlCache } from '@sdsvc/lora';
import { loadJobInputs, type PreparedInputs } from './job-inputs.ts';
import { isAbortError, isEngineDeath, JobFailure, modelFailure, toJobFailure } from './job-errors.ts';
import { storeOutputs } from './job-outputs.ts';
import { jobPreviewPublisher } from './job-previews.ts';
import type { ImageSafety } from './image-safety.ts';
import { renderJobAnimation, storeJobAnimation, type RenderedAnimation } from './run-animation.ts';
import type { JobResult } from '@sdsvc/jobs';

export interface RunJobDeps {
  store: JobStore;
  objects: ObjectStore;
  engine: EngineHost;
  cancels: CancelWatcher;
  /** A transition of this job applied and wrote `event` to the outbox (drain it soon). Never throws. */
  notify(jobId: string, event: WebhookEventType): Promise<void> | void;
  logger: Logger;
  /** Bounds for decoding stored input images. */
  imageLimits: DecodeLimits;
  /** LORA_DIR: where the files of params.loras are. */
  loraDir?: string;
  /** ALLOW_LORA_URLS: LoRAs given by URL, fetched and kept by sha256. */
  loraUrls?: LoraUrlCache;
  /** JOB_TIMEOUT_MS: deadline of one run; 0 or absent = none. */
  timeoutMs?: number;
  /** Upload retries after generation (storage outage): attempts in all and first delay (doubled). */
  uploadRetry?: { attempts: number; delayMs: number };
  /** SAFETY_MODE with its checkers (absent: no image safety check). */
  safety?: ImageSafety;
  /** WATERMARK: payload bits embedded in every generated image. */
  watermark?: readonly number[];
}

/** Abort reason used when this worker shuts down: the job goes back to the queue. */
export class ShutdownRequested extends Error {
  constructor() {
    super('worker shutting down');
    this.name = 'ShutdownRequested';
  }
}

/** Abort reason when JOB_TIMEOUT_MS ran out. */
export class JobTimedOut extends Error {
  constructor(ms: number) {
    super(`the job ran longer than JOB_TIMEOUT_MS (${ms} ms)`);
    this.name = 'JobTimedOut';
  }
}

/** Abort reason when another attempt owns the job now (this worker lost its lock). */
export class AttemptSuperseded extends Error {
  constructor() {
    super('another attempt owns this job now');
    this.name = 'AttemptSuperseded';
  }
}

export async function runGenerateJob(job: Job<GenerateJobData>, token: string | undefined, deps: RunJobDeps): Promise<void> {
  const id = job.id!;
  // BullMQ counts failed attempts (its retries) apart from started ones (stalls included).
  const attempt = job.attemptsMade + 1;
  const started = Math.max(job.attemptsStarted ?? 0, attempt);
  const attemptId = token ?? randomUUID();
  const log = withJobId(deps.logger, id, { attempt: started });
  const maxAttempts = job.opts.attempts ?? 1;
  const { store } = deps;
  const applied = async (ok: boolean, event: WebhookEventType): Promise<boolean> => {
    if (ok) await deps.notify(id, event);
    return ok;
  };

  const record = await store.get(id);
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
  const stop = (reason: Error) => { if (!abort.signal.aborted) abort.abort(reason); };
  let deadline: NodeJS.Timeout | undefined;
  try {
    if (!(await store.markRunning(id, { total: record.params.steps, attempt: started, attemptId }))) {
      // A requested cancel wins at the start: the script ended the job canceled (outbox written).
      const now = await store.get(id);
      if (now?.status === 'canceled') await applied(true, 'job.canceled');
      log.info({ status: now?.status }, 'job not started (canceled or finished)');
      return;
    }
    log.info({ maxAttempts, type: record.type, model: record.model }, 'job started');
    await applied(true, 'job.started');
    if (deps.timeoutMs && deps.timeoutMs > 0) {
      const ms = deps.timeoutMs;
      deadline = setTimeout(() => stop(new JobTimedOut(ms)), ms);
    }
    // A cancel published before watch() registered is only visible as the flag.
    if ((await store.ownsAttempt(id, attemptId)).cancelRequested) stop(new CancelRequested(id));

    const result = await generate(record, id, attemptId, deps, abort, stop);

    // Fencing before side effects: a superseded attempt does not even upload.
    const own = await store.ownsAttempt(id, attemptId);
    if (!own.current) stop(new AttemptSuperseded());
    else if (own.cancelRequested) stop(new CancelRequested(id));
    abort.signal.throwIfAborted();

    const stored: JobResult = await uploadWithRetry(() => storeResult(record, id, result, deps), deps, abort.signal, log);
    abort.signal.throwIfAborted();
    if (await applied(await store.markSucceeded(id, stored, attemptId), 'job.succeeded')) {
      const { images } = stored;
      log.info({ images: images.length, bytes: images.reduce((n, i) => n + i.bytes, 0) + (stored.animation?.bytes ?? 0) }, 'job succeeded');
    } else {
      log.warn({ status: (await store.get(id))?.status }, 'result not recorded: the job was canceled, finished or taken over meanwhile');
    }
  } catch (err) {
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
    if (reason instanceof AttemptSuperseded) {
      log.warn('another attempt owns this job (this worker lost its lock); stopping without writing');
      return;
    }
    if (reason instanceof ShutdownRequested) {
      // Hand the job back (another worker, or this one after restart, runs it from the start),
      // unless a cancel was requested: then it ends canceled here.
      const status = await store.requeue(id, attemptId);
      if (status === 'queued') {
        await job.moveToWait(token);
        log.info('job handed back to the queue (worker shutting down)');
        throw new WaitingError();
      }
      if (status === 'canceled') await applied(true, 'job.canceled');
      log.info({ status }, 'job not handed back (canceled, finished or taken over)');
      return;
    }
    if (reason instanceof JobTimedOut) {
      await applied(await store.markFailed(id, { code: 'timeout', message: reason.message }, attemptId), 'job.failed');
      log.warn({ code: 'timeout', timeoutMs: deps.timeoutMs }, 'job timed out');
      throw new UnrecoverableError(reason.message);
    }
    if (reason instanceof CancelRequested || (isAbortError(err) && reason === undefined)) {
      await applied(await store.markCanceled(id, attemptId), 'job.canceled');
      log.info('job canceled');
      return; // completes the BullMQ job: a canceled job is never retried
    }
    const failure = toJobFailure(err);
    if (failure.retryable && attempt < maxAttempts) {
      const status = await store.requeue(id, attemptId);
      if (status === 'queued') {
        log.warn({ err, code: failure.code, attempt, maxAttempts }, 'job attempt failed; will retry');
        throw failure; // BullMQ retries with the queue's backoff
      }
      if (status === 'canceled') await applied(true, 'job.canceled');
      log.info({ status }, 'job not retried (canceled, finished or taken over)');
      return;
    }
    if (await applied(await store.markFailed(id, { code: failure.code, message: failure.message }, attemptId), 'job.failed')) {
      log.error({ err, code: failure.code, attempt, maxAttempts }, 'job failed');
    }
    throw new UnrecoverableError(failure.message);
  } finally {
    clearTimeout(deadline);
    deps.cancels.release(id);
  }
}

/** Inputs, then the engine; progress is written in step order and tells us about cancels. */
type Generated =
  | { kind: 'images'; result: GenerateResult; inputs: PreparedInputs }
  | { kind: 'animation'; rendered: RenderedAnimation; hasInit: boolean };

async function generate(record: JobRecord, id: string, attemptId: string, deps: RunJobDeps, abort: AbortController, stop: (e: Error) => void):
  Promise<Generated> {
  const inputs = await loadJobInputs(record.type, record.params, deps.objects, deps.imageLimits);
  let progress: Promise<void> = Promise.resolve();
  const onStep = (step: number, total: number, frame?: { index: number; count: number }) => {
    progress = progress.then(async () => {
      const ack = await deps.store.setProgress(id, step, total, attemptId, frame);
      // The flag is read at every step: a lost cancel message still stops the job.
      if (ack.cancelRequested) stop(new CancelRequested(id));
      else if (!ack.current) stop(new AttemptSuperseded());
    }).catch((err: unknown) => deps.logger.warn({ err, job_id: id }, 'progress update failed'));
  };
  // Live previews (params.preview): published on the job's channel, flushed before the job moves on.
  const previews = jobPreviewPublisher(deps.store, id, record.params.preview, deps.logger, () => abort.signal.aborted);
  try {
    if (record.type === 'animation') {
      const rendered = await renderJobAnimation(record.model, record.params, inputs.init, {
        engine: deps.engine, log: deps.logger, signal: abort.signal,
        onProgress: (index, count, step, total) => onStep(step, total, { index, count }), preview: previews.options,
      });
      await Promise.all([progress, previews.flush()]);
      abort.signal.throwIfAborted();
      return { kind: 'animation', rendered, hasInit: inputs.init !== undefined };
    }
    const request = buildGenerateRequest(record.type, record.params, inputs, { loras: await lorasForEngine(record.params.loras, deps) });
    const result = await deps.engine.generate(record.model, request, { onStep, signal: abort.signal, preview: previews.options });
    await Promise.all([progress, previews.flush()]);
    abort.signal.throwIfAborted();
    return { kind: 'images', result, inputs };
  } catch (err) {
    await Promise.all([progress, previews.flush()]);
    if (isAbortError(err) || abort.signal.aborted) throw err;
    // The engine thread died under the job (crash, OOM): not the input's fault, run it again.
    if (isEngineDeath(err)) throw new JobFailure('internal_error', `the engine thread died: ${(err as Error).message}`, { retryable: true, cause: err });
    throw modelFailure(err);
  }
}

async function storeResult(record: JobRecord, id: string, generated: Generated, deps: RunJobDeps): Promise<JobResult> {
  const output = { safety: deps.safety, watermark: deps.watermark };
  if (generated.kind === 'animation') {
    return await storeJobAnimation(id, record.model, record.params, generated.rendered, generated.hasInit, deps.objects, output);
  }
  const { result, inputs } = generated;
  const overlayOn = record.type === 'inpaint' && record.params.overlay !== false;
  const full = inputs.fullRes;
  const fullRes = full && { original: full.original, region: full.region, mask: overlayOn ? full.mask : undefined, padding: full.padding };
  const overlay = overlayOn && !full && inputs.init && inputs.mask ? { original: inputs.init, mask: inputs.mask } : undefined;
  return { images: await storeOutputs(result, { jobId: id, model: record.model, params: record.params, overlay, fullRes, ...output }, deps.objects) };
}

/** A storage outage after generation retries the upload (bounded, with backoff), not the generation. */
async function uploadWithRetry<T>(upload: () => Promise<T>, deps: RunJobDeps, signal: AbortSignal, log: Logger): Promise<T> {
  const { attempts, delayMs } = deps.uploadRetry ?? { attempts: 4, delayMs: 500 };
  for (let i = 1; ; i++) {
    try {
      return await upload();
    } catch (err) {
      const failure = toJobFailure(err);
      if (!failure.retryable || failure.code !== 'storage_unavailable' || i >= attempts || signal.aborted) throw err;
      const wait = delayMs * 2 ** (i - 1);
      log.warn({ err, try: i, waitMs: wait }, 'upload failed; retrying the upload');
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, wait);
        function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
        signal.addEventListener('abort', done, { once: true });
      });
      signal.throwIfAborted();
    }
  }
}
