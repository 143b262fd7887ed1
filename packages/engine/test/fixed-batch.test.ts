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
import { loadCase, readArray, relativeError, MODELS_DIR, ReplayNoise, requestFor } from './support/pipeline-golden.ts';

let calls = 0;
function batchOne(session: InferenceSession): InferenceSession {
  const isBatch = (d: unknown) => d === 'batch_size' || d === 'batch';
  const inputMetadata = session.inputMetadata.map((m) => (m.isTensor && isBatch(m.shape[0]) ? { ...m, shape: [1, ...m.shape.slice(1)] } : m));
  const batched = new Set(inputMetadata.filter((m) => m.isTensor && m.shape[0] === 1).map((m) => m.name));
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'inputMetadata') return inputMetadata;
      if (prop === 'run') {
        return (feeds: Record<string, { dims: readonly number[] }>, ...rest: unknown[]) => {
          for (const name of batched) assert.equal(feeds[name]!.dims[0], 1, `${name} fed with batch ${feeds[name]!.dims[0]}`);
          calls++;
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
  new Cls({ session: batchOne(x.session), provider: 'cpu', file: x.file });
m.textEncoder = wrap(TextEncoderModel, m.textEncoder);
m.unet = wrap(UnetModel, m.unet);
m.vaeDecoder = wrap(VaeDecoderModel, m.vaeDecoder);
m.vaeEncoder = wrap(VaeEncoderModel, m.vaeEncoder!);

for (const id of ['txt2img_sd15_eulera_2imgs', 'inpaint4_sd15_ddim_s075', 'img2img_sd15_pndm_s075']) {
  test(`${id} with every graph fixed at batch 1`, async () => {
    assert.equal(m.unet.batch, 1);
    const c = loadCase(id);
    let final: Float32Array | null = null;
    calls = 0;
    await pipe.generate(await requestFor(c), { noise: new ReplayNoise(c), probe: (n, d) => { if (n === 'latents') final = d; } });
    const err = relativeError(final!, readArray(c, c.final_latents));
    assert.ok(err <= 1e-3, `final latents relative error ${err}`);
    const rows = (c.do_classifier_free_guidance ? 2 : 1) * c.inputs.num_images_per_prompt;
    assert.ok(calls >= rows * c.timesteps.length, `UNet ran once per row and step (${calls} calls)`);
  });
}
