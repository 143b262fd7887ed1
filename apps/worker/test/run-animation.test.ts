// Animation jobs through the real engine thread and a file store: the submission side's params
// (prepareAnimation) run frame by frame (runAnimation); the file has the frames and fps asked for,
// each frame uses its planned seed, keep_frames stores PNGs, cancel stops between frames.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { JobParams } from '@sdsvc/contracts';
import { EngineHost } from '@sdsvc/engine';
import { readPngText } from '@sdsvc/images';
import { createLogger } from '@sdsvc/logging';
import { FileObjectStore } from '@sdsvc/storage';
import { ModelCatalog, prepareAnimation } from '@sdsvc/submission';
import { runAnimation } from '../src/run-animation.ts';

const MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'sdsvc-anim-'));
const objects = await FileObjectStore.open({ root: dir, publicBaseUrl: 'http://x.test', secret: 'test-secret-0123456789' });
const engine = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, log: () => {} });
const catalog = new ModelCatalog(MODELS_DIR);
const model = (await catalog.get('tiny-sd15'))!;
const log = createLogger({ level: 'silent' });
after(async () => {
  await engine.close();
  await objects.close();
  await rm(dir, { recursive: true, force: true });
});

async function params(body: Record<string, unknown>): Promise<JobParams> {
  const deps = { config: { maxAnimationFrames: 120 } as never, catalog };
  const prepared = await prepareAnimation(deps, { type: 'animation', steps: 2, width: 64, height: 64, ...body }, model, async () => { throw new Error('no init'); });
  return prepared.params as JobParams;
}

test('an animated WebP with every frame, the fps asked for, and frame 0 equal to a plain txt2img of the same seed', async () => {
  const p = await params({ prompt: 'a forest', frames: 3, fps: 8, seed: 40, zoom: '0:(1.1)', keep_frames: true });
  const steps: Array<[number, number]> = [];
  const out = await runAnimation('job-a', 'tiny-sd15', p, undefined, {
    engine, objects, log, signal: new AbortController().signal, onProgress: (frame, frames, step) => { steps.push([frame, step]); assert.equal(frames, 3); },
  });
  assert.equal(out.animation.frames, 3);
  assert.equal(out.animation.content_type, 'image/webp');
  const file = await objects.get(out.animation.key);
  const meta = await sharp(file, { animated: true }).metadata();
  assert.equal(meta.pages, 3);
  assert.equal(meta.pageHeight, 64);
  assert.deepEqual(meta.delay, [125, 125, 125]);
  assert.equal(out.animation.bytes, file.length);
  const order = steps.map(([f]) => f);
  assert.deepEqual([...new Set(order)], [0, 1, 2], 'progress reports every frame, in order');
  assert.deepEqual(order, [...order].sort((x, y) => x - y));
  // keep_frames: PNGs with the iter seeds, and frame 0 is exactly what txt2img gives for seed 40.
  assert.deepEqual(out.images.map((i) => i.seed), [40, 41, 42]);
  const png0 = await objects.get(out.images[0]!.key!);
  assert.match(readPngText(png0).parameters ?? '', /Seed: 40/);
  const direct = await engine.generate('tiny-sd15', { mode: 'txt2img', prompt: 'a forest', negativePrompt: '', promptSyntax: 'a1111', width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 40, numImages: 1 });
  assert.deepEqual(new Uint8Array(await sharp(png0).raw().toBuffer()), direct.images[0]!.data);
  // Later frames are img2img of the previous one: they differ from a txt2img of their own seed.
  const png1 = new Uint8Array(await sharp(await objects.get(out.images[1]!.key!)).raw().toBuffer());
  const t2i1 = await engine.generate('tiny-sd15', { mode: 'txt2img', prompt: 'a forest', negativePrompt: '', promptSyntax: 'a1111', width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 41, numImages: 1 });
  assert.notDeepEqual(png1, t2i1.images[0]!.data);
});

test('GIF output, fixed seeds, keyframed prompts with interpolation', async () => {
  const p = await params({ prompts: { 0: 'spring', 2: 'autumn' }, prompt_interpolation: true, frames: 3, fps: 5, seed: 9, seed_behavior: 'fixed', output_format: 'gif', keep_frames: true, noise: '0:(0)' });
  const out = await runAnimation('job-b', 'tiny-sd15', p, undefined, { engine, objects, log, signal: new AbortController().signal, onProgress: () => {} });
  assert.deepEqual(out.images.map((i) => i.seed), [9, 9, 9]);
  const meta = await sharp(await objects.get(out.animation.key), { animated: true }).metadata();
  assert.equal(meta.format, 'gif');
  assert.equal(meta.pages, 3);
  assert.deepEqual(meta.delay, [200, 200, 200]);
});

test('cancel between frames stops the run', async () => {
  const p = await params({ prompt: 'a forest', frames: 6, seed: 1 });
  const ctrl = new AbortController();
  const frames = new Set<number>();
  await assert.rejects(runAnimation('job-c', 'tiny-sd15', p, undefined, {
    engine, objects, log, signal: ctrl.signal,
    onProgress: (frame) => { frames.add(frame); if (frame === 1) ctrl.abort(new Error('canceled')); },
  }));
  assert.ok(!frames.has(3), `frames run after cancel: ${[...frames].join(',')}`);
});

test('bad schedules are refused at submission naming the field', async () => {
  await assert.rejects(params({ prompt: 'x', frames: 3, zoom: '0:(0)' }), (e: { code?: string; errors?: Array<{ path: string }> }) => e.code === 'invalid_schedule' && e.errors?.[0]?.path === 'zoom');
  await assert.rejects(params({ prompt: 'x', frames: 3, translation_x: '0:(t+)' }), (e: { code?: string }) => e.code === 'invalid_schedule');
  await assert.rejects(params({ prompt: 'x', frames: 500 }), (e: { errors?: Array<{ path: string; code: string }> }) => e.errors?.[0]?.path === 'frames');
  await assert.rejects(params({ prompts: { 3: 'x' }, frames: 4 }), (e: { errors?: Array<{ path: string }> }) => e.errors?.[0]?.path === 'prompts');
});

test('live previews of every frame as it is denoised (params.preview → the engine per frame)', async () => {
  const p = await params({ prompt: 'a river', frames: 2, seed: 8, steps: 4, preview: { every_steps: 2, format: 'webp' } });
  assert.deepEqual(p.preview, { every_steps: 2, format: 'webp' });
  const seen: Array<[number, number, number]> = [];
  let frame = -1;
  await runAnimation('job-p', 'tiny-sd15', p, undefined, {
    engine, objects, log, signal: new AbortController().signal,
    onProgress: (f) => { frame = f; },
    preview: { everySteps: p.preview!.every_steps, onPreview: (img) => seen.push([frame, img.step, img.width]) },
  });
  // Frame 1 is an img2img of frame 0 (strength 0.65 of 4 steps: 2 steps run), so one preview there.
  assert.deepEqual(seen, [[0, 2, 8], [0, 4, 8], [1, 2, 8]]);
});
