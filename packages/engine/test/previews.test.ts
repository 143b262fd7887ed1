// Live previews: cadence and size (linear map at the latent size, TAESD at 8×), what they show (the
// predicted x0), that they never change the result, and that they cross the engine-thread boundary.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { EngineHost } from '../src/runtime/engine-host.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import type { PreviewImage } from '../src/preview/step-previewer.ts';
import { latentsToRgb, SD_LATENT_RGB, SDXL_LATENT_RGB } from '../src/preview/latent-rgb.ts';
import { TAESD_PATH } from '../src/preview/preview-decoders.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';
import { buildTaesdStub } from './support/taesd-stub.ts';

const load = (dir: string) => StableDiffusionPipeline.load(dir, { warmup: false, intraOpNumThreads: 1, log: () => {} });
const sd = await load(join(MODELS_DIR, 'tiny-sd15'));
after(() => sd.release());

const request: GenerateRequest = { mode: 'txt2img', prompt: 'a red apple', width: 64, height: 48, steps: 6, guidanceScale: 7.5, seed: 11, numImages: 2, scheduler: 'euler' };

async function withPreviews(pipe: StableDiffusionPipeline, req: GenerateRequest, everySteps: number) {
  const previews: PreviewImage[] = [];
  const steps: number[] = [];
  const result = await pipe.generate(req, { preview: { everySteps, onPreview: (p) => previews.push(p) }, onStep: (s) => steps.push(s) });
  return { previews, steps, result };
}

test('linear previews every k steps at the latent size; the result is bit-identical with and without them', async () => {
  const plain = await sd.generate(request);
  const { previews, result } = await withPreviews(sd, request, 2);
  assert.deepEqual(previews.map((p) => [p.step, p.total]), [[2, 6], [4, 6], [6, 6]]);
  for (const p of previews) {
    assert.equal(p.decoder, 'linear');
    assert.equal(p.source, 'x0', 'euler returns the predicted x0');
    assert.deepEqual([p.width, p.height, p.data.length], [8, 6, 8 * 6 * 3]);
  }
  assert.notDeepEqual(previews[0]!.data, previews[2]!.data, 'the preview changes as the image forms');
  assert.equal(result.images.length, 2);
  for (let i = 0; i < 2; i++) assert.deepEqual(result.images[i]!.data, plain.images[i]!.data, `image ${i} identical with previews on`);

  const every = await withPreviews(sd, { ...request, numImages: 1 }, 1);
  assert.deepEqual(every.previews.map((p) => p.step), every.steps, 'every_steps 1: one preview per step');
});

test('the preview is the predicted x0 (computed for schedulers that do not return it: PNDM, DPM-Solver++)', async () => {
  for (const scheduler of ['default', 'dpmpp_2m']) {
    const probeLatents: Float32Array[] = [];
    const previews: PreviewImage[] = [];
    await sd.generate({ ...request, numImages: 1, scheduler }, {
      preview: { everySteps: 1, onPreview: (p) => previews.push(p) },
      probe: (name, data) => { if (name === 'latents') probeLatents.push(Float32Array.from(data)); },
    });
    assert.ok(previews.length >= 6, `${scheduler}: ${previews.length} previews`);
    assert.ok(previews.every((p) => p.source === 'x0'), `${scheduler}: x0 previews`);
    // At the last step x0 and the final latents agree closely; the first x0 is far from the (noisy) latents.
    const last = latentsToRgb(probeLatents.at(-1)!, 6, 8, SD_LATENT_RGB).data;
    const diff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    assert.ok(diff(previews.at(-1)!.data, last) <= 12, `${scheduler}: last preview ≈ final latents (max diff ${diff(previews.at(-1)!.data, last)})`);
    const firstNoisy = latentsToRgb(probeLatents[0]!, 6, 8, SD_LATENT_RGB).data;
    assert.ok(diff(previews[0]!.data, firstNoisy) > 12, `${scheduler}: the first preview is not the noisy latents`);
  }
});

test('SDXL models use the SDXL latent→RGB factors', async () => {
  const xl = await load(join(MODELS_DIR, 'tiny-sdxl'));
  try {
    const probe: Float32Array[] = [];
    const previews: PreviewImage[] = [];
    const req: GenerateRequest = { mode: 'txt2img', prompt: 'a boat', width: 64, height: 64, steps: 2, guidanceScale: 5, seed: 1, numImages: 1, scheduler: 'euler' };
    await xl.generate(req, {
      preview: { everySteps: 2, onPreview: (p) => previews.push(p) },
      probe: (name, data) => { if (name === 'latents') probe.push(Float32Array.from(data)); },
    });
    assert.equal(previews.length, 1);
    assert.deepEqual([previews[0]!.width, previews[0]!.height, previews[0]!.decoder], [8, 8, 'linear']);
    // euler's x0 at the last step (σ → 0) is the final latents: the SDXL map of those, not the SD one.
    assert.deepEqual(previews[0]!.data, latentsToRgb(probe.at(-1)!, 8, 8, SDXL_LATENT_RGB).data);
    assert.notDeepEqual(previews[0]!.data, latentsToRgb(probe.at(-1)!, 8, 8, SD_LATENT_RGB).data);
  } finally {
    await xl.release();
  }
});

let taesdModels: string;
before(async () => {
  // tiny-sd15 (symlinked) plus a vae_approx/model.onnx: the stub TAESD graph.
  taesdModels = await mkdtemp(join(tmpdir(), 'sdsvc-taesd-'));
  const dir = join(taesdModels, 'tiny-sd15');
  await mkdir(join(dir, 'vae_approx'), { recursive: true });
  for (const entry of await readdir(join(MODELS_DIR, 'tiny-sd15'))) await symlink(join(MODELS_DIR, 'tiny-sd15', entry), join(dir, entry));
  await writeFile(join(dir, TAESD_PATH), buildTaesdStub(SD_LATENT_RGB));
});
after(() => rm(taesdModels, { recursive: true, force: true }));

test('a model folder with vae_approx/model.onnx previews through it at 8× the latent size', async () => {
  const pipe = await load(join(taesdModels, 'tiny-sd15'));
  try {
    const req = { ...request, numImages: 1 };
    const { previews, result } = await withPreviews(pipe, req, 3);
    const linear = await withPreviews(sd, req, 3);
    assert.deepEqual(previews.map((p) => p.step), [3, 6]);
    for (const [i, p] of previews.entries()) {
      assert.equal(p.decoder, 'taesd');
      assert.deepEqual([p.width, p.height], [64, 48]);
      // The stub is the linear map in 8×8 blocks: its block centres are the linear preview's pixels
      // (±1 for float32 vs float64 rounding), which shows the graph got the same x0 in NCHW order.
      const l = linear.previews[i]!;
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 8; x++) {
          for (let k = 0; k < 3; k++) {
            const got = p.data[((y * 8 + 4) * 64 + x * 8 + 4) * 3 + k]!, want = l.data[(y * 8 + x) * 3 + k]!;
            assert.ok(Math.abs(got - want) <= 1, `pixel ${x},${y} channel ${k}: ${got} vs ${want}`);
          }
        }
      }
    }
    assert.deepEqual(result.images[0]!.data, linear.result.images[0]!.data, 'the decoder only previews');
  } finally {
    await pipe.release();
  }
});

test('previews cross the engine-thread boundary with the job', async () => {
  const host = await EngineHost.start({ modelsDir: taesdModels, intraOpNumThreads: 1, warmup: false, log: () => {} });
  try {
    const previews: PreviewImage[] = [];
    const steps: number[] = [];
    const result = await host.generate('tiny-sd15', { ...request, numImages: 1 }, {
      onStep: (s) => steps.push(s), preview: { everySteps: 2, onPreview: (p) => previews.push(p) },
    });
    assert.deepEqual(previews.map((p) => p.step), [2, 4, 6]);
    assert.ok(previews.every((p) => p.data instanceof Uint8Array && p.data.length === 64 * 48 * 3 && p.decoder === 'taesd'));
    assert.equal(result.images.length, 1);
    const none = await host.generate('tiny-sd15', { ...request, numImages: 1 }, {});
    assert.deepEqual(none.images[0]!.data, result.images[0]!.data);
  } finally {
    await host.close();
  }
});
