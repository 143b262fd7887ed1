// Every recorded diffusers 0.27.2 SDXL run (StableDiffusionXL / Img2Img / Inpaint Pipeline on
// tiny-sdxl), stage by stage: both tokenizers' ids exactly; prompt, pooled and negative embeddings
// and the UNet's time ids to 1e-4; the first UNet call, the latents after every step and the image
// at the engine's parity tolerances (support/parity-tolerances.ts; measured: latents ≤ 1.7e-6
// relative, images ≤ 1/255). Once with the recorded noise replayed, once with TorchGenerator from the seed.
// Cases recorded with the SDXL default strength (0.3 img2img, 0.9999 inpaint) run without one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE, UNET_INPUT_TOLERANCE } from './support/parity-tolerances.ts';
import { caseIds, loadCase, readArray, readPng, relativeError, maxAbsDiff, MODELS_DIR, ReplayNoise, requestFor, SDXL_DIR, type PipelineCase } from './support/pipeline-golden.ts';

const pipe = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sdxl'), { warmup: false, intraOpNumThreads: 1 });
after(() => pipe.release());

/** Worst errors over every case, printed at the end (the report quotes them). */
const worst = { embeds: 0, pooled: 0, timeIds: 0, step0: 0, latents: 0, seedLatents: 0, image: 0 };
after(() => console.log(`SDXL parity, max errors: ${JSON.stringify(worst)}`));
const track = (k: keyof typeof worst, v: number) => { worst[k] = Math.max(worst[k], v); };

async function sdxlRequest(c: PipelineCase): Promise<GenerateRequest> {
  const req = await requestFor(c);
  const usesDefault = (c.kind === 'img2img' && req.strength === 0.3) || (c.kind === 'inpaint' && req.strength === 0.9999);
  if (usesDefault) delete req.strength;
  return req;
}

function close(name: string, actual: Float32Array | undefined, expected: Float32Array, tol: number, key?: keyof typeof worst): void {
  assert.ok(actual, `${name} was not produced`);
  const d = maxAbsDiff(actual, expected);
  if (key) track(key, d);
  assert.ok(d <= tol, `${name}: max abs difference ${d} > ${tol}`);
}

for (const id of caseIds(SDXL_DIR)) {
  test(`${id}: token ids of both tokenizers`, () => {
    const c = loadCase(id, SDXL_DIR);
    const [tok1, tok2] = pipe.tokenizers;
    const i = c.inputs;
    const ids = c.text_input_ids;
    assert.deepEqual([...tok1!.encodeForModel(i.prompt)], ids.prompt);
    assert.deepEqual([...tok2!.encodeForModel(i.prompt_2 ?? i.prompt)], ids.prompt_2);
    assert.deepEqual([...tok1!.encodeForModel(i.negative_prompt ?? '')], ids.negative_prompt);
    assert.deepEqual([...tok2!.encodeForModel(i.negative_prompt_2 ?? i.negative_prompt ?? '')], ids.negative_prompt_2);
  });

  test(`${id}: replayed noise, stage by stage`, async () => {
    const c = loadCase(id, SDXL_DIR);
    const noise = new ReplayNoise(c);
    const steps: Float32Array[] = [];
    const probes = new Map<string, Float32Array>();
    const result = await pipe.generate(await sdxlRequest(c), {
      noise,
      probe: (name, data) => { if (name === 'latents') steps.push(data.slice()); else probes.set(name, data.slice()); },
    });
    assert.equal(noise.used, c.randn_calls.length, 'every recorded draw consumed');

    close('prompt_embeds', probes.get('prompt_embeds'), readArray(c, c.prompt_embeds), 1e-4, 'embeds');
    close('pooled_prompt_embeds', probes.get('pooled_prompt_embeds'), readArray(c, c.pooled_prompt_embeds!), 1e-4, 'pooled');
    if (c.negative_prompt_embeds) {
      close('negative_prompt_embeds', probes.get('negative_prompt_embeds'), readArray(c, c.negative_prompt_embeds), 1e-4, 'embeds');
      close('negative_pooled_prompt_embeds', probes.get('negative_pooled_prompt_embeds'), readArray(c, c.negative_pooled_prompt_embeds!), 1e-4, 'pooled');
      const zeros = probes.get('negative_prompt_embeds')!.every((v) => v === 0) && probes.get('negative_pooled_prompt_embeds')!.every((v) => v === 0);
      assert.equal(zeros, c.negative_embeds_are_zeros, 'negative embeddings are zeros exactly when diffusers zeroed them');
    } else {
      assert.equal(probes.get('negative_prompt_embeds'), undefined, 'no negative side without CFG');
    }
    close('time_ids', probes.get('add_time_ids'), Float32Array.from(c.add_time_ids!.flat()), 1e-4, 'timeIds');
    close('unet_step0 time_ids', probes.get('add_time_ids'), readArray(c, c.unet_step0.time_ids!), 1e-4, 'timeIds');
    close('unet_step0 text_embeds', probes.get('add_text_embeds'), readArray(c, c.unet_step0.text_embeds!), 1e-4, 'pooled');

    const s0 = relativeError(probes.get('unet_step0_sample')!, readArray(c, c.unet_step0.sample));
    const p0 = relativeError(probes.get('unet_step0_out')!, readArray(c, c.unet_step0.noise_pred));
    track('step0', Math.max(s0, p0));
    assert.ok(s0 <= UNET_INPUT_TOLERANCE && p0 <= UNET_INPUT_TOLERANCE, `unet_step0 sample / noise_pred relative errors ${s0} / ${p0}`);

    assert.equal(steps.length, c.timesteps.length);
    const perStep = readArray(c, c.latents_per_step);
    const per = perStep.length / c.timesteps.length;
    for (let s = 0; s < steps.length; s++) {
      const e = relativeError(steps[s]!, perStep.subarray(s * per, (s + 1) * per));
      assert.ok(e <= LATENTS_TOLERANCE, `latents after step ${s}: relative error ${e}`);
    }
    const fin = relativeError(steps.at(-1)!, readArray(c, c.final_latents));
    track('latents', fin);
    assert.ok(fin <= LATENTS_TOLERANCE, `final latents relative error ${fin}`);

    const png = await readPng(c, c.image_png[0]!, 3);
    const d = maxAbsDiff(result.images[0]!.data, png.data);
    track('image', d);
    assert.ok(d <= IMAGE_TOLERANCE, `image differs by ${d}/255`);
  });

  test(`${id}: TorchGenerator from the seed`, async () => {
    const c = loadCase(id, SDXL_DIR);
    let last: Float32Array | null = null;
    const result = await pipe.generate(await sdxlRequest(c), { probe: (name, data) => { if (name === 'latents') last = data; } });
    const fin = relativeError(last!, readArray(c, c.final_latents));
    track('seedLatents', fin);
    assert.ok(fin <= LATENTS_TOLERANCE, `final latents relative error ${fin}`);
    const png = await readPng(c, c.image_png[0]!, 3);
    const d = maxAbsDiff(result.images[0]!.data, png.data);
    track('image', d);
    assert.ok(d <= IMAGE_TOLERANCE, `image differs by ${d}/255`);
  });
}
