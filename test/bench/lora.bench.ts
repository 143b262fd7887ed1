/**
 * LoRA cost on the tiny model: time to apply a LoRA set (read + merge + new text-encoder/UNet
 * sessions; the graph index is cached after the first merge, as in a running worker), a cache hit,
 * and ms per denoising step with and without the LoRA (fused weights: the same work per step).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadLoraFile, mergeLoras, sha256Hex } from '../../packages/lora/src/index.ts';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';
import { LoraPipelineCache } from '../../packages/engine/src/runtime/lora-pipelines.ts';
import type { EngineLora, GenerateRequest } from '../../packages/engine/src/pipelines/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIX = join(ROOT, 'test/fixtures/lora');
const lora = (file: string, scale: number): EngineLora => {
  const path = join(FIX, file);
  return { name: file, file: path, sha256: sha256Hex(readFileSync(path)), scale };
};
const SETS: Record<string, EngineLora[]> = {
  '1 LoRA (kohya)': [lora('tiny-sd15-lora.kohya.safetensors', 0.8)],
  '2 LoRAs (kohya + peft)': [lora('tiny-sd15-lora.kohya.safetensors', 0.5), lora('tiny-sd15-lora.peft.safetensors', 0.5)],
};
const REPEATS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const pipe = await StableDiffusionPipeline.load(join(ROOT, 'models/tiny-sd15'), { warmup: true });
const rows: Array<Record<string, string>> = [];
for (const [label, set] of Object.entries(SETS)) {
  const apps = await Promise.all(set.map(async (l) => ({ name: l.name, adapter: (await loadLoraFile(l.file)).adapter, scale: l.scale })));
  await mergeLoras(pipe.info.dir, apps); // index the graphs once
  const mergeOnly: number[] = [];
  const apply: number[] = [];
  const hit: number[] = [];
  let rss = 0;
  for (let r = 0; r < REPEATS; r++) {
    let t0 = performance.now();
    await mergeLoras(pipe.info.dir, apps);
    mergeOnly.push(performance.now() - t0);
    const cache = new LoraPipelineCache({ max: 1 });
    const before = process.memoryUsage().rss;
    t0 = performance.now();
    await cache.get('tiny-sd15', pipe, set);
    apply.push(performance.now() - t0);
    rss = Math.max(rss, process.memoryUsage().rss - before);
    t0 = performance.now();
    await cache.get('tiny-sd15', pipe, set);
    hit.push(performance.now() - t0);
    await cache.releaseAll();
  }
  rows.push({
    set: label, 'merge (bytes) ms': median(mergeOnly).toFixed(1), 'apply (merge + sessions) ms': median(apply).toFixed(1),
    'cache hit ms': median(hit).toFixed(3), 'rss growth MiB': (rss / 2 ** 20).toFixed(1),
  });
}
console.log('Applying a LoRA set to tiny-sd15 (median of', REPEATS, 'runs)');
console.table(rows);

const steps: Array<Record<string, string>> = [];
const cache = new LoraPipelineCache({ max: 1 });
const withLora = await cache.get('tiny-sd15', pipe, SETS['1 LoRA (kohya)']!);
for (const size of [64, 256]) {
  const req: GenerateRequest = { mode: 'txt2img', prompt: 'a lighthouse', width: size, height: size, steps: 20, guidanceScale: 7.5, seed: 1, numImages: 1 };
  const stepMs = async (p: StableDiffusionPipeline) => {
    let first = 0, last = 0, n = 0;
    await p.generate(req, { onStep: (s) => { if (s === 1) first = performance.now(); last = performance.now(); n = s - 1; } });
    return (last - first) / n;
  };
  await pipe.generate({ ...req, steps: 2 });
  await withLora.generate({ ...req, steps: 2 });
  // Interleaved, so load from other processes hits both sides alike.
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 5; r++) { a.push(await stepMs(pipe)); b.push(await stepMs(withLora)); }
  const plain = median(a);
  const lorad = median(b);
  steps.push({ size: `${size}×${size}`, 'ms/step without': plain.toFixed(2), 'ms/step with LoRA': lorad.toFixed(2), ratio: (lorad / plain).toFixed(3) });
}
console.log('Denoising step time, 20 steps, CFG (median of 5, interleaved)');
console.table(steps);
await cache.releaseAll();
await pipe.release();
