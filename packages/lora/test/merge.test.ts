// Merging into ONNX graphs: the fixture LoRA in every naming and scale against diffusers' fused
// weights (within 1e-7), and synthetic one-node graphs for float16, bfloat16, Gemm and external
// data, each run through ONNX Runtime from the patched bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  checkLorasFit, indexOnnxGraph, loadLoraFile, LoraIncompatibleError, mergeLoras, OnnxFormatError, parseSafetensors, readLora, type PatchedGraph,
} from '../src/index.ts';
import { buildModel, buildSafetensors } from './support/onnx-builder.ts';

const ROOT = join(import.meta.dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/lora');
const MODEL = join(ROOT, 'models/tiny-sd15');
const FILES = ['tiny-sd15-lora.kohya.safetensors', 'pytorch_lora_weights.safetensors', 'tiny-sd15-lora.peft.safetensors'];

/** W [out, in] of every patched target, read back from the patched bytes through a fresh index. */
function mergedWeights(component: string, g: PatchedGraph): Map<string, Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'lora-merge-'));
  writeFileSync(join(dir, 'model.onnx'), g.model);
  const index = indexOnnxGraph(join(dir, 'model.onnx'));
  const out = new Map<string, Float32Array>();
  for (const [module, node] of index.modules) {
    const init = index.initializers.get(node.weight!)!;
    if (!init || init.data?.kind !== 'inline' || init.dims.length !== 2) continue;
    const stored = new Float32Array(g.model.slice(init.data.offset, init.data.offset + init.data.length).buffer);
    const [inn, outn] = init.dims as [number, number];
    const w = new Float32Array(inn * outn);
    for (let i = 0; i < inn; i++) for (let o = 0; o < outn; o++) w[o * inn + i] = stored[i * outn + o]!;
    out.set(`${component}.${module}.weight`, w);
  }
  return out;
}

for (const file of FILES) {
  for (const scale of ['1.0', '0.5']) {
    test(`${file} at scale ${scale}: merged weights within 1e-7 of diffusers' fuse_lora`, async () => {
      const lora = await loadLoraFile(join(FIXTURES, file));
      const merged = await mergeLoras(MODEL, [{ name: file, adapter: lora.adapter, scale: Number(scale) }]);
      assert.equal(merged.patched, 40);
      const golden = parseSafetensors(readFileSync(join(FIXTURES, `merged_s${scale}.safetensors`))).tensors;
      let checked = 0;
      for (const [component, g] of Object.entries(merged.graphs)) {
        for (const [key, w] of mergedWeights(component, g)) {
          const want = golden.get(key);
          if (!want) continue;
          let d = 0;
          for (let i = 0; i < w.length; i++) d = Math.max(d, Math.abs(w[i]! - want.data[i]!));
          assert.ok(d <= 1e-7, `${key}: max diff ${d}`);
          checked++;
        }
      }
      assert.equal(checked, golden.size);
      assert.equal(checked, 40);
    });
  }
}

test('two LoRAs add their deltas; scale 0 leaves the graph byte-identical', async () => {
  const kohya = (await loadLoraFile(join(FIXTURES, FILES[0]!))).adapter;
  const peft = (await loadLoraFile(join(FIXTURES, FILES[2]!))).adapter;
  const twice = await mergeLoras(MODEL, [{ name: 'a', adapter: kohya, scale: 0.5 }, { name: 'b', adapter: peft, scale: 0.5 }]);
  const once = await mergeLoras(MODEL, [{ name: 'a', adapter: kohya, scale: 1 }]);
  const a = mergedWeights('unet', twice.graphs.unet!);
  const b = mergedWeights('unet', once.graphs.unet!);
  for (const [k, w] of a) for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i]! - b.get(k)![i]!) <= 1e-7, k);
  const zero = await mergeLoras(MODEL, [{ name: 'a', adapter: kohya, scale: 0 }]);
  assert.deepEqual(zero.graphs.unet!.model, new Uint8Array(readFileSync(join(MODEL, 'unet/model.onnx'))));
});

test('a LoRA that does not fit names the first module: missing node, shape mismatch, missing component', async () => {
  const pair = (prefix: string, out: number, inn: number) => ({
    [`${prefix}.lora_down.weight`]: { shape: [1, inn], data: Array(inn).fill(0.1) },
    [`${prefix}.lora_up.weight`]: { shape: [out, 1], data: Array(out).fill(0.1) },
  });
  const fits = async (tensors: Parameters<typeof buildSafetensors>[0]) =>
    checkLorasFit(MODEL, [{ name: 'bad', adapter: readLora(buildSafetensors(tensors)), scale: 1 }]);
  await assert.rejects(fits(pair('lora_unet_down_blocks_9_attentions_0_proj', 32, 32)),
    (e: unknown) => e instanceof LoraIncompatibleError && e.module === 'lora_unet_down_blocks_9_attentions_0_proj' && /no Linear or Conv weight/.test(e.message));
  await assert.rejects(fits(pair('lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k', 64, 64)),
    (e: unknown) => e instanceof LoraIncompatibleError && /is \[out 64, in 64\] in the LoRA but the graph's weight .* is \[32, 64\]/.test(e.message));
  await assert.rejects(fits(pair('lora_te2_text_model_encoder_layers_0_self_attn_q_proj', 32, 32)),
    (e: unknown) => e instanceof LoraIncompatibleError && /targets the text_encoder_2, which this model does not have/.test(e.message));
  // A path that is only the tail of many modules matches none of them.
  await assert.rejects(fits(pair('lora_unet_attn1_to_q', 32, 32)), (e: unknown) => e instanceof LoraIncompatibleError && /no Linear or Conv weight/.test(e.message));
  await fits(pair('lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k', 64, 32));
});

function indexFromBytes(model: Uint8Array) {
  const dir = mkdtempSync(join(tmpdir(), 'lora-idx-'));
  writeFileSync(join(dir, 'model.onnx'), model);
  return indexOnnxGraph(join(dir, 'model.onnx'));
}

// Y = X·W for one row X, in float64, from W stored [in, out].
function matvec(x: number[], w: number[], inn: number, out: number): number[] {
  return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + xi * w[i * out + o]!, 0));
}

const CASES = [
  { label: 'float32 MatMul, external data', op: 'MatMul', dataType: 1, external: 'weights.bin' },
  { label: 'float16 MatMul', op: 'MatMul', dataType: 10 },
  { label: 'float32 Gemm transB', op: 'Gemm', dataType: 1 },
  { label: 'float16 Gemm transB, external data', op: 'Gemm', dataType: 10, external: 'w.data' },
] as const;

for (const c of CASES) {
  test(`${c.label}: the patched graph holds W + delta (float32 graphs: run in ONNX Runtime)`, async () => {
    const inn = 3;
    const out = 2;
    const w = [0.5, -1, 0.25, 2, 1, -0.5]; // W^T [in, out]
    const stored = c.op === 'Gemm' ? Array.from({ length: 6 }, (_, k) => w[(k % inn) * out + Math.floor(k / inn)]!) : w;
    const bytes = c.dataType === 1 ? new Uint8Array(new Float32Array(stored).buffer) : new Uint8Array(new Float16Array(stored).buffer);
    const dir = mkdtempSync(join(tmpdir(), 'lora-graph-'));
    const node = `/blocks.0/attn/to_q/${c.op}`;
    writeFileSync(join(dir, 'model.onnx'), buildModel({
      op: c.op, node, dataType: c.dataType, dims: c.op === 'Gemm' ? [out, inn] : [inn, out], weight: bytes,
      ...('external' in c ? { external: c.external } : {}),
    }));
    if ('external' in c) writeFileSync(join(dir, c.external), bytes);
    const down = [1, 0, 0.5]; // [rank 1, in 3]
    const up = [0.25, -0.5]; // [out 2, rank 1]
    const adapter = readLora(buildSafetensors({
      'lora_unet_blocks_0_attn_to_q.lora_down.weight': { shape: [1, inn], data: down, dtype: 'F16' },
      'lora_unet_blocks_0_attn_to_q.lora_up.weight': { shape: [out, 1], data: up, dtype: 'BF16' },
      'lora_unet_blocks_0_attn_to_q.alpha': { shape: [], data: [2] },
    }));
    const unetDir = join(dir, 'unet');
    mkdirSync(unetDir);
    for (const f of ['model.onnx', ...('external' in c ? [c.external] : [])]) renameSync(join(dir, f), join(unetDir, f));
    const merged = await mergeLoras(dir, [{ name: 'syn', adapter, scale: 0.5 }]);
    const g = merged.graphs.unet!;
    assert.equal(g.externalData.length, 'external' in c ? 1 : 0);
    // W'^T[i][o] = W^T[i][o] + (alpha / rank · scale) · up[o] · down[i]
    const wantW = w.map((v, k) => v + 2 * 0.5 * up[k % out]! * down[Math.floor(k / out)]!);
    if (c.dataType === 1) {
      const session = await ort.InferenceSession.create(g.model, { externalData: g.externalData });
      const x = [1, 2, -1];
      const y = (await session.run({ X: new ort.Tensor('float32', new Float32Array(x), [1, inn]) })).Y!.data as Float32Array;
      await session.release();
      const want = matvec(x, wantW, inn, out);
      for (let o = 0; o < out; o++) assert.ok(Math.abs(y[o]! - want[o]!) <= 1e-6, `Y[${o}] = ${y[o]}, want ${want[o]}`);
    } else {
      // onnxruntime-node 1.30 cannot take Float16Array inputs on Node 24, so read the stored halves back.
      const buf = 'external' in c ? g.externalData[0]!.data : g.model;
      const at = 'external' in c ? 0 : indexFromBytes(g.model).initializers.get('onnx::W_1')!.data!.offset;
      const halves = Array.from(new Float16Array(buf.slice(at, at + 12).buffer));
      const got = c.op === 'Gemm' ? Array.from({ length: 6 }, (_, k) => halves[(k % out) * inn + Math.floor(k / out)]!) : halves;
      for (let k = 0; k < 6; k++) assert.equal(got[k], Math.f16round(wantW[k]!), `W'[${k}]`);
    }
    // The original files are untouched.
    const original = 'external' in c ? readFileSync(join(unetDir, c.external)) : null;
    if (original) assert.deepEqual(new Uint8Array(original), bytes);
  });
}

test('a truncated or garbled graph is an OnnxFormatError naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-bad-onnx-'));
  const model = readFileSync(join(MODEL, 'unet/model.onnx'));
  for (const [name, bytes] of [['cut.onnx', model.subarray(0, 5000)], ['junk.onnx', Buffer.from('\xff\xff\xff\xff not protobuf', 'latin1')]] as const) {
    writeFileSync(join(dir, name), bytes);
    assert.throws(() => indexOnnxGraph(join(dir, name)), (e: unknown) => e instanceof OnnxFormatError && e.message.includes(name));
  }
});
