// The safetensors reader and the three key namings: every malformed file is a LoraFormatError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoraFormatError, parseSafetensors, readLora, summarize, classifyKey } from '../src/index.ts';
import { buildSafetensors, rawSafetensors } from './support/onnx-builder.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/lora');
const FILES = { kohya: 'tiny-sd15-lora.kohya.safetensors', diffusers: 'pytorch_lora_weights.safetensors', peft: 'tiny-sd15-lora.peft.safetensors' } as const;

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => readLora(bytes), (err: unknown) => err instanceof LoraFormatError && pattern.test(err.message));
}

test('the three namings of the fixture LoRA read to the same 40 targets', () => {
  for (const [naming, file] of Object.entries(FILES)) {
    const lora = readLora(readFileSync(join(FIXTURES, file)));
    assert.equal(lora.naming, naming);
    assert.equal(lora.targets.length, 40);
    assert.deepEqual(summarize(lora), { naming, ranks: [2, 4], components: ['text_encoder', 'unet'] });
    const te = lora.targets.filter((t) => t.component === 'text_encoder');
    assert.equal(te.length, 8);
    // No alpha in diffusers/PEFT files: alpha = rank.
    for (const t of lora.targets) assert.equal(t.alpha, naming === 'kohya' ? (t.component === 'unet' ? 2 : 4) : t.rank);
  }
});

test('key namings map to components and module paths', () => {
  assert.deepEqual(
    { ...classifyKey('lora_unet_mid_block_attentions_0_proj_in.lora_down.weight'), label: undefined },
    { naming: 'kohya', component: 'unet', module: 'mid_block_attentions_0_proj_in', kohya: true, role: 'down', label: undefined },
  );
  assert.equal(classifyKey('lora_te2_text_model_encoder_layers_0_mlp_fc1.alpha')?.component, 'text_encoder_2');
  assert.equal(classifyKey('unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.up.weight')?.module,
    'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0');
  assert.equal(classifyKey('text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_linear_layer.down.weight')?.naming, 'diffusers');
  assert.equal(classifyKey('base_model.model.down_blocks.0.resnets.0.conv1.lora_B.weight')?.component, 'unet');
  assert.equal(classifyKey('lora_unet_x.hada_w1_a'), null);
});

test('F16 and BF16 tensors decode to float32', () => {
  const bytes = buildSafetensors({
    'lora_unet_a.lora_down.weight': { shape: [1, 2], data: [0.5, -2], dtype: 'F16' },
    'lora_unet_a.lora_up.weight': { shape: [2, 1], data: [1.5, 3], dtype: 'BF16' },
  });
  const t = parseSafetensors(bytes).tensors;
  assert.deepEqual([...t.get('lora_unet_a.lora_down.weight')!.data], [0.5, -2]);
  assert.deepEqual([...t.get('lora_unet_a.lora_up.weight')!.data], [1.5, 3]);
  assert.equal(readLora(bytes).targets[0]!.alpha, 1);
});

test('malformed files are refused with a clear message', () => {
  const pair = { 'lora_unet_a.lora_down.weight': { shape: [1, 2], data: [1, 2] }, 'lora_unet_a.lora_up.weight': { shape: [2, 1], data: [1, 2] } };
  refused(new Uint8Array(5), /shorter than the 8-byte header length/);
  refused(rawSafetensors('{}', [], 4096), /header says 4096 bytes/);
  refused(rawSafetensors('{"a": '), /not valid UTF-8 JSON/);
  refused(rawSafetensors('[1]'), /not a JSON object/);
  refused(rawSafetensors('{"lora_unet_a.lora_down.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [new Uint8Array(8)]), /dtype "I64" is not supported/);
  refused(rawSafetensors('{"lora_unet_a.lora_down.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', [new Uint8Array(8)]), /outside the 8 data bytes/);
  refused(rawSafetensors('{"lora_unet_a.lora_down.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', [new Uint8Array(8)]), /do not hold F32 \[3\]/);
  refused(rawSafetensors('{"lora_unet_a.lora_down.weight":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}', [new Uint8Array(8)]), /not a list of sizes/);
  refused(rawSafetensors('{"x":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', [new Uint8Array(8)]), /not \[begin, end\]/);
  refused(buildSafetensors({ ...pair, 'lora_unet_a.lora_up.weight': { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } }), /up has rank 3 but down has rank 1/);
  refused(buildSafetensors({ ...pair, 'lora_unet_a.lora_down.weight': { shape: [2], data: [1, 2] } }), /want \[rank, in\]/);
  refused(buildSafetensors({ 'lora_unet_a.lora_down.weight': pair['lora_unet_a.lora_down.weight'] }), /no up tensor/);
  refused(buildSafetensors({ ...pair, 'lora_unet_a.alpha': { shape: [2], data: [1, 2] } }), /alpha has shape \[2\]/);
  refused(buildSafetensors({ ...pair, 'something_else': { shape: [1], data: [1] } }), /not a LoRA key/);
  refused(buildSafetensors({}), /no LoRA tensors/);
});

test('mutated and truncated files only ever give LoraFormatError', () => {
  const good = new Uint8Array(readFileSync(join(FIXTURES, FILES.kohya)));
  const headerEnd = 8 + Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  let refused = 0;
  for (let i = 0; i < 400; i++) {
    const bytes = good.slice(0, i % 5 === 0 ? rand(good.length) : good.length);
    const flips = 1 + rand(4);
    // Mostly the length prefix and the JSON header, where structure lives.
    for (let f = 0; f < flips && bytes.length > 0; f++) bytes[rand(Math.min(bytes.length, headerEnd + 64))] = rand(256);
    try {
      readLora(bytes);
    } catch (err) {
      assert.ok(err instanceof LoraFormatError, `mutation ${i}: ${(err as Error).stack}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} of 400 mutations refused`);
});
