// Submitting a job, whatever protocol it came in: validate (zod + the model's rules), decode and
// store input images, record the job and queue it. Adapters translate their request into a
// CreateJobRequest-shaped body and call this; they never validate, store or queue on their own.
import { randomUUID } from 'node:crypto';
import {
  CreateJobRequest, createJobRequestParser, fieldErrors, fieldProblem, HttpProblem, IMAGE_FIELDS, validationProblem, WEBHOOK_EVENTS,
  type ImageField, type InputImageRef, type JobParams, type WebhookEventType,
} from '@sdsvc/contracts';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { prepareAnimation } from './prepare-animation.ts';
import type { RgbImage } from '@sdsvc/images';
import { processPrompt, PromptSyntaxError, type ProcessedPrompt } from '@sdsvc/prompt';
import type { JobRecord } from '@sdsvc/jobs';
import type { JobLog, SubmissionDeps } from './deps.ts';
import { decodeImage, decodeMaskAt, inputKey, readImageSource, storeInput, type ImageLimits } from './image-inputs.ts';
import { enforceLimits } from './limits.ts';
import { resolveJobLoras } from './loras.ts';
import { REQUEST_SCHEDULERS } from './model-catalog.ts';
import { buildParams, checkSdxlFields, chooseSize } from './normalise.ts';
import { referenceSource } from './reference.ts';

export interface SubmitInput {
  /** The job as plain fields (JSON types), not yet validated. Image fields may be FILE_PART. */
  body: Record<string, unknown>;
  /** Image bytes for fields whose value is FILE_PART (multipart). */
  files?: ReadonlyMap<ImageField, Buffer>;
  /** Idempotency fingerprint of body + files (fingerprint()); read only with an idempotencyKey ('' without one). */
  hash: string;
  /** The Idempotency-Key, already scoped to the caller; null when none was sent. */
  idempotencyKey?: string | null;
  /** Caller id of the API key that submits (tenancy); null without auth. */
  owner?: string | null;
  /** The caller's key is in SAFETY_EXEMPT_KEYS: it may send `safety: false`. */
  safetyExempt?: boolean;
  /** Logger with the request's context (request_id); the service's logger otherwise. */
  log?: JobLog;
}

export interface Submitted {
  id: string;
  /** True when an earlier request with the same Idempotency-Key and body created the job. */
  replayed: boolean;
  /** The record as created (with its queue position), so the answer needs no read-back; absent on a replay. */
  record?: JobRecord;
}

function processPromptOr400(req: CreateJobRequest): ProcessedPrompt {
  try {
    return processPrompt({ prompt: req.prompt, negativePrompt: req.negative_prompt });
  } catch (err) {
    if (err instanceof PromptSyntaxError) throw fieldProblem(400, err.code, err.field, err.message);
    throw err;
  }
}

type IdemOutcome = Awaited<ReturnType<SubmissionDeps['idempotency']['check']>>;
function replayOf(outcome: IdemOutcome, claimed: boolean): string | null {
  if (outcome.status === 'conflict') {
    throw new HttpProblem(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
  }
  if (outcome.status === 'in_progress' && claimed) {
    throw new HttpProblem(409, 'idempotency_in_progress', 'a request with this Idempotency-Key is still creating its job; retry in a moment');
  }
  return outcome.status === 'replay' ? outcome.jobId : null;
}

/** What a validated job needs to be stored and queued; the decoding of its input images waits
 *  until the Idempotency-Key is claimed. */
interface JobPlan {
  type: JobRecord['type'];
  model: ModelInfo;
  webhook?: { url: string; events?: readonly WebhookEventType[] };
  metadata?: Record<string, unknown>;
  /** Decodes the inputs; returns the images to store, the output size and what the cost limits see. */
  decode(): Promise<{ images: Partial<Record<ImageField, RgbImage>>; size: { width: number; height: number }; steps: number; numImages: number }>;
  /** The normalised params once the inputs are stored. */
  params(inputs: Record<string, InputImageRef>, size: { width: number; height: number }): JobParams;
}

export async function submitJob(deps: SubmissionDeps, input: SubmitInput): Promise<Submitted> {
  const idemKey = input.idempotencyKey ?? null;
  if (idemKey) {
    const existing = replayOf(await deps.idempotency.check(idemKey, input.hash), false);
    if (existing) return { id: existing, replayed: true };
  }
  const plan = input.body.type === 'animation' ? await planAnimationJob(deps, input) : await planImageJob(deps, input);
  return await enqueuePlan(deps, input, plan);
}

async function checkWebhook(deps: SubmissionDeps, webhook: { url: string } | undefined): Promise<void> {
  if (!webhook) return;
  if (!deps.config.webhookSecret) throw fieldProblem(400, 'webhooks_not_configured', 'webhook', 'webhooks are disabled on this server (WEBHOOK_SECRET is unset)');
  try {
    await deps.checkWebhookUrl(webhook.url);
  } catch (err) {
    throw fieldProblem(400, 'url_not_allowed', 'webhook.url', `webhook.url: ${(err as Error).message}`);
  }
}

/** How long a client is told to wait when no live worker holds its model (a worker starting up). */
const MODEL_RETRY_AFTER_S = '10';

function modelUnavailable(modelId: string, why: string): HttpProblem {
  const detail = `model "${modelId}" ${why}; try again later`;
  return new HttpProblem(503, 'model_unavailable', detail, { errors: [{ path: 'model', code: 'model_unavailable', message: detail }], headers: { 'retry-after': MODEL_RETRY_AFTER_S } });
}

/** The requested model if a live worker holds it (or QUEUE_WITHOUT_WORKERS): else 400 unknown_model
 *  (nobody ever announced it, no such folder) or 503 model_unavailable (nobody can run it now). */
export async function modelForJob(deps: Pick<SubmissionDeps, 'config' | 'catalog'>, requested: string | undefined): Promise<ModelInfo> {
  const modelId = requested ?? deps.config.defaultModel;
  const model = await deps.catalog.get(modelId);
  if (!model) {
    const unusable = await deps.catalog.problem(modelId);
    if (unusable) throw modelUnavailable(modelId, `cannot be used: ${unusable.message}`);
    throw fieldProblem(400, 'unknown_model', 'model', `unknown model "${modelId}" (GET /v1/models lists them)`);
  }
  if (!deps.config.queueWithoutWorkers && (await deps.catalog.confirmLiveWorkers(model.id)) === 0) {
    throw modelUnavailable(modelId, 'is not held by any running worker');
  }
  return model;
}

function checkSafetyOptOut(safety: boolean | undefined, input: SubmitInput): void {
  if (safety === false && !input.safetyExempt) {
    throw fieldProblem(403, 'safety_not_exempt', 'safety', 'safety: false needs an API key listed in SAFETY_EXEMPT_KEYS');
  }
}

function imageLimits(deps: SubmissionDeps): ImageLimits {
  const { config } = deps;
  return { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, allowHttp: config.allowPrivateUrls };
}

/** txt2img, img2img and inpaint jobs (CreateJobRequest). */
async function planImageJob(deps: SubmissionDeps, input: SubmitInput): Promise<JobPlan> {
  const parsed = createJobRequestParser.safeParse(input.body);
  if (!parsed.success) throw validationProblem(fieldErrors(parsed.error, input.body));
  const req = parsed.data;
  await checkWebhook(deps, req.webhook);
  const model = await modelForJob(deps, req.model);
  checkSdxlFields(req, model);
  const prompt = processPromptOr400(req);
  if (deps.promptPolicy?.blocks(prompt.prompt)) {
    // Names no term: the list is the operator's, and a named term teaches how to get around it.
    throw fieldProblem(400, 'prompt_blocked', 'prompt', 'the prompt is not allowed by this server\'s content policy');
  }
  checkSafetyOptOut(req.safety, input);
  const reference = referenceSource(req, prompt);
  const needs = req.type === 'txt2img' && reference ? 'img2img' : req.type;
  if (!model.capabilities.includes(needs)) {
    throw fieldProblem(400, 'unsupported_job_type', 'type', `model ${model.id} cannot run ${needs} jobs (it supports ${model.capabilities.join(', ')})`);
  }
  if (req.scheduler !== undefined && req.scheduler !== 'default' && !REQUEST_SCHEDULERS.includes(req.scheduler)) {
    const lower = req.scheduler.trim().toLowerCase();
    const hint = lower === 'default' || REQUEST_SCHEDULERS.includes(lower) ? ` (names are lower case: did you mean "${lower}"?)` : '';
    throw fieldProblem(400, 'unknown_scheduler', 'scheduler', `unknown scheduler "${req.scheduler}"${hint}; valid schedulers: default, ${REQUEST_SCHEDULERS.join(', ')}`);
  }
  const loras = await resolveJobLoras(deps, req, prompt, model);
  const limits = imageLimits(deps);
  return {
    type: req.type, model, webhook: req.webhook, metadata: req.metadata,
    async decode() {
      // Decode every input before anything is stored: a bad image costs no storage.
      const files = input.files ?? new Map<ImageField, Buffer>();
      const read = (field: ImageField, value: string) => readImageSource(field, value, files.get(field), deps.fetchImage, limits);
      const images: Partial<Record<ImageField, RgbImage>> = {};
      if (req.init_image !== undefined) images.init_image = await decodeImage('init_image', await read('init_image', req.init_image), limits);
      if (req.mask_image !== undefined && images.init_image) {
        images.mask_image = await decodeMaskAt(await read('mask_image', req.mask_image), images.init_image, limits);
      }
      if (reference) images.reference_image = await decodeImage('reference_image', await read('reference_image', reference.value), limits);
      const size = chooseSize(req, model, images.init_image ?? images.reference_image);
      return { images, size, steps: req.steps, numImages: req.num_images };
    },
    params(inputs, size) {
      const params = buildParams(req, prompt, size, inputs, model);
      if (loras.length > 0) params.loras = loras;
      return params;
    },
  };
}

/** Animation jobs (CreateAnimationRequest): validated by prepareAnimation, stored like the others. */
async function planAnimationJob(deps: SubmissionDeps, input: SubmitInput): Promise<JobPlan> {
  const requested = typeof input.body.model === 'string' ? input.body.model : undefined;
  const model = await modelForJob(deps, requested);
  const limits = imageLimits(deps);
  const files = input.files ?? new Map<ImageField, Buffer>();
  let init: RgbImage | undefined;
  // Validation first (no image decoded yet); the init image is decoded after the claim.
  const probe = await prepareAnimation(deps, input.body, model, async () => ({ data: new Uint8Array(0), width: model.nativeSize, height: model.nativeSize }));
  const req = probe.request;
  await checkWebhook(deps, req.webhook);
  checkSafetyOptOut(req.safety, input);
  let prepared = probe;
  return {
    type: 'animation', model, webhook: req.webhook, metadata: req.metadata,
    async decode() {
      if (req.init_image !== undefined) {
        init = await decodeImage('init_image', await readImageSource('init_image', req.init_image, files.get('init_image'), deps.fetchImage, limits), limits);
        prepared = await prepareAnimation(deps, input.body, model, async () => init!);
      }
      const { width, height } = prepared.params;
      return { images: init ? { init_image: init } : {}, size: { width, height }, steps: req.steps, numImages: req.frames };
    },
    params(inputs) {
      return { ...prepared.params, ...(Object.keys(inputs).length > 0 ? { inputs } : {}) } as JobParams;
    },
  };
}

async function enqueuePlan(deps: SubmissionDeps, input: SubmitInput, plan: JobPlan): Promise<Submitted> {
  const { store, queue, idempotency, objectStore } = deps;
  const log = input.log ?? deps.logger;
  const idemKey = input.idempotencyKey ?? null;
  const { model } = plan;
  // Claim the Idempotency-Key before any work: a twin arriving now waits for this job, or hears
  // 409 idempotency_in_progress; if this request fails, the key is released for a retry.
  const id = randomUUID();
  if (idemKey) {
    const existing = replayOf(await idempotency.claim(idemKey, id, input.hash), true);
    if (existing) return { id: existing, replayed: true }; // a concurrent twin won
  }
  const stored: string[] = [];
  let created: JobRecord;
  try {
    const decoded = await plan.decode();
    const { size } = decoded;
    // Cost limits, active-job quota. An animation counts its frames as images.
    await enforceLimits(deps, {
      request: { steps: decoded.steps, num_images: decoded.numImages } as CreateJobRequest, model, size, owner: input.owner ?? null, jobId: id,
    });
    const inputs: Record<string, InputImageRef> = {};
    for (const field of IMAGE_FIELDS) {
      const img = decoded.images[field];
      if (!img) continue;
      stored.push(inputKey(objectStore, id, field)); // before the upload: a partial one is cleaned up too
      inputs[field] = await storeInput(objectStore, id, field, img);
    }
    const params = plan.params(inputs, size);

    const rec = {
      id, type: plan.type, model: model.id, params, metadata: plan.metadata ?? null, owner: input.owner ?? null,
      webhook: plan.webhook ? { url: plan.webhook.url, events: [...(plan.webhook.events ?? WEBHOOK_EVENTS)] } : null,
    };
    const enqueue = () => queue.add(id, { jobId: id, model: model.id });
    // Record + queue entry in one round trip when the queue writes on the store's connection.
    const outcome = queue.sharesConnection(store.connection)
      ? await store.createAndEnqueue(rec, enqueue)
      : await store.create(rec).then(async (r) => { try { await enqueue(); return { record: r }; } catch (e) { return { record: r, enqueueError: e }; } });
    if (outcome.enqueueError !== undefined) {
      log.error({ err: outcome.enqueueError, job_id: id }, 'could not queue the job');
      // The client hears 503 and retries: this record must not run later (the reconciler would
      // queue a record it finds without a queue entry).
      await store.deleteJob(id).catch(() => store.markFailed(id, { code: 'queue_unavailable', message: 'the job could not be queued' }))
        .catch((e: unknown) => log.error({ err: e, job_id: id }, 'could not discard the unqueued job record'));
      throw new HttpProblem(503, 'queue_unavailable', 'the job queue is unavailable; try again');
    }
    created = outcome.record;
  } catch (err) {
    if (idemKey) await idempotency.release(idemKey, id).catch((e: unknown) => log.warn({ err: e }, 'could not release the Idempotency-Key'));
    // Inputs stored for a job that was not queued are of no use to anyone.
    for (const key of stored) await objectStore.delete(key).catch((e: unknown) => log.warn({ err: e, key }, 'could not delete a stored input'));
    throw err;
  }
  // Queued: twins get this job from now on. Should this write fail, the pending claim expires
  // in a minute (twins hear 409 idempotency_in_progress until then), the job runs regardless.
  if (idemKey) await idempotency.commit(idemKey, id, input.hash).catch((e: unknown) => log.warn({ err: e, job_id: id }, 'could not commit the Idempotency-Key'));
  log.info({ job_id: id, type: plan.type, model: model.id }, 'job queued');
  return { id, replayed: false, record: created };
}
