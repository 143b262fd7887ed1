/**
 * Issue #11, cross-request batching: images/s for 1, 2, 4 and 8 concurrent compatible jobs,
 * batching on (one generateBatch: one UNet call per step for all) vs off (the jobs one after
 * another, as a worker without batching runs them), in the same run, on the tiny model at 64² and
 * 256², with the mean latency per job (off: a job waits for those before it). Goal on this CPU:
 * ≥ 1.5× images/s at 64² with 4 jobs. Both UNet memory settings run (ORT_CPU_MEM_ARENA false, the
 * default, and true): without the arena every UNet call takes its activations from the system and
 * returns them: for a small model like this one that is most of a call on VMs where page faults
 * are expensive (the 256² rows), and a batch's larger activations pay it where one job's may not.
 *   scripts/node test/bench/batching.bench.ts [--steps 20] [--threads N] [--arena false|true]
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';
import { generateBatch } from '../../packages/engine/src/pipelines/batch-generate.ts';
import type { GenerateRequest } from '../../packages/engine/src/pipelines/types.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, threads: { type: 'string' }, model: { type: 'string' }, arena: { type: 'string' } } });
const steps = Number(values.steps);
const dir = values.model ?? resolve(import.meta.dirname, '../../models/tiny-sd15');
const arenas = values.arena === undefined ? [false, true] : [values.arena === 'true'];

const jobsOf = (n: number, size: number): GenerateRequest[] => Array.from({ length: n }, (_, i) => ({
  mode: 'txt2img', prompt: `a lighthouse at dusk, variant ${i}`, width: size, height: size, steps, guidanceScale: 5 + i, seed: 100 + i,
  numImages: 1, scheduler: 'euler_a',
}));

interface Row { arena: boolean; size: string; jobs: number; 'off img/s': number; 'on img/s': number; speedup: number; 'off mean latency ms': number; 'on mean latency ms': number }
const rows: Row[] = [];
for (const arena of arenas) {
  const pipe = await StableDiffusionPipeline.load(dir, {
    warmupSizes: [{ width: 64, height: 64 }, { width: 256, height: 256 }], enableCpuMemArena: arena,
    ...(values.threads ? { intraOpNumThreads: Number(values.threads) } : {}),
  });
  for (const size of [64, 256]) {
    await generateBatch(pipe, jobsOf(2, size).map((request) => ({ request }))); // warm the batched shapes
    for (const n of [1, 2, 4, 8]) {
      const reqs = jobsOf(n, size);
      // Off: one after another; each job's latency counts from the common start.
      let t0 = performance.now();
      let latency = 0;
      for (const r of reqs) { await pipe.generate(r); latency += performance.now() - t0; }
      const off = performance.now() - t0;
      const offLatency = latency / n;
      // On: all in one batch; every job ends with the batch.
      t0 = performance.now();
      const settled = await generateBatch(pipe, reqs.map((request) => ({ request })));
      const on = performance.now() - t0;
      if (settled.some((s) => s.status === 'rejected')) throw new Error('a batched job failed');
      rows.push({
        arena, size: `${size}²`, jobs: n, 'off img/s': +(n / (off / 1000)).toFixed(2), 'on img/s': +(n / (on / 1000)).toFixed(2),
        speedup: +(off / on).toFixed(2), 'off mean latency ms': Math.round(offLatency), 'on mean latency ms': Math.round(on),
      });
    }
  }
  await pipe.release();
}
console.log(`batching bench: tiny model, txt2img euler_a, ${steps} steps, CFG; off = jobs one after another, on = one batch; arena = ORT_CPU_MEM_ARENA`);
console.table(rows);
for (const arena of arenas) {
  const goal = rows.find((r) => r.arena === arena && r.size === '64²' && r.jobs === 4)!;
  console.log(`goal ≥ 1.5× images/s at 64² with 4 jobs, ORT_CPU_MEM_ARENA=${arena}${arena ? '' : ' (default)'}: ${goal.speedup}× (${goal.speedup >= 1.5 ? 'met' : 'not met'})`);
}
