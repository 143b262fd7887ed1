// Prompt interpolation (animation jobs): weight 0 is the first prompt's run, weight 1 the second's,
// bit for bit; in between the conditioning is the linear blend of both.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { blendConditioning } from '../src/pipelines/prompt-blend.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const pipe = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { warmup: false, intraOpNumThreads: 1 });
after(() => pipe.release());

const base: GenerateRequest = {
  mode: 'txt2img', prompt: 'a forest in spring', negativePrompt: 'blurry', promptSyntax: 'a1111',
  width: 64, height: 64, steps: 3, guidanceScale: 7, seed: 5, numImages: 1,
};
const pixels = async (req: GenerateRequest) => (await pipe.generate(req)).images[0]!.data;

test('weight 0 and 1 give exactly the first and the second prompt; 0.5 gives neither', async () => {
  const spring = await pixels(base);
  const autumn = await pixels({ ...base, prompt: 'the same forest in autumn' });
  const blend = (weight: number) => pixels({ ...base, promptBlend: { prompt: 'the same forest in autumn', weight } });
  assert.deepEqual(await blend(0), spring);
  assert.deepEqual(await blend(1), autumn);
  const half = await blend(0.5);
  assert.notDeepEqual(half, spring);
  assert.notDeepEqual(half, autumn);
});

test('the blended conditioning is the element-wise lerp, uncond included', async () => {
  const a = await pipe.encodeText(base, true);
  const b = await pipe.encodeText({ ...base, prompt: 'autumn', negativePrompt: 'dark' }, true);
  const mixed = await pipe.encodeText({ ...base, promptBlend: { prompt: 'autumn', negativePrompt: 'dark', weight: 0.25 } }, true);
  const direct = blendConditioning(a, b, 0.25);
  assert.deepEqual(mixed.cond, direct.cond);
  assert.deepEqual(mixed.uncond, direct.uncond);
  const i = 7;
  assert.ok(Math.abs(mixed.cond[i]! - (a.cond[i]! * 0.75 + b.cond[i]! * 0.25)) < 1e-6);
});

test('prompts of different chunk counts are refused with a clear error', () => {
  const a = { tokens: 77, hidden: 4, cond: new Float32Array(308), uncond: null };
  const b = { tokens: 154, hidden: 4, cond: new Float32Array(616), uncond: null };
  assert.throws(() => blendConditioning(a, b, 0.5), /same length in 75-token chunks/);
});
