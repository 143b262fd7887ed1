/**
 * What a preview shows: the scheduler's predicted clean latents (x0) when it can tell, else the
 * current noisy latents. x0 is the image the model is heading for: recognisable from the first
 * steps, where the current latents are mostly noise (which is also what A1111 and ComfyUI show).
 * Euler-type, LMS, Heun, KDPM2, DDIM, DDPM and LCM return x0 from step(); for the other alpha-schedule
 * schedulers (PNDM, DPM-Solver, UniPC, DEIS) it is computed from the step's inputs:
 * x0 = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t (or the v-prediction form). Only the first image is previewed.
 */
import type { Scheduler, SchedulerStepOutput } from '../schedulers/types.ts';
import { predictionTypeOf } from '../schedulers/common/config-defaults.ts';
import { predictX0 } from '../schedulers/common/prediction.ts';

export interface StepTensors {
  scheduler: Scheduler;
  /** The step's result (prevSample, maybe predOriginalSample). */
  out: SchedulerStepOutput;
  /** x_t: the latents the step started from. */
  sample: Float32Array;
  /** The (guided) model output of the step. */
  modelOutput: Float32Array;
  timestep: number;
  /** Elements of one image (c × h × w). */
  perImage: number;
}

export function previewLatents(s: StepTensors): { latents: Float32Array; source: 'x0' | 'latents' } {
  const n = s.perImage;
  if (s.out.predOriginalSample) return { latents: s.out.predOriginalSample.data.subarray(0, n), source: 'x0' };
  const alphas = (s.scheduler as Partial<{ alphasCumprod: Float32Array }>).alphasCumprod;
  const t = Math.round(s.timestep);
  const a = alphas && s.scheduler.initNoiseSigma === 1 ? alphas[t] : undefined;
  if (a !== undefined && a > 0) {
    const type = predictionTypeOf(s.scheduler.config, s.scheduler.className);
    return { latents: predictX0(type, s.modelOutput.subarray(0, n), s.sample.subarray(0, n), Math.sqrt(a), Math.sqrt(1 - a)), source: 'x0' };
  }
  return { latents: s.out.prevSample.data.subarray(0, n), source: 'latents' };
}
