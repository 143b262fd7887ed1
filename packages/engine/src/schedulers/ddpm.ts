// DDPMScheduler (diffusers 0.27.2): ancestral sampling; draws variance noise at every t > 0.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { AlphaSchedulerBase } from './common/alpha-base.ts';
import { BASE_DEFAULTS, predictionTypeOf, rejectRescaleBetasZeroSnr, withDefaults } from './common/config-defaults.ts';
import { postprocessX0 } from './common/threshold.ts';
import { predictX0 } from './common/prediction.ts';
import { axpby } from './common/tensor-ops.ts';

export const DDPM_DEFAULTS = {
  ...BASE_DEFAULTS,
  variance_type: 'fixed_small',
  clip_sample: true,
  clip_sample_range: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
} as const;

export class DDPMScheduler extends AlphaSchedulerBase implements Scheduler {
  constructor(config: Partial<SchedulerConfig>) {
    const c = withDefaults(DDPM_DEFAULTS, config);
    rejectRescaleBetasZeroSnr(c, 'DDPMScheduler');
    const v = c.variance_type;
    if (v !== 'fixed_small' && v !== 'fixed_small_log' && v !== 'fixed_large') {
      throw new Error(`DDPMScheduler: variance_type "${String(v)}" is not supported (fixed_small, fixed_small_log, fixed_large)`);
    }
    super('DDPMScheduler', c);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: StepOptions = {}): SchedulerStepOutput {
    const n = this.numInferenceSteps ?? this.config.num_train_timesteps;
    const t = Math.round(timestep);
    const prevT = t - Math.floor(this.config.num_train_timesteps / n);
    const aT = this.alphasCumprod[t]!;
    const aPrev = prevT >= 0 ? this.alphasCumprod[prevT]! : 1;
    const bT = 1 - aT, bPrev = 1 - aPrev;
    const curAlpha = aT / aPrev, curBeta = 1 - curAlpha;

    const type = predictionTypeOf(this.config, this.className);
    const x0 = postprocessX0(this.config, predictX0(type, modelOutput.data, sample.data, Math.sqrt(aT), Math.sqrt(bT)), sample.dims);
    // Formula (7) of the DDPM paper: the posterior mean.
    const prev = axpby((Math.sqrt(aPrev) * curBeta) / bT, x0, (Math.sqrt(curAlpha) * bPrev) / bT, sample.data);

    if (t > 0) {
      if (!options.generator) throw new Error('DDPMScheduler: step needs a generator for its variance noise');
      const noise = randnTensor(modelOutput.dims, options.generator);
      const variance = Math.max((bPrev / bT) * curBeta, 1e-20);
      const std = this.config.variance_type === 'fixed_large' ? Math.sqrt(curBeta)
        : this.config.variance_type === 'fixed_small_log' ? Math.exp(0.5 * Math.log(variance))
        : Math.sqrt(variance);
      for (let i = 0; i < prev.length; i++) prev[i] = prev[i]! + std * noise[i]!;
    }
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
