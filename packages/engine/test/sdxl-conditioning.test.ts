// SDXL text conditioning beyond the goldens: "" versus no negative prompt, prompt_2, the A1111
// prompt language on both encoders (plain prompts unchanged, long prompts in matching chunks,
// pooled embedding of the first chunk), the time-ids rules, and SDXL-only fields elsewhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { sdxlTimeIds } from '../src/pipelines/sdxl-time-ids.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import type { TextConditioning } from '../src/pipelines/text-conditioning.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const xl = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sdxl'), { warmup: false, intraOpNumThreads: 1 });
after(() => xl.release());

const base: GenerateRequest = { mode: 'txt2img', prompt: 'a red fox in the snow', width: 64, height: 64, steps: 2, guidanceScale: 5, seed: 1, numImages: 1 };

async function encode(req: Partial<GenerateRequest>, cfg = true): Promise<{ text: TextConditioning; probes: Map<string, Float32Array> }> {
  const probes = new Map<string, Float32Array>();
  const text = await xl.encodeText({ ...base, ...req }, cfg, (name, data) => probes.set(name, data.slice()));
  return { text, probes };
}

const allZero = (a: Float32Array) => a.every((v) => v === 0);

test('no negative prompt gives zeros; an explicit "" is encoded', async () => {
  const none = await encode({});
  assert.ok(allZero(none.text.uncond!) && allZero(none.text.added!.uncond!.textEmbeds));
  const empty = await encode({ negativePrompt: '' });
  assert.ok(!allZero(empty.text.uncond!) && !allZero(empty.text.added!.uncond!.textEmbeds));
  // "" is what a prompt of "" encodes to.
  const asPrompt = await encode({ prompt: '' }, false);
  assert.deepEqual(empty.text.uncond, asPrompt.text.cond);
  assert.deepEqual(empty.text.added!.uncond!.textEmbeds, asPrompt.text.added!.cond.textEmbeds);
});

test('prompt_2 reaches text_encoder_2 only (columns 8..24 and the pooled embedding)', async () => {
  const a = await encode({}, false);
  const b = await encode({ prompt2: 'a blue whale' }, false);
  const W = a.text.hidden;
  for (let t = 0; t < a.text.tokens; t++) {
    assert.deepEqual(b.text.cond.subarray(t * W, t * W + 8), a.text.cond.subarray(t * W, t * W + 8), `token ${t}: text_encoder columns unchanged`);
  }
  assert.notDeepEqual(b.text.cond, a.text.cond);
  assert.notDeepEqual(b.text.added!.cond.textEmbeds, a.text.added!.cond.textEmbeds);
});

test('A1111 syntax: a plain prompt equals diffusers; a long one is two chunks on both encoders, pooled from the first', async () => {
  const plain = await encode({ negativePrompt: 'blurry' });
  const a1111 = await encode({ negativePrompt: 'blurry', promptSyntax: 'a1111' });
  assert.deepEqual(a1111.text.cond, plain.text.cond);
  assert.deepEqual(a1111.text.added, plain.text.added);

  const long = `${base.prompt} BREAK ${Array(40).fill('cat').join(' ')}`;
  const chunked = await encode({ prompt: long, promptSyntax: 'a1111', negativePrompt: 'blurry' });
  assert.equal(chunked.text.tokens, 154);
  assert.equal(chunked.text.cond.length, 154 * 24);
  assert.equal(chunked.text.uncond!.length, 154 * 24, 'negative padded to the same chunks');
  // The pooled embedding is the first chunk's: the prompt before BREAK.
  const first = await encode({ prompt: base.prompt, promptSyntax: 'a1111' }, false);
  assert.deepEqual(chunked.text.added!.cond.textEmbeds, first.text.added!.cond.textEmbeds);

  // prompt_2 longer than prompt: both encoders still give the same number of tokens.
  const mixed = await encode({ prompt: 'a fox', prompt2: long, promptSyntax: 'a1111' }, false);
  assert.equal(mixed.text.tokens, 154);
});

test('time ids: txt2img negative row needs both negative sizes; img2img/inpaint mix in the positive crops', () => {
  const info = xl.info;
  const size = { width: 64, height: 48 };
  const t2i = sdxlTimeIds(info, { ...base, width: 64, height: 48, cropsCoordsTopLeft: { top: 4, left: 8 }, negativeOriginalSize: { width: 32, height: 16 } });
  assert.deepEqual([...t2i.cond], [48, 64, 4, 8, 48, 64]);
  assert.deepEqual([...t2i.uncond], [...t2i.cond], 'one negative size alone is ignored by the txt2img pipeline');
  const both = sdxlTimeIds(info, { ...base, ...size, negativeOriginalSize: { width: 32, height: 16 }, negativeTargetSize: { width: 8, height: 24 }, negativeCropsCoordsTopLeft: { top: 1, left: 2 } });
  assert.deepEqual([...both.uncond], [16, 32, 1, 2, 24, 8]);
  const i2i = sdxlTimeIds(info, { ...base, ...size, mode: 'img2img', cropsCoordsTopLeft: { top: 4, left: 8 }, negativeOriginalSize: { width: 32, height: 16 }, negativeCropsCoordsTopLeft: { top: 1, left: 2 } });
  assert.deepEqual([...i2i.uncond], [16, 32, 4, 8, 48, 64], 'img2img: negative original size, positive crops, target size');
  const refiner = { ...info, sdxl: { ...info.sdxl!, requiresAestheticsScore: true } };
  const r = sdxlTimeIds(refiner, { ...base, ...size, mode: 'img2img', negativeCropsCoordsTopLeft: { top: 1, left: 2 }, aestheticScore: 7 });
  assert.deepEqual([...r.cond], [48, 64, 0, 0, 7]);
  assert.deepEqual([...r.uncond], [48, 64, 1, 2, 2.5]);
});

test('SDXL-only fields on an SD 1.x model are refused, naming the field', async () => {
  const sd = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { warmup: false, intraOpNumThreads: 1 });
  try {
    await assert.rejects(sd.generate({ ...base, prompt2: 'x' }), /prompt2 is for SDXL models only/);
    await assert.rejects(sd.generate({ ...base, targetSize: { width: 64, height: 64 } }), /targetSize is for SDXL models only/);
  } finally {
    await sd.release();
  }
});

test('the SDXL default strengths apply when a job gives none', async () => {
  assert.equal(xl.defaultStrength('img2img'), 0.3);
  assert.equal(xl.defaultStrength('inpaint'), 0.9999);
  const gray = { data: new Uint8Array(64 * 64 * 3).fill(100), width: 64, height: 64 };
  let total = 0;
  await xl.generate({ ...base, mode: 'img2img', steps: 10, initImage: gray }, { onStep: (_, t) => { total = t; } });
  assert.equal(total, 3, '10 steps × 0.3');
});
