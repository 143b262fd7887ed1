// Each pipeline stage against the recorded diffusers intermediates, independent of schedulers:
// token ids, text embeddings, the first UNet call, the VAE decode, the masked-image latents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSdModels, type SdModels } from '../src/models/sd-models.ts';
import { ClipTokenizer } from '../src/text/clip-tokenizer.ts';
import { encodePromptPairPlain } from '../src/text/encode-prompt.ts';
import { tensorToImages, binaryMask, maskedImage, rgbToTensor, downsampleMask } from '../src/pipelines/image-tensors.ts';
import { divide, sampleLatentDist } from '../src/pipelines/latent-ops.ts';
import { caseIds, loadCase, readArray, readPng, relativeError, maxAbsDiff, MODELS_DIR, type PipelineCase } from './support/pipeline-golden.ts';

const models = new Map<string, Promise<{ m: SdModels; tok: ClipTokenizer }>>();
function modelFor(name: string) {
  let p = models.get(name);
  if (!p) {
    p = (async () => ({ m: await loadSdModels(join(MODELS_DIR, name)), tok: await ClipTokenizer.fromDirectory(join(MODELS_DIR, name, 'tokenizer')) }))();
    models.set(name, p);
  }
  return p;
}

for (const id of caseIds()) {
  test(`${id}: text, first UNet call, VAE decode`, async () => {
    const c: PipelineCase = loadCase(id);
    const { m, tok } = await modelFor(c.model);
    const neg = c.inputs.negative_prompt ?? '';
    assert.deepEqual([...tok.encodeForModel(c.inputs.prompt, { truncation: true })], c.text_input_ids.prompt, 'prompt ids');
    assert.deepEqual([...tok.encodeForModel(neg, { truncation: true })], c.text_input_ids.negative_prompt, 'negative ids');

    const hidden = m.info.textHiddenSize;
    const enc = await encodePromptPairPlain({
      tokenizer: tok, runTextEncoder: (ids, rows) => m.textEncoder.run(ids, rows), hidden,
      prompt: c.inputs.prompt, negativePrompt: neg, withNegative: c.do_classifier_free_guidance,
    });
    const B = c.inputs.num_images_per_prompt;
    const refCond = readArray(c, c.prompt_embeds).subarray(0, 77 * hidden);
    assert.ok(maxAbsDiff(enc.cond.data, refCond) < 1e-4, 'prompt embeddings');
    if (c.negative_prompt_embeds) assert.ok(maxAbsDiff(enc.uncond!.data, readArray(c, c.negative_prompt_embeds).subarray(0, 77 * hidden)) < 1e-4, 'negative embeddings');

    // First UNet call on the recorded input.
    const sample = readArray(c, c.unet_step0.sample);
    const dims = c.unet_step0.sample.shape as [number, number, number, number];
    const rows = dims[0];
    const states = new Float32Array(rows * 77 * hidden);
    for (let r = 0; r < rows; r++) states.set(c.do_classifier_free_guidance && r < B ? enc.uncond!.data : enc.cond.data, r * 77 * hidden);
    const pred = await m.unet.run(sample, dims, c.unet_step0.timestep, m.unet.prepareHidden(states, rows, 77, hidden));
    const predErr = relativeError(pred, readArray(c, c.unet_step0.noise_pred));
    assert.ok(predErr < 1e-4, `unet_step0 relative error ${predErr}`);

    // VAE decode of the recorded final latents → the recorded PNG bytes.
    const fin = readArray(c, c.final_latents);
    const dec = await m.vaeDecoder.run(divide(fin, m.info.scalingFactor), c.final_latents.shape);
    const images = tensorToImages(dec.data, B, c.inputs.width, c.inputs.height);
    for (let b = 0; b < B; b++) {
      const png = await readPng(c, c.image_png[b]!, 3);
      assert.ok(maxAbsDiff(images[b]!.data, png.data) <= 1, `decoded image ${b} within 1/255`);
    }

    if (c.kind === 'inpaint') {
      const img = await readPng(c, c.inputs.image!.file, 3);
      const mask = binaryMask(await readPng(c, c.inputs.mask_image!.file, 1));
      const h = c.inputs.height / 8, w = c.inputs.width / 8;
      const refMask = readArray(c, c.mask_step0!).subarray(0, h * w);
      assert.deepEqual([...downsampleMask(mask, c.inputs.width, c.inputs.height, w, h)], [...refMask], 'mask_step0');
      const enc2 = await m.vaeEncoder!.run(maskedImage(rgbToTensor(img), mask), [1, 3, c.inputs.height, c.inputs.width]);
      const call = c.randn_calls.find((r, i) => r.caller.startsWith('DiagonalGaussian') && i === c.randn_calls.findLastIndex((x) => x.caller.startsWith('DiagonalGaussian')))!;
      const lat = sampleLatentDist(enc2.data, 1, 4, h * w, readArray(c, call.data), m.info.scalingFactor);
      const err = relativeError(lat, readArray(c, c.masked_image_latents_step0!).subarray(0, 4 * h * w));
      assert.ok(err < 1e-4, `masked image latents relative error ${err}`);
    }
  });
}
