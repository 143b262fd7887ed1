// DDIMScheduler (diffusers 0.27.2): deterministic (eta = 0) or stochastic DDIM steps.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { AlphaSchedulerBase } from './common/alpha-base.ts';
import { BASE_DEFAULTS, predictionTypeOf, rejectRescaleBetasZeroSnr, withDefaults } from './common/config-defaults.ts';
import { postprocessX0 } from './common/threshold.ts';
import { predictEpsilon, predictX0 } from './common/prediction.ts';
import { axpby } from './common/tensor-ops.ts';

export const DDIM_DEFAULTS = {
  ...BASE_DEFAULTS,
  clip_sample: true,
  set_alpha_to_one: true,
  clip_sample_range: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
} as const;

export class DDIMScheduler extends AlphaSchedulerBase implements Scheduler {
  constructor(config: Partial<SchedulerConfig>) {
    const c = withDefaults(DDIM_DEFAULTS, config);
    rejectRescaleBetasZeroSnr(c, 'DDIMScheduler');
    super('DDIMScheduler', c);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: StepOptions = {}): SchedulerStepOutput {
    const n = this.requireTimesteps();
    const t = Math.round(timestep);
    const prevT = t - Math.floor(this.config.num_train_timesteps / n);
    const aT = this.alphasCumprod[t]!;
    const aPrev = this.alphaProdPrev(prevT);
    const bT = 1 - aT;
    const type = predictionTypeOf(this.config, this.className);

    const x0 = postprocessX0(this.config, predictX0(type, modelOutput.data, sample.data, Math.sqrt(aT), Math.sqrt(bT)), sample.dims);
    // eps from the unclipped prediction (use_clipped_model_output = false, diffusers' default).
    const eps = predictEpsilon(type, modelOutput.data, sample.data, Math.sqrt(aT), Math.sqrt(bT));

    const eta = options.eta ?? 0;
    const variance = ((1 - aPrev) / bT) * (1 - aT / aPrev);
    const stdDev = eta * Math.sqrt(variance);
    const prev = axpby(Math.sqrt(aPrev), x0, Math.sqrt(1 - aPrev - stdDev * stdDev), eps);
    if (eta > 0) {
      if (!options.generator) throw new Error('DDIMScheduler: eta > 0 needs a generator');
      const noise = randnTensor(modelOutput.dims, options.generator);
      for (let i = 0; i < prev.length; i++) prev[i] = prev[i]! + stdDev * noise[i]!;
    }
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
