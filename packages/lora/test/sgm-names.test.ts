// Kohya's SGM-named UNet keys (input_blocks_…, middle_block_…, output_blocks_…) mapped onto
// diffusers' module names, for SD 1.5's and SDXL's block layouts, and a whole file renamed to SGM
// names merges into exactly the same graph as the original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeLoras, parseSafetensors, readLora } from '../src/index.ts';
import { sgmToDiffusers, unetLayout } from '../src/sgm-names.ts';
import { buildSafetensors } from './support/onnx-builder.ts';

const ROOT = join(import.meta.dirname, '../../..');

test('SD 1.5 and SDXL layouts', () => {
  const sd15 = unetLayout({ layers_per_block: 2, down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'] })!;
  const xl = unetLayout({ layers_per_block: 2, down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'], up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'] })!;
  const cases: Array<[typeof sd15, string, string | null]> = [
    [sd15, 'input_blocks_1_1_transformer_blocks_0_attn1_to_q', 'down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q'],
    [sd15, 'input_blocks_8_1_proj_in', 'down_blocks_2_attentions_1_proj_in'],
    [sd15, 'input_blocks_3_0_op', 'down_blocks_0_downsamplers_0_conv'],
    [sd15, 'input_blocks_11_0_in_layers_2', 'down_blocks_3_resnets_1_conv1'],
    [sd15, 'middle_block_1_transformer_blocks_0_attn2_to_k', 'mid_block_attentions_0_transformer_blocks_0_attn2_to_k'],
    [sd15, 'middle_block_2_out_layers_3', 'mid_block_resnets_1_conv2'],
    [sd15, 'output_blocks_2_1_conv', 'up_blocks_0_upsamplers_0_conv'],
    [sd15, 'output_blocks_5_1_transformer_blocks_0_ff_net_2', 'up_blocks_1_attentions_2_transformer_blocks_0_ff_net_2'],
    [sd15, 'output_blocks_5_2_conv', 'up_blocks_1_upsamplers_0_conv'],
    [sd15, 'output_blocks_11_1_proj_out', 'up_blocks_3_attentions_2_proj_out'],
    [sd15, 'output_blocks_4_0_skip_connection', 'up_blocks_1_resnets_1_conv_shortcut'],
    [xl, 'input_blocks_4_1_transformer_blocks_1_attn1_to_out_0', 'down_blocks_1_attentions_0_transformer_blocks_1_attn1_to_out_0'],
    [xl, 'input_blocks_1_1_proj_in', null], // down block 0 of SDXL has no attention
    [xl, 'output_blocks_0_1_transformer_blocks_9_attn2_to_v', 'up_blocks_0_attentions_0_transformer_blocks_9_attn2_to_v'],
    [xl, 'output_blocks_8_0_emb_layers_1', 'up_blocks_2_resnets_2_time_emb_proj'],
    [xl, 'label_emb_0_0', 'add_embedding_linear_1'],
    [xl, 'down_blocks_1_attentions_0_proj_in', null],
  ];
  for (const [layout, sgm, want] of cases) assert.equal(sgmToDiffusers(sgm, layout), want, sgm);
});

test('the fixture LoRA renamed to SGM keys merges into the same tiny-sd15 graph', async () => {
  // tiny-sd15: layers_per_block 1, CrossAttnDown + Down, Up + CrossAttnUp.
  const rename: Array<[string, string]> = [
    ['lora_unet_down_blocks_0_attentions_0_', 'lora_unet_input_blocks_1_1_'],
    ['lora_unet_mid_block_attentions_0_', 'lora_unet_middle_block_1_'],
    ['lora_unet_up_blocks_1_attentions_0_', 'lora_unet_output_blocks_2_1_'],
    ['lora_unet_up_blocks_1_attentions_1_', 'lora_unet_output_blocks_3_1_'],
  ];
  const original = readFileSync(join(ROOT, 'test/fixtures/lora/tiny-sd15-lora.kohya.safetensors'));
  const tensors: Parameters<typeof buildSafetensors>[0] = {};
  let renamed = 0;
  for (const [key, t] of parseSafetensors(original).tensors) {
    const hit = rename.find(([from]) => key.startsWith(from));
    if (hit) renamed++;
    tensors[hit ? hit[1] + key.slice(hit[0].length) : key] = { shape: t.shape, data: [...t.data] };
  }
  assert.equal(renamed, 32 * 3);
  const model = join(ROOT, 'models/tiny-sd15');
  const a = await mergeLoras(model, [{ name: 'diffusers-names', adapter: readLora(original), scale: 1 }]);
  const b = await mergeLoras(model, [{ name: 'sgm-names', adapter: readLora(buildSafetensors(tensors)), scale: 1 }]);
  assert.equal(b.patched, 40);
  assert.deepEqual(b.graphs.unet!.model, a.graphs.unet!.model);
});
