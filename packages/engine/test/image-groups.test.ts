// Multi-image jobs with large latents run the UNet one image (CFG pair) at a time and the VAE one
// image at a time: the images are the same as one batched run, progress counts every step of every
// group, and cancel acts between groups and between decoded images.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { loadCase, readArray, readPng, relativeError, maxAbsDiff, MODELS_DIR, requestFor } from './support/pipeline-golden.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE } from './support/parity-tolerances.ts';

const load = (model: string, maxUnetBatchElements?: number) =>
  StableDiffusionPipeline.load(join(MODELS_DIR, model), { warmup: false, intraOpNumThreads: 1, maxUnetBatchElements });
const batched = await load('tiny-sd15');
const single = await load('tiny-sd15', 1); // every image in its own UNet call
after(async () => { await batched.release(); await single.release(); });

const gray = (w: number, h: number) => ({ data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256), width: w, height: h });
const mask = (w: number, h: number) => ({ data: Uint8Array.from({ length: w * h }, (_, i) => (i % w < w / 2 ? 255 : 0)), width: w, height: h });
const base = { prompt: 'a lighthouse', width: 64, height: 64, steps: 3, guidanceScale: 7.5, seed: 5, numImages: 3 } as const;
const cases: Array<[string, GenerateRequest]> = [
  ['txt2img euler_a', { ...base, mode: 'txt2img', scheduler: 'euler_a' }],
  ['txt2img dpmpp_2m_sde no cfg', { ...base, mode: 'txt2img', scheduler: 'dpmpp_2m_sde', guidanceScale: 1 }],
  ['img2img ddim 0.6', { ...base, mode: 'img2img', scheduler: 'ddim', steps: 5, strength: 0.6, initImage: gray(64, 64) }],
  ['img2img euler_a', { ...base, mode: 'img2img', scheduler: 'euler_a', strength: 0.8, initImage: gray(64, 64) }],
  ['inpaint (4-channel) pndm', { ...base, mode: 'inpaint', scheduler: 'pndm', strength: 0.75, initImage: gray(64, 64), maskImage: mask(64, 64) }],
];

for (const [label, req] of cases) {
  test(`${label}: one image per UNet call gives the batched images, progress over all groups`, async () => {
    const a = await batched.generate(req);
    const progress: Array<[number, number]> = [];
    const b = await single.generate(req, { onStep: (s, t) => progress.push([s, t]) });
    assert.equal(b.images.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(b.images[i]!.seed, req.seed + i);
      assert.ok(maxAbsDiff(a.images[i]!.data, b.images[i]!.data) <= 1, `${label}: image ${i}`);
    }
    const n = progress.length / 3;
    assert.ok(Number.isInteger(n) && n >= 1);
    assert.deepEqual(progress, Array.from({ length: 3 * n }, (_, i) => [i + 1, 3 * n]));
  });
}

test('9-channel inpainting: one image per UNet call gives the batched images', async () => {
  const a = await load('tiny-sd15-inpaint');
  const b = await load('tiny-sd15-inpaint', 1);
  try {
    const req: GenerateRequest = { ...base, mode: 'inpaint', scheduler: 'euler_a', strength: 0.9, initImage: gray(64, 64), maskImage: mask(64, 64) };
    const ra = await a.generate(req);
    const rb = await b.generate(req);
    for (let i = 0; i < 3; i++) assert.ok(maxAbsDiff(ra.images[i]!.data, rb.images[i]!.data) <= 1, `image ${i}`);
  } finally {
    await a.release();
    await b.release();
  }
});

test('the 2-image diffusers golden holds with one image per UNet call', async () => {
  const c = loadCase('txt2img_sd15_eulera_2imgs');
  const pipe = await load(c.model, 1);
  try {
    const req = await requestFor(c);
    assert.equal(pipe.imageGroups(req.numImages, req.guidanceScale > 1, 4, req.height / 8, req.width / 8, false).length, 2);
    const finals: Float32Array[] = [];
    const result = await pipe.generate(req, {
      onStep: (step, _total, latents) => { if (step > c.timesteps.length * finals.length) finals.push(latents!.data.slice()); else finals[finals.length - 1] = latents!.data.slice(); },
    });
    const golden = readArray(c, c.final_latents);
    const per = golden.length / 2;
    for (let b = 0; b < 2; b++) {
      const e = relativeError(finals[b]!, golden.subarray(b * per, (b + 1) * per));
      assert.ok(e <= LATENTS_TOLERANCE, `image ${b} final latents relative error ${e}`);
      const png = await readPng(c, c.image_png[b]!, 3);
      const d = maxAbsDiff(result.images[b]!.data, png.data);
      assert.ok(d <= IMAGE_TOLERANCE, `image ${b} differs by ${d}/255`);
    }
  } finally {
    await pipe.release();
  }
});

test('512×512 images go one per UNet call; small ones share a call', () => {
  assert.deepEqual(batched.imageGroups(4, true, 4, 64, 64, false), [[0, 1], [1, 1], [2, 1], [3, 1]]);
  assert.deepEqual(batched.imageGroups(4, true, 4, 32, 32, false), [[0, 4]]);
  assert.deepEqual(batched.imageGroups(3, true, 4, 40, 40, false), [[0, 2], [2, 1]]);
  assert.deepEqual(batched.imageGroups(4, true, 4, 64, 64, true), [[0, 4]], 'one shared noise source: one batch');
});

test('cancel is checked between groups and before each image is decoded; poll runs at every checkpoint', async () => {
  const req: GenerateRequest = { ...cases[0]![1], steps: 2 };
  // Abort right after the last step: the next checkpoint is before the first decode.
  const c1 = new AbortController();
  let polls = 0;
  await assert.rejects(single.generate(req, { signal: c1.signal, poll: () => { polls++; }, onStep: (s, t) => { if (s === t) c1.abort(); } }),
    (e: Error) => e.name === 'AbortError');
  assert.ok(polls >= 6, `poll called at each step (${polls})`);
  // Aborted through poll alone (the engine thread's shared flag), at the end of the first group.
  let stop = false;
  const steps: number[] = [];
  await assert.rejects(single.generate(req, { poll: () => { if (stop) throw Object.assign(new Error('x'), { name: 'AbortError' }); }, onStep: (s) => { steps.push(s); if (s === 2) stop = true; } }),
    (e: Error) => e.name === 'AbortError');
  assert.deepEqual(steps, [1, 2]);
});
