// Submitting a job, whatever protocol it came in: validate (zod + the model's rules), decode and
// store input images, record the job and queue it. Adapters translate their request into a
// CreateJobRequest-shaped body and call this; they never validate, store or queue on their own.
import { randomUUID } from 'node:crypto';
import {
  CreateJobRequest, fieldErrors, fieldProblem, HttpProblem, validationProblem, WEBHOOK_EVENTS, type ImageField, type InputImageRef,
} from '@sdsvc/contracts';
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
  /** Idempotency fingerprint of body + files (fingerprint()). */
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

export async function submitJob(deps: SubmissionDeps, input: SubmitInput): Promise<Submitted> {
  const { config, store, queue, idempotency, objectStore, catalog } = deps;
  const limits: ImageLimits = { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, allowHttp: config.allowPrivateUrls };
  const parsed = CreateJobRequest.safeParse(input.body);
  if (!parsed.success) throw validationProblem(fieldErrors(parsed.error, input.body));
  const req = parsed.data;

  const log = input.log ?? deps.logger;
  const idemKey = input.idempotencyKey ?? null;
  if (idemKey) {
    const existing = replayOf(await idempotency.check(idemKey, input.hash), false);
    if (existing) return { id: existing, replayed: true };
  }

  if (req.webhook) {
    if (!config.webhookSecret) throw fieldProblem(400, 'webhooks_not_configured', 'webhook', 'webhooks are disabled on this server (WEBHOOK_SECRET is unset)');
    try {
      await deps.checkWebhookUrl(req.webhook.url);
    } catch (err) {
      throw fieldProblem(400, 'url_not_allowed', 'webhook.url', `webhook.url: ${(err as Error).message}`);
    }
  }

  const modelId = req.model ?? config.defaultModel;
  const model = await catalog.get(modelId);
  if (!model) {
    const unusable = await catalog.problem(modelId);
    if (unusable) throw fieldProblem(400, 'model_unavailable', 'model', `model "${modelId}" cannot be used: ${unusable.message}`);
    throw fieldProblem(400, 'unknown_model', 'model', `unknown model "${modelId}"`);
  }
  checkSdxlFields(req, model);
  const prompt = processPromptOr400(req);
  if (deps.promptPolicy?.blocks(prompt.prompt)) {
    // Names no term: the list is the operator's, and a named term teaches how to get around it.
    throw fieldProblem(400, 'prompt_blocked', 'prompt', 'the prompt is not allowed by this server\'s content policy');
  }
  if (req.safety === false && !input.safetyExempt) {
    throw fieldProblem(403, 'safety_not_exempt', 'safety', 'safety: false needs an API key listed in SAFETY_EXEMPT_KEYS');
  }
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
    // Decode every input before anything is stored: a bad image costs no storage.
    const files = input.files ?? new Map<ImageField, Buffer>();
    const read = (field: ImageField, value: string) => readImageSource(field, value, files.get(field), deps.fetchImage, limits);
    const decoded: { init?: RgbImage; mask?: RgbImage; reference?: RgbImage } = {};
    if (req.init_image !== undefined) decoded.init = await decodeImage('init_image', await read('init_image', req.init_image), limits);
    if (req.mask_image !== undefined && decoded.init) {
      decoded.mask = await decodeMaskAt(await read('mask_image', req.mask_image), decoded.init, limits);
    }
    if (reference) decoded.reference = await decodeImage('reference_image', await read('reference_image', reference.value), limits);
    const size = chooseSize(req, model, decoded.init ?? decoded.reference);

    await enforceLimits(deps, { request: req, model, size, owner: input.owner ?? null, jobId: id }); // cost limits, active-job quota
    const inputs: Record<string, InputImageRef> = {};
    const keep = (field: ImageField, img: RgbImage | undefined) => {
      if (!img) return;
      stored.push(inputKey(objectStore, id, field)); // before the upload: a partial one is cleaned up too
      return storeInput(objectStore, id, field, img).then((ref) => { inputs[field] = ref; });
    };
    await keep('init_image', decoded.init);
    await keep('mask_image', decoded.mask);
    await keep('reference_image', decoded.reference);
    const params = buildParams(req, prompt, size, inputs, model);
    if (loras.length > 0) params.loras = loras;

    const rec = {
      id, type: req.type, model: model.id, params, metadata: req.metadata ?? null, owner: input.owner ?? null,
      webhook: req.webhook ? { url: req.webhook.url, events: req.webhook.events ?? [...WEBHOOK_EVENTS] } : null,
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
  log.info({ job_id: id, type: req.type, model: model.id }, 'job queued');
  return { id, replayed: false, record: created };
}
