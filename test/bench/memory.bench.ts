/**
 * Issue #11, memory and the first job: peak RSS per case, step time, and the first job's step
 * times against a steady job's, with warm-up at the job's size (WARMUP_SIZES) on and off. Each
 * case runs in its own process, so its peak RSS (getrusage maxrss) is its own.
 * Cases: the tiny model at 512² and, when BENCH_MODEL_DIR names a full-size export, that model
 * at its native size (BENCH_MODEL_STEPS steps, default 3). BENCH_WARMUP=on|off picks one warm-up
 * setting (default both); BENCH_TINY=0 leaves the tiny model out; BENCH_ORT_ARENA=1 runs the UNet with
 * ONNX Runtime's CPU arena (as ORT_CPU_MEM_ARENA=true does; the default is without). Per graph (Linux): the peak RSS
 * while it ran and how much of it the graph added over what the process held before it ran
 * (support/graph-peaks.ts). With no full-size export at hand, scripts/make-random-sd15-export.ts
 * writes one with SD 1.5's shapes and random weights.
 *   scripts/node test/bench/memory.bench.ts
 *   BENCH_MODEL_DIR=/tmp/random-sd15 BENCH_WARMUP=off scripts/node test/bench/memory.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';
import { graphWeightBytes, sumBytes } from '../../packages/engine/src/models/weight-bytes.ts';
import { readModelInfo } from '../../packages/engine/src/models/model-info.ts';
import { GraphPeaks } from './support/graph-peaks.ts';

interface Case { label: string; dir: string; size: number; steps: number; warmup: boolean }
interface Measured {
  weightsMiB: number; loadMs: number; rssAfterLoadMiB: number; peakRssMiB: number; peakOverWeights: number;
  firstStepsMs: number[]; steadyStepMs: number; firstJobMs: number; steadyJobMs: number;
  /** Per graph: peak RSS while it ran, and the most one run added over the RSS before it (MiB). */
  graphs: Record<string, { peakMiB: number; addedMiB: number }>;
}
const mib = (n: number) => Math.round(n / 2 ** 20);

async function measure(c: Case): Promise<Measured> {
  const weights = sumBytes(await graphWeightBytes(c.dir));
  const t0 = performance.now();
  const arena = process.env.BENCH_ORT_ARENA === undefined ? {} : { enableCpuMemArena: !['0', 'false'].includes(process.env.BENCH_ORT_ARENA) };
  const pipe = await StableDiffusionPipeline.load(c.dir, { ...arena, warmup: c.warmup, warmupSizes: c.warmup ? [{ width: c.size, height: c.size }] : [] });
  const loadMs = performance.now() - t0;
  const rssAfterLoad = process.memoryUsage().rss;
  const peaks = new GraphPeaks();
  const m = pipe.models;
  for (const [name, model] of [['text_encoder', m.textEncoder], ['unet', m.unet], ['vae_decoder', m.vaeDecoder]] as const) peaks.track(name, model.session);
  const job = async () => {
    const marks: number[] = [];
    const start = performance.now();
    await pipe.generate({ mode: 'txt2img', prompt: 'a lighthouse at dusk', width: c.size, height: c.size, steps: c.steps, guidanceScale: 7.5, seed: 1, numImages: 1 },
      { onStep: () => marks.push(performance.now()) });
    const steps = marks.map((m, i) => m - (i === 0 ? start : marks[i - 1]!));
    return { steps, total: performance.now() - start };
  };
  const first = await job();
  const steady = await job();
  const peak = Math.max(peaks.peak(), process.resourceUsage().maxRSS * 1024); // maxRSS: what loading reached, were nothing tracked
  await pipe.release();
  const later = steady.steps.slice(1); // step 1 also includes the text encoder
  return {
    weightsMiB: mib(weights), loadMs: Math.round(loadMs), rssAfterLoadMiB: mib(rssAfterLoad), peakRssMiB: mib(peak),
    peakOverWeights: +(peak / weights).toFixed(2),
    firstStepsMs: first.steps.map((s) => Math.round(s)),
    steadyStepMs: Math.round(later.reduce((a, b) => a + b, 0) / Math.max(1, later.length)),
    firstJobMs: Math.round(first.total), steadyJobMs: Math.round(steady.total),
    graphs: Object.fromEntries(Object.entries(peaks.graphs).map(([g, p]) => [g, { peakMiB: mib(p.peak), addedMiB: mib(p.added) }])),
  };
}

const arg = process.argv.indexOf('--case');
if (arg > 0) {
  console.log(JSON.stringify(await measure(JSON.parse(process.argv[arg + 1]!) as Case)));
} else {
  const cases: Case[] = [];
  const tiny = resolve(import.meta.dirname, '../../models/tiny-sd15');
  const warmups = process.env.BENCH_WARMUP === 'on' ? [true] : process.env.BENCH_WARMUP === 'off' ? [false] : [true, false];
  if (process.env.BENCH_TINY !== '0') for (const warmup of warmups) cases.push({ label: 'tiny-sd15 512²', dir: tiny, size: 512, steps: 6, warmup });
  const full = process.env.BENCH_MODEL_DIR;
  if (full) {
    const info = await readModelInfo(full);
    const steps = Number(process.env.BENCH_MODEL_STEPS ?? 3);
    for (const warmup of warmups) cases.push({ label: `${info.id} ${info.nativeSize}²`, dir: full, size: info.nativeSize, steps, warmup });
  }
  const rows = [];
  for (const c of cases) {
    const r = spawnSync(process.execPath, [import.meta.filename, '--case', JSON.stringify(c)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('{')) { rows.push({ case: c.label, warmup: c.warmup, error: `exit ${r.status ?? r.signal}` }); continue; }
    const m = JSON.parse(line) as Measured;
    rows.push({
      case: c.label, warmup: c.warmup, 'weights MiB': m.weightsMiB, 'load ms': m.loadMs, 'RSS after load MiB': m.rssAfterLoadMiB,
      'peak RSS MiB': m.peakRssMiB, 'peak/weights': m.peakOverWeights, 'first job steps ms': m.firstStepsMs.join(' '),
      'steady ms/step': m.steadyStepMs, 'first job ms': m.firstJobMs, 'steady job ms': m.steadyJobMs,
      ...Object.fromEntries(Object.entries(m.graphs).map(([g, p]) => [`${g} peak (+added) MiB`, `${p.peakMiB} (+${p.addedMiB})`])),
    });
  }
  console.log('memory and first job: txt2img, CFG 7.5, one process per case (peak RSS = getrusage maxrss of that process)');
  console.log('warm-up on = one step at the job\'s size while loading (WARMUP_SIZES); off = none. Goal: peak RSS ≤ 1.5× weights at 512².');
  console.table(rows);
  if (!full) console.log('(set BENCH_MODEL_DIR to a full-size export folder to add it)');
}
