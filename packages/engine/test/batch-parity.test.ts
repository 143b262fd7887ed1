// Cross-request batching (#11): each job of a batch gets what it gets alone — the same final
// latents within the engine's parity tolerance (LATENTS_TOLERANCE, relative to the largest latent)
// and the same image within IMAGE_TOLERANCE per channel — for deterministic, multistep and
// noise-drawing (ancestral, SDE) schedulers, for img2img and for inpaint (9-channel and 4-channel).
// Also: a job canceled mid-batch leaves at the next step without disturbing the others, and a job
// with a bad input fails alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { batchKey, generateBatch, type BatchEntry } from '../src/pipelines/batch-generate.ts';
import type { GenerateRequest, GenerateResult } from '../src/pipelines/types.ts';
import type { Latents } from '../src/tensor.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE } from './support/parity-tolerances.ts';

let sd15: StableDiffusionPipeline;
let inpaint9: StableDiffusionPipeline;
before(async () => {
  sd15 = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { intraOpNumThreads: 1, warmup: false });
  inpaint9 = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15-inpaint'), { intraOpNumThreads: 1, warmup: false });
});
after(async () => {
  await sd15.release();
  await inpaint9.release();
});

function gradient(w: number, h: number, phase: number) {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) { data[i * 3] = (i * 7 + phase) % 256; data[i * 3 + 1] = (i * 3 + phase * 5) % 256; data[i * 3 + 2] = (i + phase * 11) % 256; }
  return { data, width: w, height: h };
}
function mask(w: number, h: number, left: boolean) {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x < w / 2) === left ? 255 : 0;
  return { data, width: w, height: h };
}

/** Three jobs that differ in everything a batch allows to differ. */
function jobs(base: Omit<GenerateRequest, 'prompt' | 'seed' | 'guidanceScale' | 'numImages'>, withImages = false): GenerateRequest[] {
  const rows: Array<Pick<GenerateRequest, 'prompt' | 'negativePrompt' | 'seed' | 'guidanceScale' | 'numImages'>> = [
    { prompt: 'a red apple on a table', seed: 11, guidanceScale: 7.5, numImages: 1 },
    { prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', seed: 12345, guidanceScale: 3, numImages: 2 },
    { prompt: 'portrait of a cat', seed: 7, guidanceScale: 11, numImages: 1 },
  ];
  return rows.map((r, i) => ({
    ...base, ...r,
    ...(withImages ? { initImage: gradient(base.width, base.height, i * 40), ...(base.mode === 'inpaint' ? { maskImage: mask(base.width, base.height, i % 2 === 0) } : {}) } : {}),
  }));
}

async function solo(pipe: StableDiffusionPipeline, req: GenerateRequest): Promise<{ result: GenerateResult; latents: Latents }> {
  let latents!: Latents;
  const result = await pipe.generate(req, { onStep: (_s, _t, l) => { latents = l!; } });
  return { result, latents };
}

function assertSame(label: string, a: { result: GenerateResult; latents: Latents }, b: { result: GenerateResult; latents: Latents }) {
  let peak = 0, diff = 0;
  for (let i = 0; i < a.latents.data.length; i++) {
    peak = Math.max(peak, Math.abs(a.latents.data[i]!));
    diff = Math.max(diff, Math.abs(a.latents.data[i]! - b.latents.data[i]!));
  }
  assert.ok(diff <= LATENTS_TOLERANCE * peak, `${label}: latents differ by ${diff} (peak ${peak})`);
  assert.equal(a.result.images.length, b.result.images.length);
  for (const [k, img] of a.result.images.entries()) {
    const other = b.result.images[k]!;
    assert.equal(img.seed, other.seed);
    let worst = 0;
    for (let i = 0; i < img.data.length; i++) worst = Math.max(worst, Math.abs(img.data[i]! - other.data[i]!));
    assert.ok(worst <= IMAGE_TOLERANCE, `${label} image ${k}: ${worst}/255 apart`);
  }
}

async function batched(pipe: StableDiffusionPipeline, reqs: GenerateRequest[]) {
  const latents: Latents[] = [];
  const entries: BatchEntry[] = reqs.map((request, i) => ({ request, opts: { onStep: (_s, _t, l) => { latents[i] = l!; } } }));
  const settled = await generateBatch(pipe, entries);
  return settled.map((s, i) => {
    if (s.status === 'rejected') throw s.reason;
    return { result: s.value, latents: latents[i]! };
  });
}

async function checkParity(pipe: StableDiffusionPipeline, reqs: GenerateRequest[], label: string) {
  const together = await batched(pipe, reqs);
  for (const [i, req] of reqs.entries()) assertSame(`${label} job ${i}`, together[i]!, await solo(pipe, req));
}

describe('a batch gives each job its solo result', () => {
  for (const scheduler of ['default', 'euler_a', 'dpmpp_2m', 'dpmpp_2m_sde', 'heun']) {
    test(`txt2img, ${scheduler}`, async () => {
      await checkParity(sd15, jobs({ mode: 'txt2img', width: 64, height: 64, steps: 4, scheduler }), scheduler);
    });
  }
  test('img2img (strength 0.6, euler_a)', async () => {
    await checkParity(sd15, jobs({ mode: 'img2img', width: 64, height: 64, steps: 5, strength: 0.6, scheduler: 'euler_a' }, true), 'img2img');
  });
  test('inpaint, 9-channel UNet', async () => {
    await checkParity(inpaint9, jobs({ mode: 'inpaint', width: 64, height: 64, steps: 4, scheduler: 'dpmpp_2m_sde' }, true), 'inpaint9');
  });
  test('inpaint, 4-channel UNet (blend; strength 0.75)', async () => {
    await checkParity(sd15, jobs({ mode: 'inpaint', width: 64, height: 64, steps: 4, strength: 0.75, scheduler: 'euler_a' }, true), 'inpaint4');
  });
  test('SDXL (pooled embeddings and time ids per job)', async () => {
    const xl = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sdxl'), { intraOpNumThreads: 1, warmup: false });
    try {
      await checkParity(xl, jobs({ mode: 'txt2img', width: 64, height: 64, steps: 3, scheduler: 'euler_a' }), 'sdxl');
    } finally {
      await xl.release();
    }
  });
  test('without CFG (guidance 1)', async () => {
    const reqs = jobs({ mode: 'txt2img', width: 64, height: 64, steps: 3, scheduler: 'euler_a' }).map((r) => ({ ...r, guidanceScale: 1 }));
    await checkParity(sd15, reqs, 'nocfg');
  });
});

test('with a small UNet budget: rows are split into several calls, and a job too big for one call runs alone; same images', async () => {
  // 64² latents are 4 × 8 × 8 = 256 per row: a CFG pair is 512, two jobs fill a 1024 budget.
  const small = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { intraOpNumThreads: 1, warmup: false, maxUnetBatchElements: 1024 });
  try {
    const base = { mode: 'txt2img' as const, width: 64, height: 64, steps: 3, scheduler: 'euler_a' };
    const reqs: GenerateRequest[] = [
      { ...base, prompt: 'a', seed: 1, guidanceScale: 5, numImages: 1 },
      { ...base, prompt: 'b', seed: 2, guidanceScale: 6, numImages: 3 }, // 1536 > 1024: alone
      { ...base, prompt: 'c', seed: 3, guidanceScale: 7, numImages: 1 },
      { ...base, prompt: 'd', seed: 4, guidanceScale: 8, numImages: 1 },
    ];
    await checkParity(small, reqs, 'small budget');
  } finally {
    await small.release();
  }
});

test('a job canceled mid-batch leaves at the next step; the others finish as they would alone', async () => {
  const reqs = jobs({ mode: 'txt2img', width: 64, height: 64, steps: 6, scheduler: 'euler_a' });
  const controller = new AbortController();
  const steps: number[][] = [[], [], []];
  const latents: Latents[] = [];
  const settled = await generateBatch(sd15, reqs.map((request, i) => ({
    request,
    opts: {
      signal: i === 1 ? controller.signal : undefined,
      onStep: (s: number, _t: number, l?: Latents) => { steps[i]!.push(s); latents[i] = l!; if (i === 1 && s === 2) controller.abort(); },
    },
  })));
  assert.equal(settled[1]!.status, 'rejected');
  assert.equal((settled[1] as PromiseRejectedResult).reason.name, 'AbortError');
  assert.deepEqual(steps[1], [1, 2]);
  for (const i of [0, 2]) {
    assert.equal(settled[i]!.status, 'fulfilled');
    assert.deepEqual(steps[i], [1, 2, 3, 4, 5, 6]);
    assertSame(`job ${i}`, { result: (settled[i] as PromiseFulfilledResult<GenerateResult>).value, latents: latents[i]! }, await solo(sd15, reqs[i]!));
  }
});

test('a job with a bad input, or one that does not fit the batch, fails alone', async () => {
  const [a, b] = jobs({ mode: 'txt2img', width: 64, height: 64, steps: 2, scheduler: 'euler' });
  const settled = await generateBatch(sd15, [
    { request: { ...a!, width: 65 } }, // invalid size
    { request: b! },
    { request: { ...a!, steps: 3 } }, // another step count: another batch
  ]);
  assert.equal(settled[0]!.status, 'rejected');
  assert.match(String((settled[0] as PromiseRejectedResult).reason), /width/);
  assert.equal(settled[1]!.status, 'fulfilled');
  assert.equal((settled[1] as PromiseFulfilledResult<GenerateResult>).value.images.length, 2);
  assert.equal(settled[2]!.status, 'rejected');
  assert.match(String((settled[2] as PromiseRejectedResult).reason), /cannot join this batch/);
});

test('batchKey: what may differ does not change the key; what may not does', () => {
  const base: GenerateRequest = { mode: 'txt2img', prompt: 'a', width: 64, height: 64, steps: 4, guidanceScale: 7, seed: 1, numImages: 1 };
  assert.equal(batchKey(base), batchKey({ ...base, prompt: 'b', seed: 9, guidanceScale: 3, negativePrompt: 'x', scheduler: 'Default' }));
  for (const other of [{ width: 128 }, { steps: 5 }, { scheduler: 'euler' }, { guidanceScale: 1 }, { mode: 'img2img' as const }]) {
    assert.notEqual(batchKey(base), batchKey({ ...base, ...other }), JSON.stringify(other));
  }
});
