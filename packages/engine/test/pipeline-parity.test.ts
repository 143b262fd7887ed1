// Every recorded diffusers pipeline run, end to end: once with the recorded noise replayed (the
// pipeline alone), once with TorchGenerator from the seed (pipeline + RNG). Latents within 1e-5 of
// the largest latent, images within 1/255 per channel (support/parity-tolerances.ts: the measured
// worst cases and the margin).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateResult } from '../src/pipelines/types.ts';
import { caseIds, loadCase, readArray, readPng, relativeError, maxAbsDiff, MODELS_DIR, ReplayNoise, requestFor, type PipelineCase } from './support/pipeline-golden.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE, UNET_INPUT_TOLERANCE } from './support/parity-tolerances.ts';

const pipes = new Map<string, Promise<StableDiffusionPipeline>>();
function pipelineFor(name: string): Promise<StableDiffusionPipeline> {
  let p = pipes.get(name);
  if (!p) pipes.set(name, (p = StableDiffusionPipeline.load(join(MODELS_DIR, name), { warmup: false, intraOpNumThreads: 1 })));
  return p;
}
after(async () => { for (const p of pipes.values()) await (await p).release(); });

async function checkImages(c: PipelineCase, result: GenerateResult, label: string): Promise<void> {
  assert.equal(result.images.length, c.inputs.num_images_per_prompt);
  for (let b = 0; b < result.images.length; b++) {
    const png = await readPng(c, c.image_png[b]!, 3);
    const img = result.images[b]!;
    assert.equal(img.width, png.width);
    assert.equal(img.height, png.height);
    const d = maxAbsDiff(img.data, png.data);
    assert.ok(d <= IMAGE_TOLERANCE, `${label}: image ${b} differs by ${d}/255`);
  }
}

for (const id of caseIds()) {
  test(`${id}: replayed noise`, async () => {
    const c = loadCase(id);
    const pipe = await pipelineFor(c.model);
    const noise = new ReplayNoise(c);
    const steps: Float32Array[] = [];
    const probes = new Map<string, Float32Array>();
    let progress = 0;
    const result = await pipe.generate(await requestFor(c), {
      noise,
      onStep: (step, total) => { progress = step; assert.equal(total, c.timesteps.length); },
      probe: (name, data) => { if (name === 'latents') steps.push(data.slice()); else probes.set(name, data.slice()); },
    });
    assert.equal(noise.used, c.randn_calls.length, 'every recorded draw consumed');
    assert.equal(progress, c.timesteps.length);
    const s0 = relativeError(probes.get('unet_step0_sample')!, readArray(c, c.unet_step0.sample));
    assert.ok(s0 <= UNET_INPUT_TOLERANCE, `unet_step0 sample relative error ${s0}`);
    const perStep = readArray(c, c.latents_per_step);
    const per = perStep.length / c.timesteps.length;
    for (let i = 0; i < steps.length; i++) {
      const e = relativeError(steps[i]!, perStep.subarray(i * per, (i + 1) * per));
      assert.ok(e <= LATENTS_TOLERANCE, `latents after step ${i} relative error ${e}`);
    }
    const fin = relativeError(steps.at(-1)!, readArray(c, c.final_latents));
    assert.ok(fin <= LATENTS_TOLERANCE, `final latents relative error ${fin}`);
    await checkImages(c, result, 'replay');
  });

  test(`${id}: TorchGenerator from the seed`, async () => {
    const c = loadCase(id);
    const pipe = await pipelineFor(c.model);
    let last: Float32Array | null = null;
    const result = await pipe.generate(await requestFor(c), { probe: (name, data) => { if (name === 'latents') last = data; } });
    const fin = relativeError(last!, readArray(c, c.final_latents));
    assert.ok(fin <= LATENTS_TOLERANCE, `final latents relative error ${fin}`);
    await checkImages(c, result, 'seed');
    const seeds = c.inputs.generator.kind === 'single' ? [c.inputs.generator.seed] : c.inputs.generator.seeds;
    assert.deepEqual(result.images.map((i) => i.seed), seeds);
  });
}
