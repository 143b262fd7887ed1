// LCMScheduler (diffusers 0.27.2): latent consistency model multistep sampling. Each step maps
// to the consistency-model estimate, then re-noises to the next timestep (one draw per step but the last).
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { AlphaSchedulerBase } from './common/alpha-base.ts';
import { BASE_DEFAULTS, predictionTypeOf, rejectRescaleBetasZeroSnr, withDefaults } from './common/config-defaults.ts';
import { npLinspace } from './common/numpy-math.ts';
import { StepIndex } from './common/step-index.ts';
import { postprocessX0 } from './common/threshold.ts';
import { predictX0 } from './common/prediction.ts';
import { axpby } from './common/tensor-ops.ts';

export const LCM_DEFAULTS = {
  ...BASE_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  timestep_spacing: 'leading',
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
} as const;

const SIGMA_DATA = 0.5;

export class LCMScheduler extends AlphaSchedulerBase implements Scheduler {
  private readonly index = new StepIndex();

  constructor(config: Partial<SchedulerConfig>) {
    const c = withDefaults(LCM_DEFAULTS, config);
    rejectRescaleBetasZeroSnr(c, 'LCMScheduler');
    super('LCMScheduler', c);
  }

  /** `strength` < 1 (img2img) shortens the distillation schedule the steps are taken from, as diffusers does. */
  override setTimesteps(numInferenceSteps: number, strength = 1): void {
    const T = this.config.num_train_timesteps;
    const original = Number(this.config.original_inference_steps);
    if (original > T) throw new Error(`LCMScheduler: original_inference_steps ${original} exceeds num_train_timesteps ${T}`);
    if (numInferenceSteps > T) throw new Error(`LCMScheduler: num_inference_steps ${numInferenceSteps} exceeds num_train_timesteps ${T}`);
    if (numInferenceSteps > original) {
      throw new Error(`LCMScheduler: num_inference_steps ${numInferenceSteps} cannot exceed original_inference_steps ${original}`);
    }
    const k = Math.floor(T / original);
    const m = Math.floor(original * strength);
    if (Math.floor(m / numInferenceSteps) < 1) {
      throw new Error(`LCMScheduler: original_inference_steps × strength (${m}) is smaller than num_inference_steps ${numInferenceSteps}`);
    }
    // The distillation schedule [k-1, 2k-1, ..., m*k-1], descending, sampled at evenly spaced indices.
    const idx = npLinspace(0, m, numInferenceSteps, false);
    const ts = new Float64Array(numInferenceSteps);
    for (let i = 0; i < numInferenceSteps; i++) ts[i] = (m - Math.floor(idx[i]!)) * k - 1;
    this.timesteps = ts;
    this.numInferenceSteps = numInferenceSteps;
    this.index.reset();
  }

  setBeginIndex(index: number): void {
    this.index.begin = index;
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: StepOptions = {}): SchedulerStepOutput {
    const n = this.requireTimesteps();
    const t = Math.round(timestep);
    const i = this.index.current(t, this.timesteps);
    const prevT = i + 1 < this.timesteps.length ? this.timesteps[i + 1]! : t;
    const aT = this.alphasCumprod[t]!;
    const aPrev = this.alphaProdPrev(prevT);

    // Boundary-condition scalings of the consistency model (c_skip -> 1, c_out -> 0 as t -> 0).
    const st = t * Number(this.config.timestep_scaling);
    const cSkip = SIGMA_DATA ** 2 / (st * st + SIGMA_DATA ** 2);
    const cOut = st / Math.sqrt(st * st + SIGMA_DATA ** 2);

    const type = predictionTypeOf(this.config, this.className);
    const x0 = postprocessX0(this.config, predictX0(type, modelOutput.data, sample.data, Math.sqrt(aT), Math.sqrt(1 - aT)), sample.dims);
    const denoised = axpby(cOut, x0, cSkip, sample.data);

    let prev = denoised;
    if (i !== n - 1) {
      if (!options.generator) throw new Error('LCMScheduler: step needs a generator');
      const noise = randnTensor(modelOutput.dims, options.generator);
      prev = axpby(Math.sqrt(aPrev), denoised, Math.sqrt(1 - aPrev), noise);
    }
    this.index.step = i + 1;
    // predOriginalSample carries LCM's `denoised`, which its pipeline decodes.
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: denoised, dims: sample.dims } };
  }
}
