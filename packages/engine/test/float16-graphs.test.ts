// float16 graphs (optimum `--dtype fp16` exports) through onnxruntime-node on Node 24: exact half
// I/O on a one-node graph, and the bundled tiny SD 1.5 converted to float16 (test/support/onnx-fp16.ts)
// against its float32 original, end to end through StableDiffusionPipeline, with and without a LoRA
// merged into the float16 weights; then the other bundled models (SDXL, SD 2.x v-prediction,
// 9-channel inpainting) converted the same way.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sha256Hex } from '@sdsvc/lora';
import { floatData, floatTensor } from '../src/models/graph-io.ts';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { LoraPipelineCache } from '../src/runtime/lora-pipelines.ts';
import type { EngineLora, GenerateRequest, RgbImage } from '../src/pipelines/types.ts';
import { convertFolderToFloat16, convertModelToFloat16, scaleGraph } from './support/onnx-fp16.ts';
import { MODELS_DIR, maxAbsDiff, relativeError } from './support/pipeline-golden.ts';

// Measured fp16 vs fp32, 64×64, 4 steps (this file's requests): final latents relative error
// 0.9e-3 to 1.1e-3 on tiny-sd15 (txt2img, img2img, LoRA), 1.5e-3 tiny-sdxl, 2.0e-3 tiny-sd2-v,
// 1.4e-3 tiny-sd15-inpaint; images at most 1/255 apart in every case. Bounds: 2.5× and more / 3×.
const LATENTS_TOLERANCE = 5e-3;
const IMAGE_TOLERANCE = 3;

const tmp = mkdtempSync(join(tmpdir(), 'engine-fp16-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a float16 graph takes half inputs and gives half outputs exactly (Y = X · 2)', async () => {
  const session = await ort.InferenceSession.create(convertModelToFloat16(scaleGraph(2)));
  try {
    assert.deepEqual(session.inputMetadata.map((m) => m.isTensor && m.type), ['float16']);
    assert.deepEqual(session.outputMetadata.map((m) => m.isTensor && m.type), ['float16']);
    // Normal, subnormal (2^-24, 3e-5), inexact (0.1, 1/3) and large values: doubling a half is exact.
    const x = new Float32Array([0, 1, -1.5, 0.1, 1 / 3, 2 ** -24, 3e-5, 1000.123, -16000, 16376]);
    const input = floatTensor('float16', x, [x.length]);
    // onnxruntime-node 1.30 rejects Float16Array data ("not enough space: expected N, got 0").
    assert.ok(input.data instanceof Uint16Array, `tensor data is ${input.data.constructor.name}`);
    const out = floatData((await session.run({ X: input })).Y!);
    assert.ok(out instanceof Float32Array);
    assert.deepEqual(Array.from(out), Array.from(x, (v) => Math.f16round(v) * 2));
  } finally {
    await session.release();
  }
});

test('float32 tensors still wrap the caller\'s array without a copy, both ways', () => {
  const x = new Float32Array([1, 2, 3]);
  const t = floatTensor('float32', x, [3]);
  assert.equal(t.data, x);
  assert.equal(floatData(t), x);
});

// Latents after the last step, and the images.
async function run(pipe: StableDiffusionPipeline, req: GenerateRequest): Promise<{ latents: Float32Array; images: RgbImage[] }> {
  let latents: Float32Array | null = null;
  const result = await pipe.generate(req, { probe: (name, data) => { if (name === 'latents') latents = data.slice(); } });
  assert.ok(latents, 'latents probed');
  return { latents, images: result.images };
}

const SRC = join(MODELS_DIR, 'tiny-sd15');
const FP16 = join(tmp, 'tiny-sd15-fp16');
const txt2img: GenerateRequest = {
  mode: 'txt2img', prompt: 'a red fox in the snow', negativePrompt: 'blurry', promptSyntax: 'plain',
  width: 64, height: 64, steps: 4, guidanceScale: 7.5, seed: 42, numImages: 2,
};

test('tiny SD 1.5 converted to float16 (text encoder, UNet, VAE) gives the float32 images within fp16 rounding', async () => {
  const src = SRC;
  const dir = FP16;
  assert.deepEqual(convertFolderToFloat16(src, dir), ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
  // Every float input and output of every converted graph is float16 (as in optimum's fp16 export).
  for (const c of ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']) {
    const s = await ort.InferenceSession.create(readFileSync(join(dir, c, 'model.onnx')));
    const types = [...s.inputMetadata, ...s.outputMetadata].map((m) => (m.isTensor ? m.type : 'non-tensor'));
    await s.release();
    assert.ok(types.includes('float16') && !types.includes('float32'), `${c}: ${types.join(', ')}`);
  }
  const opts = { warmup: false, intraOpNumThreads: 1 };
  const [p32, p16] = await Promise.all([StableDiffusionPipeline.load(src, opts), StableDiffusionPipeline.load(dir, opts)]);
  try {
    const a = await run(p32, txt2img);
    const b = await run(p16, txt2img);
    const e = relativeError(b.latents, a.latents);
    // Non-zero: the float16 graphs really ran (fp16 is lossy); bounded: their halves were read right.
    assert.ok(e > 0 && e <= LATENTS_TOLERANCE, `final latents relative error ${e}`);
    assert.equal(b.images.length, 2);
    for (let i = 0; i < 2; i++) {
      const d = maxAbsDiff(b.images[i]!.data, a.images[i]!.data);
      assert.ok(d <= IMAGE_TOLERANCE, `txt2img image ${i} differs by ${d}/255`);
    }
    // img2img runs the VAE encoder too.
    const img2img: GenerateRequest = { ...txt2img, mode: 'img2img', numImages: 1, strength: 0.6, initImage: a.images[0]! };
    const c = await run(p32, img2img);
    const d = await run(p16, img2img);
    const diff = maxAbsDiff(d.images[0]!.data, c.images[0]!.data);
    assert.ok(diff <= IMAGE_TOLERANCE, `img2img image differs by ${diff}/255`);
  } finally {
    await Promise.all([p32.release(), p16.release()]);
  }
});

test('a LoRA merged into the float16 graphs gives the float32 merge\'s images within fp16 rounding', async () => {
  if (!existsSync(FP16)) convertFolderToFloat16(SRC, FP16); // when run alone (--test-name-pattern)
  const file = join(MODELS_DIR, '../test/fixtures/lora/tiny-sd15-lora.kohya.safetensors');
  const loras: EngineLora[] = [{ name: 'kohya', file, sha256: sha256Hex(readFileSync(file)), scale: 1 }];
  const opts = { warmup: false, intraOpNumThreads: 1 };
  const [p32, p16] = await Promise.all([StableDiffusionPipeline.load(SRC, opts), StableDiffusionPipeline.load(FP16, opts)]);
  const cache = new LoraPipelineCache({ max: 2, sessionConfig: { intraOpNumThreads: 1 } });
  try {
    const req: GenerateRequest = { ...txt2img, numImages: 1, loras };
    const a = await run(await cache.get('tiny-sd15', p32, loras), req);
    const b = await run(await cache.get('tiny-sd15-fp16', p16, loras), req);
    const plain = await run(p16, { ...txt2img, numImages: 1 });
    const e = relativeError(b.latents, a.latents);
    assert.ok(e > 0 && e <= LATENTS_TOLERANCE, `final latents relative error ${e}`);
    const d = maxAbsDiff(b.images[0]!.data, a.images[0]!.data);
    assert.ok(d <= IMAGE_TOLERANCE, `image differs by ${d}/255`);
    // The merge took effect on the float16 weights: far more change than fp16 rounding.
    const effect = relativeError(b.latents, plain.latents);
    assert.ok(effect > 10 * LATENTS_TOLERANCE, `LoRA changed the fp16 latents by only ${effect}`);
  } finally {
    await cache.releaseAll();
    await Promise.all([p32.release(), p16.release()]);
  }
});

const W = 64;
const inpaint: Partial<GenerateRequest> = {
  mode: 'inpaint', strength: 1,
  initImage: { data: new Uint8Array(W * W * 3).map((_, i) => (i * 37) % 256), width: W, height: W },
  maskImage: { data: new Uint8Array(W * W).map((_, i) => (i % W < W / 2 ? 255 : 0)), width: W, height: W },
};
for (const [model, extra] of [['tiny-sdxl', {}], ['tiny-sd2-v', {}], ['tiny-sd15-inpaint', inpaint]] as const) {
  test(`${model} converted to float16 gives the float32 image within fp16 rounding (${extra.mode ?? 'txt2img'})`, async () => {
    const src = join(MODELS_DIR, model);
    const dir = join(tmp, `${model}-fp16`);
    assert.ok(convertFolderToFloat16(src, dir).includes('unet'));
    const opts = { warmup: false, intraOpNumThreads: 1 };
    const [p32, p16] = await Promise.all([StableDiffusionPipeline.load(src, opts), StableDiffusionPipeline.load(dir, opts)]);
    try {
      const req = { ...txt2img, numImages: 1, ...extra } as GenerateRequest;
      const a = await run(p32, req);
      const b = await run(p16, req);
      const e = relativeError(b.latents, a.latents);
      assert.ok(e > 0 && e <= LATENTS_TOLERANCE, `final latents relative error ${e}`);
      const d = maxAbsDiff(b.images[0]!.data, a.images[0]!.data);
      assert.ok(d <= IMAGE_TOLERANCE, `image differs by ${d}/255`);
    } finally {
      await Promise.all([p32.release(), p16.release()]);
    }
  });
}
