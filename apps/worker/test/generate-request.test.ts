import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobParams } from '@sdsvc/contracts';
import { buildGenerateRequest, DEFAULT_REFERENCE_STRENGTH } from '../src/generate-request.ts';

const params: JobParams = {
  prompt: 'a (cat:1.2)', prompt_raw: 'a (cat:1.2) (-blurry)', negative_prompt: 'blurry',
  weights: { prompt: [], negative_prompt: [] },
  width: 64, height: 64, steps: 4, guidance_scale: 7.5, scheduler: 'euler_a', seed: 7, num_images: 2,
  output_format: 'png',
};
const rgb = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64 };
const mask = { data: new Uint8Array(64 * 64), width: 64, height: 64 };

test('txt2img maps the normalised params with A1111 prompt syntax', () => {
  const r = buildGenerateRequest('txt2img', params, {});
  assert.deepEqual(r, {
    mode: 'txt2img', prompt: 'a (cat:1.2)', negativePrompt: 'blurry', promptSyntax: 'a1111',
    width: 64, height: 64, steps: 4, guidanceScale: 7.5, seed: 7, numImages: 2, scheduler: 'euler_a',
  });
});

test('img2img and inpaint carry the fitted images and strength', () => {
  const i2i = buildGenerateRequest('img2img', { ...params, strength: 0.6 }, { init: rgb });
  assert.equal(i2i.mode, 'img2img');
  assert.equal(i2i.strength, 0.6);
  assert.equal(i2i.initImage, rgb);
  const inp = buildGenerateRequest('inpaint', { ...params, strength: 1 }, { init: rgb, mask });
  assert.equal(inp.mode, 'inpaint');
  assert.equal(inp.maskImage, mask);
});

test('a txt2img reference image runs as img2img with reference_strength', () => {
  assert.equal(buildGenerateRequest('txt2img', params, { init: rgb }).strength, DEFAULT_REFERENCE_STRENGTH);
  const r = buildGenerateRequest('txt2img', { ...params, reference_strength: 0.4 }, { init: rgb });
  assert.equal(r.mode, 'img2img');
  assert.equal(r.strength, 0.4);
});

test('SDXL params map to the engine fields; no negative prompt stays absent, "" stays ""', () => {
  const { negative_prompt: _, ...noNegative } = params;
  const r = buildGenerateRequest('txt2img', {
    ...noNegative, prompt_2: 'a dog', negative_prompt_2: 'fog', original_size: { width: 512, height: 384 }, target_size: { width: 64, height: 64 },
    crops_coords_top_left: { top: 16, left: 32 }, negative_original_size: { width: 8, height: 8 }, negative_target_size: { width: 16, height: 16 },
    negative_crops_coords_top_left: { top: 1, left: 2 }, aesthetic_score: 7, negative_aesthetic_score: 2,
  }, {});
  assert.ok(!('negativePrompt' in r), 'absent, not undefined or ""');
  assert.equal(r.prompt2, 'a dog');
  assert.equal(r.negativePrompt2, 'fog');
  assert.deepEqual(r.originalSize, { width: 512, height: 384 });
  assert.deepEqual(r.targetSize, { width: 64, height: 64 });
  assert.deepEqual(r.cropsCoordsTopLeft, { top: 16, left: 32 });
  assert.deepEqual(r.negativeOriginalSize, { width: 8, height: 8 });
  assert.deepEqual(r.negativeTargetSize, { width: 16, height: 16 });
  assert.deepEqual(r.negativeCropsCoordsTopLeft, { top: 1, left: 2 });
  assert.equal(r.aestheticScore, 7);
  assert.equal(r.negativeAestheticScore, 2);
  assert.equal(buildGenerateRequest('txt2img', { ...params, negative_prompt: '' }, {}).negativePrompt, '');
});
