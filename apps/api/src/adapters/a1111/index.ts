// The AUTOMATIC1111 API (/sdapi/v1/*) as a thin adapter over the job service: txt2img / img2img
// become ordinary jobs of the caller (one per n_iter batch), the answer carries base64 PNGs and
// A1111's info JSON; the listing endpoints describe what we have (empty where we have nothing);
// options, progress, interrupt and skip act on the caller's own state. Errors use FastAPI's shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import {
  A1111Img2ImgRequest, A1111Txt2ImgRequest, fieldErrors, fieldProblem, TERMINAL_STATUSES, validationProblem,
} from '@sdsvc/contracts';
import type { JobService } from '@sdsvc/submission';
import { cancelAll, cancelOnDisconnect, jobFailure, resultImages, submitAll, waitForAll } from '../shared/run-jobs.ts';
import { toHttpProblem } from '../shared/to-problem.ts';
import { makeA1111Auth } from './auth.ts';
import { A1111CallerState, type CurrentTask } from './caller-state.ts';
import { findCheckpoint, listCheckpoints } from './checkpoints.ts';
import { infoJson } from './info.ts';
import { A1111_SAMPLERS, A1111_SCHEDULES } from './samplers.ts';
import { a1111Field, isImg2Img, toJobBodies } from './translate.ts';

export interface A1111AdapterOptions {
  jobs: JobService;
  redis: Redis;
  modelsDir: string;
  defaultModel: string;
  basicAuth: ReadonlyArray<{ user: string; password: string }>;
  /** LORA_DIR's adapters, listed by /sdapi/v1/loras (prompts use them as <lora:name:scale>). */
  loras?: { list(): Promise<Array<{ id: string; error?: string | null }>> };
}

/** A1111 requests wait until their jobs end (or the client goes away); this only bounds a lost job. */
const MAX_WAIT_MS = 24 * 3600 * 1000;

const timestampNow = (): string => new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);

function withoutNulls(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationProblem([{ path: '', code: 'invalid_type', message: 'the body must be a JSON object' }]);
  }
  // A1111 (pydantic) takes null for "not given".
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

export async function a1111Adapter(app: FastifyInstance, opts: A1111AdapterOptions): Promise<void> {
  const { jobs } = opts;
  const { catalog } = jobs.deps;
  const state = new A1111CallerState(opts.redis, jobs.deps.store.prefix);
  app.addHook('onRequest', makeA1111Auth({ keysEnabled: () => app.keyRing?.enabled ?? false, basic: opts.basicAuth }));

  // FastAPI's shapes: {detail} for 401 and validation (422, [{loc, msg, type}]); A1111's
  // {error, detail, body, errors} for the rest.
  app.setErrorHandler((err, request, reply) => {
    const p = toHttpProblem(err as Error);
    if (p.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: p.code, status: p.status }, p.message);
    for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
    if (p.status === 401) return reply.code(401).send({ detail: p.message });
    if (p.code === 'validation_failed') {
      return reply.code(422).send({
        detail: (p.errors ?? []).map((e) => ({ loc: ['body', ...a1111Field(e.path).split('.').filter(Boolean)], msg: e.message, type: e.code })),
      });
    }
    return reply.code(p.status).send({ error: 'HTTPException', detail: p.message, body: '', errors: `${p.status}: ${p.message}` });
  });

  const checkpointOf = async (caller: string): Promise<string> => (await state.checkpoint(caller)) ?? opts.defaultModel;

  async function generate(request: FastifyRequest, reply: import('fastify').FastifyReply, img2img: boolean) {
    const raw = withoutNulls(request.body);
    const parsed = (img2img ? A1111Img2ImgRequest : A1111Txt2ImgRequest).safeParse(raw);
    if (!parsed.success) throw validationProblem(fieldErrors(parsed.error, raw));
    const req = parsed.data;
    // The checkpoint: override_settings, else this caller's options, else DEFAULT_MODEL.
    const override = req.override_settings?.sd_model_checkpoint;
    let modelId = await checkpointOf(request.callerId);
    if (typeof override === 'string' && override !== '') {
      const found = await findCheckpoint(catalog, opts.modelsDir, override);
      if (!found) throw fieldProblem(400, 'unknown_model', 'model', `model "${override}" not found`);
      modelId = found.id;
    }
    const { bodies, seed, sampler } = toJobBodies(req, modelId);
    const ids = await submitAll(jobs, request, bodies.map((body) => ({ body })));
    const task: CurrentTask = { ids, started: Date.now(), timestamp: timestampNow() };
    await state.setCurrent(request.callerId, task);
    const stopWatching = cancelOnDisconnect(jobs, request, reply, ids);
    try {
      const records = await waitForAll(jobs, request, ids, Date.now() + MAX_WAIT_MS);
      // Interrupted (canceled) batches answer with what finished, as A1111 does; failures are errors.
      const failed = records.find((r) => r.status === 'failed');
      if (failed) throw jobFailure(failed);
      const done = records.filter((r) => r.status === 'succeeded');
      const images = await resultImages(jobs, done);
      const checkpoint = (await listCheckpoints(catalog, opts.modelsDir)).find((c) => c.id === (records[0]?.model ?? modelId));
      const info = infoJson(req, { images, records, seed, sampler, modelId: records[0]?.model ?? modelId, modelHash: checkpoint?.hash ?? null, timestamp: task.timestamp });
      const parameters: Record<string, unknown> = { ...req };
      if (isImg2Img(req)) { parameters.init_images = null; parameters.mask = null; }
      return { images: req.send_images ? images.map((i) => i.bytes.toString('base64')) : [], parameters, info };
    } finally {
      stopWatching();
      await state.clearCurrent(request.callerId, task).catch(() => {});
    }
  }

  const route = { config: { auth: 'self' } }; // authenticated by the onRequest hook above
  const submitRoute = { config: { auth: 'self', submission: true } }; // creates jobs: RATE_LIMIT_PER_MINUTE (plugins/rate-limit.ts)
  app.post('/sdapi/v1/txt2img', submitRoute, async (request, reply) => await generate(request, reply, false));
  app.post('/sdapi/v1/img2img', submitRoute, async (request, reply) => await generate(request, reply, true));

  app.get('/sdapi/v1/sd-models', route, async () => (await listCheckpoints(catalog, opts.modelsDir)).map(({ id: _id, ...c }) => c));
  app.get('/sdapi/v1/samplers', route, async () => A1111_SAMPLERS.map((s) => ({
    name: s.name, aliases: s.aliases, options: s.karras ? { scheduler: s.automatic === s.karras ? 'karras' : 'automatic' } : {},
  })));
  app.get('/sdapi/v1/schedulers', route, async () => A1111_SCHEDULES);
  app.get('/sdapi/v1/upscalers', route, async () => [{ name: 'None', model_name: null, model_path: null, model_url: null, scale: 4 }]);
  app.get('/sdapi/v1/latent-upscale-modes', route, async () => []);
  app.get('/sdapi/v1/sd-vae', route, async () => []);
  app.get('/sdapi/v1/embeddings', route, async () => ({ loaded: {}, skipped: {} }));
  // A1111's shape; `path` is relative to LORA_DIR (no server paths leave the service).
  app.get('/sdapi/v1/loras', route, async () => ((await opts.loras?.list()) ?? [])
    .filter((l) => !l.error)
    .map((l) => ({ name: l.id, alias: l.id, path: `${l.id}.safetensors`, metadata: {} })));
  app.get('/sdapi/v1/prompt-styles', route, async () => []);
  app.get('/sdapi/v1/hypernetworks', route, async () => []);
  app.get('/sdapi/v1/face-restorers', route, async () => []);
  app.get('/sdapi/v1/cmd-flags', route, async () => ({ api: true, nowebui: true, api_auth: null, listen: true }));
  app.get('/sdapi/v1/memory', route, async () => {
    const m = process.memoryUsage();
    return { ram: { free: 0, used: m.rss, total: m.rss }, cuda: { error: 'unavailable: generation runs in the workers' } };
  });

  app.get('/sdapi/v1/options', route, async (request) => {
    const id = await checkpointOf(request.callerId);
    const checkpoint = (await listCheckpoints(catalog, opts.modelsDir)).find((c) => c.id === id);
    return {
      sd_model_checkpoint: checkpoint?.title ?? id,
      sd_checkpoint_hash: checkpoint?.sha256 ?? null,
      sd_vae: 'Automatic',
      sd_vae_as_default: true,
      CLIP_stop_at_last_layers: 1,
      samples_format: 'png',
      eta_noise_seed_delta: 0,
      sd_checkpoints_limit: 1,
      enable_pnginfo: true,
    };
  });

  app.post('/sdapi/v1/options', route, async (request) => {
    const body = withoutNulls(request.body ?? {});
    const wanted = body.sd_model_checkpoint;
    if (wanted !== undefined) {
      const found = typeof wanted === 'string' ? await findCheckpoint(catalog, opts.modelsDir, wanted) : null;
      if (!found) throw fieldProblem(400, 'unknown_model', 'model', `model ${JSON.stringify(wanted)} not found`);
      await state.setCheckpoint(request.callerId, found.id);
    }
    return null; // A1111 answers null; other options change nothing here
  });

  app.get<{ Querystring: { skip_current_image?: string } }>('/sdapi/v1/progress', route, async (request) => {
    const task = await state.current(request.callerId);
    const idle = {
      progress: 0, eta_relative: 0, current_image: null, textinfo: null, current_task: null,
      state: { skipped: false, interrupted: false, stopping_generation: false, job: '', job_count: 0, job_timestamp: '0', job_no: 0, sampling_step: 0, sampling_steps: 0 },
    };
    if (!task) return idle;
    const records = await Promise.all(task.ids.map((id) => jobs.get(id)));
    let jobNo = records.findIndex((r) => !r || !TERMINAL_STATUSES.includes(r.status));
    if (jobNo < 0) jobNo = records.length;
    const current = records[jobNo] ?? null;
    const step = current?.progress.step ?? 0, total = current?.progress.total ?? 0;
    const progress = Math.min(1, (jobNo + (total > 0 ? step / total : 0)) / records.length);
    const elapsed = (Date.now() - task.started) / 1000;
    const interrupted = records.some((r) => r?.status === 'canceled' || r?.cancel_requested);
    // The running job's latest live preview (its jobs ask for them: translate.ts), base64 as A1111 sends it.
    const skipImage = ['true', '1'].includes(String(request.query.skip_current_image ?? '').toLowerCase());
    const preview = current?.status === 'running' && !skipImage ? await jobs.deps.store.latestPreview(current.id) : null;
    return {
      progress, eta_relative: progress > 0 ? elapsed / progress - elapsed : 0,
      current_image: preview ? preview.image.slice(preview.image.indexOf(',') + 1) : null,
      textinfo: null, current_task: task.ids[jobNo] ?? null,
      state: {
        skipped: false, interrupted, stopping_generation: false, job: task.ids[jobNo] ?? '', job_count: records.length,
        job_timestamp: task.timestamp, job_no: jobNo, sampling_step: step, sampling_steps: total,
      },
    };
  });

  // Interrupt and skip both cancel the caller's running request (we cannot skip within a batch).
  async function stopCurrent(request: FastifyRequest): Promise<void> {
    const task = await state.current(request.callerId);
    if (task) await cancelAll(jobs, request, task.ids);
  }
  app.post('/sdapi/v1/interrupt', route, async (request) => { await stopCurrent(request); return {}; });
  app.post('/sdapi/v1/skip', route, async (request) => { await stopCurrent(request); return null; });
}

