/**
 * Live previews (#9): wall time per denoising step with a preview after every step vs none, for the
 * tiny model at 64×64 and 512×512 output, CFG 7.5: the linear latent→RGB map, and a TAESD-shaped
 * graph in vae_approx/ (the test stub: one ConvTranspose to 8× size, so this times the plumbing and
 * an 8×-size RGB conversion, not a real TAESD's convolutions — with a real export, time it the same
 * way by putting its model.onnx into a copy of the model folder: BENCH_TAESD=/path/to/model.onnx).
 * Also: encoding one preview as the worker does (WebP q50 / JPEG q60, off the engine thread).
 */
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateRequest } from '../../packages/engine/src/pipelines/types.ts';
import type { PreviewImage } from '../../packages/engine/src/preview/step-previewer.ts';
import { latentsToRgb, SD_LATENT_RGB } from '../../packages/engine/src/preview/latent-rgb.ts';
import { TAESD_PATH } from '../../packages/engine/src/preview/preview-decoders.ts';
import { buildTaesdStub } from '../../packages/engine/test/support/taesd-stub.ts';
import { encodeImage } from '../../packages/images/src/index.ts';

const MODEL = resolve(import.meta.dirname, '../../models/tiny-sd15');
const CASES = [
  { size: 64, steps: 30, repeats: 5 },
  { size: 512, steps: Number(process.env.BENCH_STEPS_512 ?? 6), repeats: 2 },
];

// tiny-sd15 with a vae_approx/model.onnx (symlinked graphs).
const dir = await mkdtemp(join(tmpdir(), 'sdsvc-preview-bench-'));
const taesdModel = join(dir, 'tiny-sd15');
await mkdir(join(taesdModel, 'vae_approx'), { recursive: true });
for (const entry of await readdir(MODEL)) await symlink(join(MODEL, entry), join(taesdModel, entry));
if (process.env.BENCH_TAESD) await copyFile(process.env.BENCH_TAESD, join(taesdModel, TAESD_PATH));
else await writeFile(join(taesdModel, TAESD_PATH), buildTaesdStub(SD_LATENT_RGB));

const linear = await StableDiffusionPipeline.load(MODEL, { warmup: false, log: () => {} });
const taesd = await StableDiffusionPipeline.load(taesdModel, { warmup: false, log: () => {} });

interface Row { case: string; previews: string; msPerStep: number; overhead: string; previewSize: string }
const rows: Row[] = [];
const encodeRows: Array<Record<string, string>> = [];

for (const { size, steps, repeats } of CASES) {
  const req: GenerateRequest = { mode: 'txt2img', prompt: 'a lighthouse at dusk', width: size, height: size, steps, guidanceScale: 7.5, scheduler: 'euler_a', seed: 1, numImages: 1 };
  const variants = [
    { name: 'none', pipe: linear, preview: false },
    { name: 'linear, every step', pipe: linear, preview: true },
    { name: `${process.env.BENCH_TAESD ? 'TAESD' : 'TAESD stub'}, every step`, pipe: taesd, preview: true },
  ];
  // Variants alternate within each repeat so machine drift hits them alike; the best run counts.
  const best = variants.map(() => Infinity);
  const shown: Array<PreviewImage | null> = variants.map(() => null);
  for (const v of variants) await v.pipe.generate({ ...req, steps: 2 }, v.preview ? { preview: { everySteps: 1, onPreview: () => {} } } : {}); // warm
  for (let r = 0; r < repeats; r++) {
    for (const [i, v] of variants.entries()) {
      let start = 0, end = 0, n = 0;
      await v.pipe.generate(req, {
        ...(v.preview ? { preview: { everySteps: 1, onPreview: (img: PreviewImage) => { shown[i] = img; } } } : {}),
        // Steps 2..n, between callbacks (onStep follows the step's preview).
        onStep: (step) => { if (step === 1) start = performance.now(); end = performance.now(); n = step - 1; },
      });
      best[i] = Math.min(best[i]!, (end - start) / n);
    }
  }
  for (const [i, v] of variants.entries()) {
    const img = shown[i] ?? null;
    rows.push({
      case: `${size}×${size}, ${steps} steps`, previews: v.name, msPerStep: best[i]!,
      overhead: v.preview ? `${(best[i]! - best[0]!).toFixed(2)} ms (${(((best[i]! - best[0]!) / best[0]!) * 100).toFixed(1)}%)` : '—',
      previewSize: img ? `${img.width}×${img.height}` : '—',
    });
    if (!img) continue;
    for (const format of ['webp', 'jpeg'] as const) {
      const quality = format === 'webp' ? 50 : 60;
      let bytes = 0;
      const N = 20;
      const t0 = performance.now();
      for (let k = 0; k < N; k++) bytes = (await encodeImage(img, { format, quality, provenance: false })).length;
      encodeRows.push({ preview: `${v.name.split(',')[0]} ${img.width}×${img.height}`, format: `${format} q${quality}`, 'ms/encode': ((performance.now() - t0) / N).toFixed(2), bytes: String(bytes) });
    }
  }
}

// The preview's own compute, alone (step timings on a shared machine drift more than it costs).
const micro: Array<Record<string, string>> = [];
const taesdDecoder = await taesd.previews.get();
for (const { size } of CASES) {
  const h = size / 8;
  const z = Float32Array.from({ length: 4 * h * h }, (_, i) => Math.sin(i));
  const time = async (n: number, fn: () => unknown) => { await fn(); const t0 = performance.now(); for (let i = 0; i < n; i++) await fn(); return (performance.now() - t0) / n; };
  micro.push({ latents: `${h}×${h}`, decoder: 'linear', 'ms/preview': (await time(50, () => latentsToRgb(z, h, h, SD_LATENT_RGB))).toFixed(3) });
  if (taesdDecoder?.kind === 'taesd') micro.push({ latents: `${h}×${h}`, decoder: process.env.BENCH_TAESD ? 'TAESD' : 'TAESD stub', 'ms/preview': (await time(5, () => taesdDecoder.taesd.decode(z, 4, h, h))).toFixed(3) });
}

console.log('previews bench: tiny-sd15 txt2img, euler_a, CFG 7.5 (UNet batch 2); ms per denoising step (steps 2..n, best run)');
console.table(rows.map((r) => ({ case: r.case, previews: r.previews, 'ms/step': r.msPerStep.toFixed(2), 'per step vs none': r.overhead, 'preview size': r.previewSize })));
console.log('one preview alone (x0 → RGB on the engine thread)');
console.table(micro);
console.log('encoding one preview in the worker (sharp, off the engine thread), mean of 20');
console.table(encodeRows);
await linear.release();
await taesd.release();
await rm(dir, { recursive: true, force: true });
