/**
 * Writes a full-size Stable Diffusion 1.5-architecture ONNX export with random weights (~4.3 GB),
 * laid out as our exports are (model_index.json, scheduler/, tokenizer/, text_encoder/, unet/,
 * vae_decoder/, vae_encoder/, each graph as model.onnx + model.onnx_data + config.json), for the
 * memory and speed benches (issue #11) where no real export can be downloaded. The images are
 * noise; shapes, operators and weight bytes are SD 1.5's. The tokenizer is the real CLIP BPE
 * vocabulary, copied from models/tiny-sd15. Deterministic (fixed seeds).
 *   scripts/node scripts/make-random-sd15-export.ts <out-dir>
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OnnxBuilder } from './sd15-export/onnx-builder.ts';
import { Normal } from './sd15-export/normal.ts';
import { buildTextEncoder, TEXT_ENCODER_CONFIG } from './sd15-export/text-encoder.ts';
import { buildUnet, UNET_CONFIG } from './sd15-export/unet.ts';
import { buildVaeDecoder, buildVaeEncoder, VAE_CONFIG } from './sd15-export/vae.ts';

const out = process.argv[2];
if (!out) {
  console.error('usage: scripts/node scripts/make-random-sd15-export.ts <out-dir>');
  process.exit(2);
}
const dir = resolve(out);
const tiny = resolve(import.meta.dirname, '../models/tiny-sd15');
const json = (file: string, value: unknown) => writeFileSync(join(dir, file), `${JSON.stringify(value, null, 2)}\n`);

mkdirSync(dir, { recursive: true });
json('model_index.json', {
  _class_name: 'StableDiffusionPipeline', _diffusers_version: '0.27.2', feature_extractor: [null, null], image_encoder: [null, null],
  requires_safety_checker: false, safety_checker: [null, null], scheduler: ['diffusers', 'PNDMScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'], tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'],
});
mkdirSync(join(dir, 'scheduler'), { recursive: true });
json('scheduler/scheduler_config.json', {
  _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085,
  num_train_timesteps: 1000, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1, trained_betas: null, clip_sample: false,
});
cpSync(join(tiny, 'tokenizer'), join(dir, 'tokenizer'), { recursive: true });

const graphs = [
  { name: 'text_encoder', seed: 1, config: TEXT_ENCODER_CONFIG, build: buildTextEncoder },
  { name: 'unet', seed: 2, config: UNET_CONFIG, build: buildUnet },
  { name: 'vae_decoder', seed: 3, config: VAE_CONFIG, build: buildVaeDecoder },
  { name: 'vae_encoder', seed: 4, config: VAE_CONFIG, build: buildVaeEncoder },
];
let total = 0;
for (const g of graphs) {
  const t0 = performance.now();
  mkdirSync(join(dir, g.name), { recursive: true });
  json(`${g.name}/config.json`, g.config);
  const b = new OnnxBuilder(join(dir, g.name), g.name, new Normal(g.seed));
  g.build(b);
  b.finish();
  total += b.params;
  console.log(`${g.name}: ${(b.params / 1e6).toFixed(2)} M parameters, ${((b.params * 4) / 2 ** 30).toFixed(2)} GiB (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`total: ${(total / 1e6).toFixed(2)} M parameters in ${dir}`);
