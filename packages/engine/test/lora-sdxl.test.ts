// LoRAs on SDXL: targets in text_encoder (kohya lora_te1_), text_encoder_2 (lora_te2_) and the UNet
// are merged into their own graphs (found under the graphs' /m/ wrapper prefix); scale 0 reproduces
// the base model exactly, scale 1 changes prompt embeddings, pooled embeddings and latents.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { indexOnnxGraph, sha256Hex } from '@sdsvc/lora';
import { buildSafetensors } from '../../lora/test/support/onnx-builder.ts';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { LoraPipelineCache } from '../src/runtime/lora-pipelines.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';

const MODEL = resolve(import.meta.dirname, '../../../models/tiny-sdxl');
const cache = new LoraPipelineCache({ max: 2, sessionConfig: { intraOpNumThreads: 1 } });
let base: StableDiffusionPipeline | null = null;
after(async () => { await cache.releaseAll(); await base?.release(); });

/** A rank-2 LoRA pair for `module` of `component`, shaped from the graph's weight. */
function pair(prefix: string, component: string, module: string): Parameters<typeof buildSafetensors>[0] {
  const index = indexOnnxGraph(join(MODEL, component, 'model.onnx'));
  // tiny-sdxl's graphs were exported from a wrapper: node names start with /m/.
  const node = [...index.modules].find(([k]) => k === module || k.endsWith(`.${module}`))?.[1];
  assert.ok(node, `${component} has ${module}`);
  const [inn, out] = index.initializers.get(node.weight!)!.dims as [number, number];
  const vals = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k) * 0.5);
  return {
    [`${prefix}.lora_down.weight`]: { shape: [2, inn], data: vals(2 * inn, 1) },
    [`${prefix}.lora_up.weight`]: { shape: [out, 2], data: vals(out * 2, 2) },
  };
}

test('SDXL: text_encoder, text_encoder_2 and UNet targets', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'lora-sdxl-')), 'xl.safetensors');
  writeFileSync(file, buildSafetensors({
    ...pair('lora_te1_text_model_encoder_layers_0_self_attn_q_proj', 'text_encoder', 'text_model.encoder.layers.0.self_attn.q_proj'),
    ...pair('lora_te2_text_model_encoder_layers_1_self_attn_v_proj', 'text_encoder_2', 'text_model.encoder.layers.1.self_attn.v_proj'),
    ...pair('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k', 'unet', 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k'),
  }));
  base = await StableDiffusionPipeline.load(MODEL, { warmup: false, intraOpNumThreads: 1 });
  const req: GenerateRequest = { mode: 'txt2img', prompt: 'a castle', negativePrompt: 'fog', width: 64, height: 64, steps: 2, guidanceScale: 5, seed: 2, numImages: 1 };
  const lora = { name: 'xl', file, sha256: sha256Hex(new Uint8Array((await import('node:fs')).readFileSync(file))), scale: 1 };
  const plain = (await base.generate(req)).images[0]!.data;
  const zero = await cache.get('tiny-sdxl', base, [{ ...lora, scale: 0 }]);
  assert.equal(zero.models.textEncoders.length, 2);
  assert.notEqual(zero.models.textEncoders[1], base.models.textEncoders[1], 'text_encoder_2 has its own merged session');
  assert.deepEqual((await zero.generate(req)).images[0]!.data, plain);
  // Each component's change alone moves the embeddings the UNet sees.
  const probes = async (p: StableDiffusionPipeline) => {
    const got = new Map<string, Float32Array>();
    await p.generate(req, { probe: (name, data) => { got.set(name, data.slice()); } });
    return got;
  };
  const a = await probes(base);
  const b = await probes(await cache.get('tiny-sdxl', base, [lora]));
  const differs = (x?: Float32Array, y?: Float32Array) => !!x && !!y && x.some((v, i) => v !== y[i]);
  assert.ok(differs(a.get('prompt_embeds'), b.get('prompt_embeds')), 'prompt embeddings change');
  assert.ok(differs(a.get('pooled_prompt_embeds'), b.get('pooled_prompt_embeds')), 'pooled embeddings (text_encoder_2) change');
  assert.ok(differs(a.get('latents'), b.get('latents')), 'latents change');
});
