// POST /v1/jobs: validate, decode and store inputs, record the job, queue it.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { CreateJobRequest, fieldErrors, WEBHOOK_EVENTS, type InputImageRef, type JobResource } from '@sdsvc/contracts';
import { processPrompt, PromptSyntaxError, type ProcessedPrompt } from '@sdsvc/prompt';
import type { RgbImage } from '@sdsvc/images';
import type { AppDeps } from '../deps.ts';
import { REQUEST_SCHEDULERS, type ModelCatalog } from '../model-catalog.ts';
import { waitUntilFinished, type JobView } from '../job-view.ts';
import { preferredWait } from '../prefer.ts';
import { fieldProblem, HttpProblem, validationProblem } from '../problem.ts';
import { decodeImage, decodeMaskAt, readImageSource, storeInput, type ImageLimits } from '../submission/image-inputs.ts';
import { buildParams, chooseSize } from '../submission/normalise.ts';
import { readSubmission } from '../submission/read-body.ts';
import { referenceSource } from '../submission/reference.ts';

export interface JobsCreateOptions { deps: AppDeps; catalog: ModelCatalog; view: JobView }

function processPromptOr400(req: CreateJobRequest): ProcessedPrompt {
  try {
    return processPrompt({ prompt: req.prompt, negativePrompt: req.negative_prompt });
  } catch (err) {
    if (err instanceof PromptSyntaxError) throw fieldProblem(400, err.code, err.field, err.message);
    throw err;
  }
}

function idempotencyKeyOf(request: FastifyRequest): string | null {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new HttpProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1…255 characters');
  }
  // Scoped per caller: two clients can never collide on (or probe) each other's keys.
  return request.callerId ? `${request.callerId}:${key}` : key;
}

export async function jobsCreateRoutes(app: FastifyInstance, opts: JobsCreateOptions): Promise<void> {
  const { deps, catalog, view } = opts;
  const { config, store, queue, idempotency, objectStore } = deps;
  const limits: ImageLimits = { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, allowHttp: config.allowPrivateUrls };

  await app.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: config.maxImageBytes } });

  async function answer(request: FastifyRequest, reply: FastifyReply, id: string, replayed: boolean): Promise<JobResource> {
    const wait = preferredWait(request.headers.prefer);
    if (wait !== null) {
      await waitUntilFinished(store, id, wait * 1000);
      reply.header('preference-applied', `wait=${wait}`);
    }
    const rec = await store.get(id);
    if (!rec) throw new HttpProblem(404, 'job_not_found', `job ${id} no longer exists`);
    if (replayed) reply.header('idempotent-replayed', 'true');
    reply.code(202).header('location', `/v1/jobs/${id}`);
    return await view(rec);
  }

  async function refuseOrReplay(outcome: Awaited<ReturnType<typeof idempotency.check>>): Promise<string | null> {
    if (outcome.status === 'conflict') {
      throw new HttpProblem(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request body');
    }
    return outcome.status === 'replay' ? outcome.jobId : null;
  }

  app.post('/v1/jobs', async (request, reply) => {
    const submission = await readSubmission(request, config.maxImageBytes);
    const parsed = CreateJobRequest.safeParse(submission.body);
    if (!parsed.success) throw validationProblem(fieldErrors(parsed.error, submission.body));
    const req = parsed.data;

    const idemKey = idempotencyKeyOf(request);
    if (idemKey) {
      const existing = await refuseOrReplay(await idempotency.check(idemKey, submission.hash));
      if (existing) return await answer(request, reply, existing, true);
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
    const prompt = processPromptOr400(req);
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

    // Decode every input before anything is stored: a bad image costs no storage.
    const read = (field: 'init_image' | 'mask_image' | 'reference_image', value: string) =>
      readImageSource(field, value, submission.files.get(field), deps.fetchImage, limits);
    const decoded: { init?: RgbImage; mask?: RgbImage; reference?: RgbImage } = {};
    if (req.init_image !== undefined) decoded.init = await decodeImage('init_image', await read('init_image', req.init_image), limits);
    if (req.mask_image !== undefined && decoded.init) {
      decoded.mask = await decodeMaskAt(await read('mask_image', req.mask_image), decoded.init, limits);
    }
    if (reference) decoded.reference = await decodeImage('reference_image', await read('reference_image', reference.value), limits);
    const size = chooseSize(req, model, decoded.init ?? decoded.reference);

    const id = randomUUID();
    const inputs: Record<string, InputImageRef> = {};
    if (decoded.init) inputs.init_image = await storeInput(objectStore, id, 'init_image', decoded.init);
    if (decoded.mask) inputs.mask_image = await storeInput(objectStore, id, 'mask_image', decoded.mask);
    if (decoded.reference) inputs.reference_image = await storeInput(objectStore, id, 'reference_image', decoded.reference);
    const params = buildParams(req, prompt, size, inputs);

    if (idemKey) {
      const existing = await refuseOrReplay(await idempotency.claim(idemKey, id, submission.hash));
      if (existing) return await answer(request, reply, existing, true); // a concurrent twin won
    }
    try {
      await store.create({
        id, type: req.type, model: model.id, params, metadata: req.metadata ?? null,
        webhook: req.webhook ? { url: req.webhook.url, events: req.webhook.events ?? [...WEBHOOK_EVENTS] } : null,
      });
    } catch (err) {
      if (idemKey) await idempotency.release(idemKey);
      throw err;
    }
    try {
      await queue.add(id, { jobId: id, model: model.id });
    } catch (err) {
      request.log.error({ err, job_id: id }, 'could not queue the job');
      await store.markFailed(id, { code: 'queue_unavailable', message: 'the job could not be queued' });
      throw new HttpProblem(503, 'queue_unavailable', 'the job queue is unavailable; try again');
    }
    request.log.info({ job_id: id, type: req.type, model: model.id }, 'job queued');
    return await answer(request, reply, id, false);
  });
}
