/**
 * Engine overhead: wall time per denoising step and the share of wall time spent outside
 * onnxruntime's session.run (goal ≤ 2%), for the tiny model at 64×64 and at 512×512 output
 * (SD-sized 64×64×4 latents), CFG batch 2.
 */
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StableDiffusionPipeline } from '../../packages/engine/src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateRequest } from '../../packages/engine/src/pipelines/types.ts';
import type { InferenceSession } from 'onnxruntime-node';

const MODEL = resolve(import.meta.dirname, '../../models/tiny-sd15');
// 512×512 steps take ~1 s on 2 cores: fewer steps and repeats there keep the bench to ~1 minute.
const CASES = [
  { size: 64, steps: 50, repeats: 3, schedulers: ['default', 'euler_a', 'dpmpp_2m'] },
  { size: 512, steps: Number(process.env.BENCH_STEPS_512 ?? 8), repeats: 1, schedulers: ['default', 'euler_a'] },
];

let inRun = 0;
function timeRuns(session: InferenceSession): void {
  const original = session.run.bind(session) as (...a: unknown[]) => Promise<InferenceSession.ReturnType>;
  (session as { run: unknown }).run = async (...args: unknown[]) => {
    const t0 = performance.now();
    try {
      return await original(...args);
    } finally {
      inRun += performance.now() - t0;
    }
  };
}

const pipe = await StableDiffusionPipeline.load(MODEL, { warmup: true });
const m = pipe.models;
for (const s of [m.textEncoder.session, m.unet.session, m.vaeDecoder.session, m.vaeEncoder?.session]) if (s) timeRuns(s);

interface Row { case: string; scheduler: string; steps: number; msPerStep: number; loopOutside: number; totalMs: number; totalOutside: number }
const rows: Row[] = [];

for (const { size, steps: STEPS, repeats, schedulers } of CASES) {
  for (const scheduler of schedulers) {
    const req: GenerateRequest = { mode: 'txt2img', prompt: 'a lighthouse at dusk', width: size, height: size, steps: STEPS, guidanceScale: 7.5, scheduler, seed: 1, numImages: 1 };
    await pipe.generate({ ...req, steps: 2 }); // warm this size
    let best: Row | null = null;
    for (let r = 0; r < repeats; r++) {
      let loopStart = 0, loopEnd = 0, runAtLoopStart = 0, runAtLoopEnd = 0, steps = 0;
      inRun = 0;
      const t0 = performance.now();
      await pipe.generate(req, {
        onStep: (step) => {
          // Step 1 ends the first UNet call; measure steps 2..n between callbacks.
          if (step === 1) { loopStart = performance.now(); runAtLoopStart = inRun; }
          loopEnd = performance.now(); runAtLoopEnd = inRun; steps = step - 1;
        },
      });
      const total = performance.now() - t0;
      const loop = loopEnd - loopStart;
      const row: Row = {
        case: `tiny-sd15 ${size}×${size}`, scheduler, steps: STEPS, msPerStep: loop / steps,
        loopOutside: (loop - (runAtLoopEnd - runAtLoopStart)) / loop, totalMs: total, totalOutside: (total - inRun) / total,
      };
      if (!best || row.totalMs < best.totalMs) best = row;
    }
    rows.push(best!);
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
console.log('engine bench: txt2img, CFG 7.5 (UNet batch 2), best run; outside = wall time not in session.run');
console.log('(loop: steps 2..n of the denoising loop; whole job: text encoder, loop, VAE decode, image bytes)');
console.table(rows.map((r) => ({
  case: r.case, scheduler: r.scheduler, steps: r.steps, 'ms/step': r.msPerStep.toFixed(2), 'outside (loop)': pct(r.loopOutside),
  'total ms': r.totalMs.toFixed(1), 'outside (whole job)': pct(r.totalOutside),
})));
await pipe.release();
