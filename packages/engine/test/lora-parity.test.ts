// LoRA pipelines against diffusers (load_lora_weights + fuse_lora): each recorded case run on a
// merged copy of tiny-sd15 (a different key naming per case), with the recorded noise and from
// the seed; prompt embeddings within 1e-5 relative (the text-encoder merge), final latents and
// images within the engine's parity tolerances (support/parity-tolerances.ts). Then the cache: a second job with the same set
// does not merge again; another scale does; the least recently used set is released.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { sha256Hex } from '@sdsvc/lora';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { LoraPipelineCache } from '../src/runtime/lora-pipelines.ts';
import type { EngineLora, GenerateRequest } from '../src/pipelines/types.ts';
import type { NoiseGenerator } from '../src/random/noise-generator.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE } from './support/parity-tolerances.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const LORA_FIXTURES = join(ROOT, 'test/fixtures/lora');
const FILE_BY_CASE: Record<string, string> = {
  lora_txt2img_s1_pndm: 'tiny-sd15-lora.kohya.safetensors',
  lora_txt2img_s05_ddim_neg: 'pytorch_lora_weights.safetensors',
  lora_txt2img_s1_euler_128x96: 'tiny-sd15-lora.peft.safetensors',
};

interface Ref { file: string; shape: number[] }
interface LoraCase {
  id: string;
  inputs: { prompt: string; negative_prompt: string | null; width: number; height: number; num_inference_steps: number;
    guidance_scale: number; num_images_per_prompt: number; generator: { seed: number } };
  scheduler: { name: string };
  prompt_embeds: Ref;
  randn_calls: Array<{ shape: number[]; data: Ref }>;
  final_latents: Ref;
  image_png: string[];
  lora: { scale: number };
}

const caseDir = (id: string) => join(LORA_FIXTURES, id);
const loadCase = (id: string) => JSON.parse(readFileSync(join(caseDir(id), 'case.json'), 'utf8')) as LoraCase;
function readArray(c: LoraCase, ref: Ref): Float32Array {
  const b = readFileSync(join(caseDir(c.id), ref.file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return d / (m || 1);
}
function lora(file: string, scale: number): EngineLora {
  const path = join(LORA_FIXTURES, file);
  return { name: file.replace('.safetensors', ''), file: path, sha256: sha256Hex(readFileSync(path)), scale };
}
function request(c: LoraCase, loras: EngineLora[]): GenerateRequest {
  const i = c.inputs;
  return {
    mode: 'txt2img', prompt: i.prompt, promptSyntax: 'plain', width: i.width, height: i.height, steps: i.num_inference_steps,
    guidanceScale: i.guidance_scale, scheduler: c.scheduler.name, seed: i.generator.seed, numImages: i.num_images_per_prompt, loras,
    ...(i.negative_prompt === null ? {} : { negativePrompt: i.negative_prompt }),
  };
}
class Replay implements NoiseGenerator {
  next = 0;
  readonly c: LoraCase;
  constructor(c: LoraCase) { this.c = c; }
  randn(shape: readonly number[]): Float32Array {
    const call = this.c.randn_calls[this.next++]!;
    assert.deepEqual([...shape], call.shape);
    return readArray(this.c, call.data);
  }
  rand(): Float32Array { throw new Error('not recorded'); }
}

let basePipe: Promise<StableDiffusionPipeline> | null = null;
const base = () => (basePipe ??= StableDiffusionPipeline.load(join(ROOT, 'models/tiny-sd15'), { warmup: false, intraOpNumThreads: 1 }));
const logs: string[] = [];
const cache = new LoraPipelineCache({ max: 2, sessionConfig: { intraOpNumThreads: 1 }, log: (m) => logs.push(m) });
after(async () => {
  await cache.releaseAll();
  await (await base()).release();
});

for (const [id, file] of Object.entries(FILE_BY_CASE)) {
  test(`${id} (${file}): replayed noise and seed match diffusers' fused LoRA`, async () => {
    const c = loadCase(id);
    const req = request(c, [lora(file, c.lora.scale)]);
    const pipe = await cache.get('tiny-sd15', await base(), req.loras!);
    for (const mode of ['replay', 'seed'] as const) {
      let embeds: Float32Array | null = null;
      let last: Float32Array | null = null;
      const result = await pipe.generate(req, {
        ...(mode === 'replay' ? { noise: new Replay(c) } : {}),
        probe: (name, data) => { if (name === 'prompt_embeds') embeds = data.slice(); if (name === 'latents') last = data; },
      });
      const e = relativeError(embeds!, readArray(c, c.prompt_embeds));
      assert.ok(e < 1e-5, `${mode}: prompt_embeds relative error ${e}`);
      const fin = relativeError(last!, readArray(c, c.final_latents));
      assert.ok(fin <= LATENTS_TOLERANCE, `${mode}: final latents relative error ${fin}`);
      const { data } = await sharp(join(caseDir(id), c.image_png[0]!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      let d = 0;
      for (let k = 0; k < data.length; k++) d = Math.max(d, Math.abs(data[k]! - result.images[0]!.data[k]!));
      assert.ok(d <= IMAGE_TOLERANCE, `${mode}: image differs by ${d}/255`);
    }
  });
}

test('the merged-pipeline cache: same set reused, new set merged, least recently used released', async () => {
  const fresh = new LoraPipelineCache({ max: 1, sessionConfig: { intraOpNumThreads: 1 }, log: (m) => logs.push(m) });
  try {
    const b = await base();
    const k = lora('tiny-sd15-lora.kohya.safetensors', 1);
    const p = lora('tiny-sd15-lora.peft.safetensors', 0.5);
    const first = await fresh.get('tiny-sd15', b, [k, p]);
    assert.equal(fresh.merges, 1);
    // The same set in another order: no merge, the same sessions.
    assert.equal(await fresh.get('tiny-sd15', b, [p, k]), first);
    assert.equal(fresh.merges, 1);
    assert.equal(logs.filter((m) => m.startsWith('lora merge:')).length >= 1, true);
    // Another scale is another set: merged, and with max 1 the first set is released.
    const other = await fresh.get('tiny-sd15', b, [{ ...k, scale: 0.5 }]);
    assert.notEqual(other, first);
    assert.equal(fresh.merges, 2);
    assert.equal(fresh.size, 1);
    // The base pipeline's own sessions are untouched by the merges and releases.
    assert.notEqual(other.models.unet, b.models.unet);
    assert.equal(other.models.vaeDecoder, b.models.vaeDecoder);
    await b.generate({ mode: 'txt2img', prompt: 'x', width: 64, height: 64, steps: 1, guidanceScale: 1, seed: 1, numImages: 1 });
  } finally {
    await fresh.releaseAll();
  }
});

test('a LoRA file changed after submission is refused', async () => {
  const k = lora('tiny-sd15-lora.kohya.safetensors', 1);
  await assert.rejects(cache.get('tiny-sd15', await base(), [{ ...k, sha256: '0'.repeat(64) }]), /changed after the job was submitted/);
});
