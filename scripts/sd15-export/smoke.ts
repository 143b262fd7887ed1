/**
 * Checks an export from make-random-sd15-export.ts end to end: StableDiffusionPipeline.load, one
 * 512² txt2img job (2 steps, CFG), every probed tensor and the VAE's output finite, the image the
 * requested size; prints the timings and the peak RSS.
 *   scripts/node scripts/sd15-export/smoke.ts <export-dir> [size] [steps]
 */
import { performance } from 'node:perf_hooks';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';

const [dir, sizeArg = '512', stepsArg = '2'] = process.argv.slice(2);
if (!dir) throw new Error('usage: scripts/node scripts/sd15-export/smoke.ts <export-dir> [size] [steps]');
const size = Number(sizeArg);
const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
const finite = (name: string, data: Float32Array) => {
  let bad = 0, lo = Infinity, hi = -Infinity;
  for (const v of data) { if (!Number.isFinite(v)) bad++; else { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
  console.log(`  ${name}: ${data.length} values in [${lo.toFixed(3)}, ${hi.toFixed(3)}]${bad ? `, ${bad} NOT FINITE` : ''}`);
  if (bad) process.exitCode = 1;
};

let t = performance.now();
const pipe = await StableDiffusionPipeline.load(dir, { warmup: false });
console.log(`load: ${Math.round(performance.now() - t)} ms, RSS ${gib(process.memoryUsage().rss)}`);
t = performance.now();
let last: Float32Array | undefined, lastDims: readonly number[] = [];
const marks: number[] = [];
const res = await pipe.generate(
  { mode: 'txt2img', prompt: 'a lighthouse at dusk', width: size, height: size, steps: Number(stepsArg), guidanceScale: 7.5, seed: 1, numImages: 1 },
  {
    onStep: () => marks.push(performance.now()),
    probe: (name, data, dims) => { finite(`${name} [${dims.join(', ')}]`, data); if (dims.length === 4 && dims[1] === 4) { last = data.slice(); lastDims = dims; } },
  },
);
console.log(`job: ${Math.round(performance.now() - t)} ms; steps end at ${marks.map((m) => Math.round(m - t)).join(', ')} ms`);
const img = res.images[0]!;
console.log(`image: ${img.width}×${img.height}, ${img.data.length} bytes, ${new Set(img.data).size} distinct byte values`);
if (img.width !== size || img.height !== size || img.data.length !== size * size * 3) { console.log('WRONG IMAGE SIZE'); process.exitCode = 1; }
if (last) {
  const z = last.subarray(0, 4 * lastDims[2]! * lastDims[3]!).map((v) => v / pipe.info.scalingFactor);
  const decoded = await pipe.models.vaeDecoder.run(z, [1, 4, lastDims[2]!, lastDims[3]!]);
  finite(`vae_decoder sample [${decoded.dims.join(', ')}]`, decoded.data);
}
console.log(`peak RSS: ${gib(process.resourceUsage().maxRSS * 1024)}`);
await pipe.release();
