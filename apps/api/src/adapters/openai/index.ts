// The OpenAI Images API (/v1/images/generations, /v1/images/edits) as a thin adapter over the job
// service: translate the request, submit ordinary jobs as the caller, wait for them (or stream
// them as Server-Sent Events), translate the images back. Errors use OpenAI's shape.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import {
  fieldErrors, HttpProblem, OpenAIImageEditRequest, OpenAIImageGenerationRequest, validationProblem,
  type ImageField, type OpenAIImagesResponse,
} from '@sdsvc/contracts';
import type { JobPreview, JobRecord } from '@sdsvc/jobs';
import type { JobService } from '@sdsvc/submission';
import { cancelOnDisconnect, jobFailure, resultImages, submitAll, waitForAll } from '../shared/run-jobs.ts';
import { toHttpProblem } from '../shared/to-problem.ts';
import { openaiError } from './errors.ts';
import { readEditUpload } from './read-edit.ts';
import { streamedPartials, toJobBodies } from './translate.ts';

export interface OpenAIAdapterOptions {
  jobs: JobService;
  modelMap: Readonly<Record<string, string>>;
  waitTimeoutS: number;
}

type Kind = 'image_generation' | 'image_edit';
type Parsed = OpenAIImageGenerationRequest | OpenAIImageEditRequest;
const ZERO_USAGE = { input_tokens: 0, input_tokens_details: { image_tokens: 0, text_tokens: 0 }, output_tokens: 0, total_tokens: 0 };

/** SDKs send null for "not set". */
function withoutNulls(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationProblem([{ path: '', code: 'invalid_type', message: 'the body must be a JSON object' }]);
  }
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, body: Record<string, unknown>): T {
  const r = schema.safeParse(body);
  if (!r.success) throw validationProblem(fieldErrors(r.error, body));
  return r.data;
}

function checkBackground(req: Parsed): void {
  if (req.background === 'transparent') {
    throw validationProblem([{ path: 'background', code: 'invalid_value', message: 'background "transparent" is not supported: images are opaque (use auto or opaque)' }]);
  }
}

export async function openaiAdapter(app: FastifyInstance, opts: OpenAIAdapterOptions): Promise<void> {
  const { jobs } = opts;
  const { config } = jobs.deps;
  await app.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: config.maxImageBytes } });

  // The routes are `auth: 'self'` (plugins/auth.ts): the auth plugin identifies a valid key, this
  // hook refuses the rest, so the 401 comes in OpenAI's error shape too.
  app.addHook('onRequest', async (request) => {
    if (app.keyRing?.enabled && !request.callerId) {
      throw new HttpProblem(401, 'unauthorized', 'Incorrect API key provided: send Authorization: Bearer <one of the service\'s API keys>');
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const p = toHttpProblem(err as Error);
    if (p.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: p.code, status: p.status }, p.message);
    for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
    if (p.status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(p.status).type('application/json').send(openaiError(p));
  });

  async function run(request: FastifyRequest, reply: FastifyReply, kind: Kind, req: Parsed, bodies: Array<Record<string, unknown>>,
    files: ReadonlyMap<ImageField, Buffer> | undefined, tier: 'low' | 'medium' | 'high') {
    const created = Math.floor(Date.now() / 1000);
    const deadline = Date.now() + opts.waitTimeoutS * 1000;
    const ids = await submitAll(jobs, request, bodies.map((body) => ({ body, files })));
    const stopWatching = cancelOnDisconnect(jobs, request, reply, ids);
    try {
      if (req.stream === true || req.stream === 'true') return await stream(request, reply, kind, ids, deadline, tier, req.output_format, streamedPartials(req));
      const records = await waitForAll(jobs, request, ids, deadline);
      return await respond(records, req, created, tier);
    } finally {
      stopWatching();
    }
  }

  async function respond(records: JobRecord[], req: Parsed, created: number, tier: 'low' | 'medium' | 'high'): Promise<OpenAIImagesResponse> {
    const failed = records.find((r) => r.status !== 'succeeded');
    if (failed) throw jobFailure(failed);
    const images = await resultImages(jobs, records);
    const first = images[0];
    return {
      created,
      data: await Promise.all(images.map(async (img) => ({
        ...(req.response_format === 'url' ? { url: await jobs.deps.objectStore.url(img.key) } : { b64_json: img.bytes.toString('base64') }),
        revised_prompt: img.rec.params.prompt,
      }))),
      output_format: req.output_format,
      size: first ? `${first.width}x${first.height}` : req.size,
      quality: tier,
      background: 'opaque',
      usage: ZERO_USAGE,
    };
  }

  /**
   * `stream: true`: up to `partials` `<kind>.partial_image` events, the live previews of the first
   * job (it asked for them: translate.ts), then one `<kind>.completed` event per image, as the SDK's
   * stream reader expects. A job that finishes quickly may send fewer partial images (as OpenAI's).
   */
  async function stream(request: FastifyRequest, reply: FastifyReply, kind: Kind, ids: string[], deadline: number,
    tier: 'low' | 'medium' | 'high', outputFormat: string, partials: number): Promise<void> {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id) });
    const open = () => !raw.writableEnded && !raw.destroyed;
    const send = (event: string, data: unknown) => { if (open()) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    const heartbeat = setInterval(() => { if (open()) raw.write(': keep-alive\n\n'); }, 15_000);
    let sent = 0;
    const seen = new Set<string>(); // the stored latest preview and the channel may carry the same one
    const sendPartial = (p: JobPreview) => {
      if (sent >= partials || seen.has(p.image)) return;
      seen.add(p.image);
      const format = p.image.slice('data:image/'.length, p.image.indexOf(';'));
      send(`${kind}.partial_image`, {
        type: `${kind}.partial_image`, b64_json: p.image.slice(p.image.indexOf(',') + 1), partial_image_index: sent++,
        created_at: Math.floor(Date.now() / 1000), output_format: format, size: `${p.width}x${p.height}`, quality: tier, background: 'opaque',
      });
    };
    let unsubscribe: (() => Promise<void>) | null = null;
    try {
      if (partials > 0) {
        unsubscribe = await jobs.deps.store.subscribe(ids[0]!, () => {}, sendPartial);
        const latest = await jobs.deps.store.latestPreview(ids[0]!);
        if (latest) sendPartial(latest);
      }
      const records = await waitForAll(jobs, request, ids, deadline);
      await unsubscribe?.();
      unsubscribe = null;
      const failed = records.find((r) => r.status !== 'succeeded');
      if (failed) throw jobFailure(failed);
      for (const img of await resultImages(jobs, records)) {
        send(`${kind}.completed`, {
          type: `${kind}.completed`, b64_json: img.bytes.toString('base64'), created_at: Math.floor(Date.now() / 1000),
          output_format: outputFormat, size: `${img.width}x${img.height}`, quality: tier, background: 'opaque', usage: ZERO_USAGE,
        });
      }
    } catch (err) {
      const p = toHttpProblem(err as Error);
      request.log.info({ code: p.code, status: p.status }, p.message);
      send('error', openaiError(p));
    } finally {
      clearInterval(heartbeat);
      await unsubscribe?.().catch(() => {});
      raw.end();
    }
  }

  app.post('/v1/images/generations', { config: { auth: 'self', submission: true } }, async (request, reply) => {
    const req = parse<OpenAIImageGenerationRequest>(OpenAIImageGenerationRequest, withoutNulls(request.body));
    checkBackground(req);
    const { bodies, tier } = toJobBodies(req, { modelMap: opts.modelMap });
    return await run(request, reply, 'image_generation', req, bodies, undefined, tier);
  });

  app.post('/v1/images/edits', { config: { auth: 'self', submission: true } }, async (request, reply) => {
    const upload = await readEditUpload(request, config.maxImageBytes);
    const req = parse<OpenAIImageEditRequest>(OpenAIImageEditRequest, upload.fields);
    checkBackground(req);
    const { bodies, tier } = toJobBodies(req, { modelMap: opts.modelMap, edit: { mask: upload.mask !== null } });
    const files = new Map<ImageField, Buffer>([['init_image', upload.image]]);
    if (upload.mask) files.set('mask_image', upload.mask);
    return await run(request, reply, 'image_edit', req, bodies, files, tier);
  });
}
