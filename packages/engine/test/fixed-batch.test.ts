// Graphs exported with batch fixed at 1: CFG runs as two UNet calls, several images as several
// calls, and the results still match diffusers. The tiny graphs are dynamic, so a proxy reports
// a fixed batch and checks that every call respects it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { TextEncoderModel } from '../src/models/text-encoder-model.ts';
import { UnetModel } from '../src/models/unet-model.ts';
import { VaeDecoderModel, VaeEncoderModel } from '../src/models/vae-models.ts';
import { loadCase, maxAbsDiff, readArray, readPng, relativeError, MODELS_DIR, ReplayNoise, requestFor } from './support/pipeline-golden.ts';
import { IMAGE_TOLERANCE, LATENTS_TOLERANCE } from './support/parity-tolerances.ts';

/** Calls per graph (by file) in the current test: every graph must really be exercised. */
let calls: Record<string, number> = {};
function batchOne(session: InferenceSession, file: string): InferenceSession {
  const isBatch = (d: unknown) => d === 'batch_size' || d === 'batch';
  const inputMetadata = session.inputMetadata.map((m) => (m.isTensor && isBatch(m.shape[0]) ? { ...m, shape: [1, ...m.shape.slice(1)] } : m));
  const batched = new Set(inputMetadata.filter((m) => m.isTensor && m.shape[0] === 1).map((m) => m.name));
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'inputMetadata') return inputMetadata;
      if (prop === 'run') {
        return (feeds: Record<string, { dims: readonly number[] }>, ...rest: unknown[]) => {
          for (const name of batched) assert.equal(feeds[name]!.dims[0], 1, `${name} fed with batch ${feeds[name]!.dims[0]}`);
          calls[file] = (calls[file] ?? 0) + 1;
          return (target.run as (...a: unknown[]) => unknown).call(target, feeds, ...rest);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const pipe = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { warmup: false, intraOpNumThreads: 1 });
after(() => pipe.release());
const m = pipe.models;
const wrap = <T>(Cls: new (l: { session: InferenceSession; provider: 'cpu'; file: string }) => T, x: { session: InferenceSession; file: string }) =>
  new Cls({ session: batchOne(x.session, x.file), provider: 'cpu', file: x.file });
m.textEncoder = wrap(TextEncoderModel, m.textEncoder);
m.unet = wrap(UnetModel, m.unet);
m.vaeDecoder = wrap(VaeDecoderModel, m.vaeDecoder);
m.vaeEncoder = wrap(VaeEncoderModel, m.vaeEncoder!);

for (const id of ['txt2img_sd15_eulera_2imgs', 'inpaint4_sd15_ddim_s075', 'img2img_sd15_pndm_s075']) {
  test(`${id} with every graph fixed at batch 1: each graph called per row, results match diffusers`, async () => {
    assert.equal(m.unet.batch, 1);
    const c = loadCase(id);
    let final: Float32Array | null = null;
    calls = {};
    const result = await pipe.generate(await requestFor(c), { noise: new ReplayNoise(c), probe: (n, d) => { if (n === 'latents') final = d; } });
    const err = relativeError(final!, readArray(c, c.final_latents));
    assert.ok(err <= LATENTS_TOLERANCE, `final latents relative error ${err}`);
    for (let b = 0; b < result.images.length; b++) {
      const d = maxAbsDiff(result.images[b]!.data, (await readPng(c, c.image_png[b]!, 3)).data);
      assert.ok(d <= IMAGE_TOLERANCE, `image ${b} differs by ${d}/255`);
    }
    const images = c.inputs.num_images_per_prompt;
    const rows = (c.do_classifier_free_guidance ? 2 : 1) * images;
    assert.ok((calls[m.unet.file] ?? 0) >= rows * c.timesteps.length, `UNet ran once per row and step (${JSON.stringify(calls)})`);
    assert.ok((calls[m.textEncoder.file] ?? 0) >= (c.do_classifier_free_guidance ? 2 : 1), `text encoder per prompt side (${JSON.stringify(calls)})`);
    assert.ok((calls[m.vaeDecoder.file] ?? 0) >= images, `VAE decoder per image (${JSON.stringify(calls)})`);
    if (c.kind !== 'txt2img') assert.ok((calls[m.vaeEncoder!.file] ?? 0) >= 1, `VAE encoder for the init image (${JSON.stringify(calls)})`);
  });
}
