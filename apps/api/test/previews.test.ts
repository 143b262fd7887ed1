// Live previews through the service: the worker publishes them on the job's event channel (real
// Redis), SSE delivers them as `event: preview` (and the latest one to a client joining a running
// job), OpenAI `partial_images` and A1111 `current_image` are made of them, and none of it is
// written into the job record. The engine thread holds each UNet step (test/support/step-delay-hook.ts,
// preloaded into it) so "the job is still running" holds by construction on any machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import { EngineHost } from '@sdsvc/engine';
import { startAdapterStack, type AdapterStack } from './adapter-stack.ts';
import { MODELS_DIR, pngBase64 } from './harness.ts';
import { collectSse, type SseEvent } from '../../../test/support/sse.ts';
import { waitFor } from '../../../test/support/wait-for.ts';

const STEP_DELAY_HOOK = fileURLToPath(new URL('../../../test/support/step-delay-hook.ts', import.meta.url));
/** Each UNet evaluation is held this long: a job of n steps runs at least n × this. */
const STEP_MS = 120;

let s: AdapterStack;
let engine: EngineHost;
let client: OpenAI;
before(async () => {
  process.env.SDSVC_TEST_STEP_DELAY_MS = String(STEP_MS); // read by the hook on the engine thread
  engine = await EngineHost.start({
    modelsDir: MODELS_DIR, warmup: false, intraOpNumThreads: 1, log: () => {},
    execArgv: [`--import=${STEP_DELAY_HOOK}`],
  });
  s = await startAdapterStack({}, { engine });
  client = new OpenAI({ apiKey: 'unused', baseURL: `${s.baseUrl}/v1`, maxRetries: 0 });
});
after(async () => {
  await s?.close();
  await engine?.close();
  delete process.env.SDSVC_TEST_STEP_DELAY_MS;
});

const post = async (path: string, body: unknown) => await fetch(`${s.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const dataUrlImage = async (url: string, type: string) => {
  const prefix = `data:image/${type};base64,`;
  assert.ok(url.startsWith(prefix), url.slice(0, 40));
  return await sharp(Buffer.from(url.slice(prefix.length), 'base64')).metadata();
};
type Preview = { type: string; step: number; total: number; width: number; height: number; image: string };

test('SSE: preview events every every_steps steps between started and succeeded; the record holds no image', async () => {
  const res = await post('/v1/jobs', { prompt: 'a lighthouse', width: 64, height: 64, steps: 4, scheduler: 'euler', seed: 5, preview: { every_steps: 2, format: 'jpeg' } });
  assert.equal(res.status, 202);
  const job = await res.json() as { id: string; params: { preview?: unknown } };
  assert.deepEqual(job.params.preview, { every_steps: 2, format: 'jpeg' });
  const events: SseEvent[] = await collectSse(`${s.baseUrl}/v1/jobs/${job.id}/events`);
  const types = events.map((e) => e.event);
  assert.equal(types.at(-1), 'succeeded', types.join(','));
  const previews = events.filter((e) => e.event === 'preview').map((e) => e.data as Preview);
  assert.deepEqual(previews.map((p) => [p.type, p.step, p.total]), [['preview', 2, 4], ['preview', 4, 4]], types.join(','));
  assert.ok(types.indexOf('preview') > types.indexOf('started') || !types.includes('started'), types.join(','));
  for (const p of previews) {
    const meta = await dataUrlImage(p.image, 'jpeg');
    assert.deepEqual([meta.format, meta.width, meta.height, p.width, p.height], ['jpeg', 8, 8, 8, 8]);
  }
  // Ephemeral: not in the record, kept briefly as the job's latest preview.
  const record = await s.h.redis.hgetall(`t:job:${job.id}`);
  assert.ok(!JSON.stringify(record).includes('data:image'), 'no preview in the job record');
  const ttl = await s.h.redis.ttl(`t:job:${job.id}:preview`);
  assert.ok(ttl > 0 && ttl <= 120, `latest preview TTL ${ttl}`);
  assert.equal((await s.h.store.latestPreview(job.id))?.step, 4);
});

test('preview as a multipart text part (JSON), defaults filled in; a bad one is a 400 naming the field', async () => {
  const form = new FormData();
  form.set('prompt', 'multipart preview');
  form.set('steps', '1');
  form.set('preview', JSON.stringify({ every_steps: 3 }));
  const res = await fetch(`${s.baseUrl}/v1/jobs`, { method: 'POST', body: form });
  assert.equal(res.status, 202);
  assert.deepEqual((await res.json() as { params: { preview: unknown } }).params.preview, { every_steps: 3, format: 'webp' });
  const bad = await post('/v1/jobs', { prompt: 'x', preview: { every_steps: 0, format: 'png' } });
  assert.equal(bad.status, 400);
  const problem = await bad.json() as { errors: Array<{ path: string }> };
  assert.deepEqual(problem.errors.map((e) => e.path).sort(), ['preview.every_steps', 'preview.format']);
});

test('SSE: a client joining a running job gets the latest preview right after the state', async () => {
  const job = await (await post('/v1/jobs', { prompt: 'a late joiner', width: 64, height: 64, steps: 12, scheduler: 'euler', seed: 6, preview: { every_steps: 1, format: 'webp' } })).json() as { id: string };
  await waitFor(async () => ((await s.h.store.latestPreview(job.id))?.step ?? 0) >= 2, { what: 'a preview of the running job' });
  const events: SseEvent[] = await collectSse(`${s.baseUrl}/v1/jobs/${job.id}/events`);
  assert.equal(events[0]!.event, 'progress');
  assert.equal(events[1]!.event, 'preview', events.map((e) => e.event).join(','));
  const first = events[1]!.data as Preview;
  assert.ok(first.step >= 1 && first.step <= (events[0]!.data as { job: { progress: { step: number } } }).job.progress.step + 1, `stored preview step ${first.step}`);
  await dataUrlImage(first.image, 'webp');
  assert.equal(events.at(-1)!.event, 'succeeded');
});

test('OpenAI SDK: stream with partial_images: 2 reads two partial images spread over the run, then the completed image; edits stream image_edit.* events', async () => {
  // 6 steps: a preview every ⌊6 / 3⌋ = 2 steps (2, 4, 6); the first two are the partial images.
  const stream = await client.images.generate({ prompt: 'a castle', size: '64x64', stream: true, partial_images: 2, steps: 6, seed: 3, scheduler: 'euler' } as unknown as OpenAI.ImageGenerateParamsStreaming);
  const events: OpenAI.ImageGenStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  assert.deepEqual(events.map((e) => e.type), ['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
  for (const [i, e] of events.slice(0, 2).entries()) {
    assert.equal((e as OpenAI.ImageGenPartialImageEvent).partial_image_index, i);
    const meta = await sharp(Buffer.from(e.b64_json, 'base64')).metadata();
    assert.deepEqual([meta.format, meta.width, e.size, e.output_format], ['webp', 8, '8x8', 'webp']);
  }
  assert.equal(events[2]!.size, '64x64');

  const image = await toFile(Buffer.from(await pngBase64(64, 64), 'base64'), 'in.png', { type: 'image/png' });
  const edit = await client.images.edit({ image, prompt: 'a red door', stream: true, partial_images: 1, steps: 6, output_format: 'jpeg' } as unknown as OpenAI.ImageEditParamsStreaming);
  const editEvents: OpenAI.ImageEditStreamEvent[] = [];
  for await (const e of edit) editEvents.push(e);
  assert.deepEqual(editEvents.map((e) => e.type), ['image_edit.partial_image', 'image_edit.completed']);
  assert.equal(editEvents[0]!.output_format, 'jpeg');
  assert.equal((await sharp(Buffer.from(editEvents[0]!.b64_json, 'base64')).metadata()).format, 'jpeg');
});

test('A1111: /sdapi/v1/progress current_image is the running job\'s latest preview (null with skip_current_image)', async () => {
  const gen = post('/sdapi/v1/txt2img', { prompt: 'a tree', steps: 10, width: 64, height: 64, sampler_name: 'Euler', seed: 2 });
  const progress = await waitFor(async () => {
    const p = await (await fetch(`${s.baseUrl}/sdapi/v1/progress`)).json() as { current_image: string | null; state: { sampling_step: number; sampling_steps: number; job_count: number } };
    return p.current_image ? p : undefined;
  }, { what: 'progress with a current_image' });
  assert.equal(progress.state.job_count, 1);
  assert.ok(progress.state.sampling_step >= 1 && progress.state.sampling_steps === 10, JSON.stringify(progress.state));
  const meta = await sharp(Buffer.from(progress.current_image!, 'base64')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 8, 8]);
  const skipped = await (await fetch(`${s.baseUrl}/sdapi/v1/progress?skip_current_image=true`)).json() as { current_image: string | null };
  assert.equal(skipped.current_image, null);
  const res = await gen;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { images: string[] }).images.length, 1);
});
