// diffusers 0.27.2 EulerAncestralDiscreteScheduler (k-diffusion's sample_euler_ancestral, eta 1):
// an Euler step down to sigma_down, then fresh noise of scale sigma_up, one draw per step.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { DiscreteSigmaBase } from './common/sigma-base.ts';
import { sigmaTimesteps } from './common/discrete-sigmas.ts';
import { derivativeOf, predictOriginal } from './common/sigma-ops.ts';
import { npInterp } from './common/numpy-math.ts';
import { TRAINING_DEFAULTS } from './common/config-defaults.ts';

const f = Math.fround;

export const EULER_ANCESTRAL_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  timestep_spacing: 'linspace',
  rescale_betas_zero_snr: false,
} as const;

export class EulerAncestralDiscreteScheduler extends DiscreteSigmaBase implements Scheduler {
  readonly name = 'euler_a';
  readonly className = 'EulerAncestralDiscreteScheduler';
  readonly order = 1;

  constructor(config: Partial<SchedulerConfig>) {
    super(EULER_ANCESTRAL_DEFAULTS, config, 'EulerAncestralDiscreteScheduler');
    this.setTrainingSchedule();
  }

  setTimesteps(numInferenceSteps: number): void {
    const timesteps = sigmaTimesteps(this.config, numInferenceSteps);
    const sigmas = npInterp(timesteps, this.trainSigmas);
    this.sigmas = new Float32Array(sigmas.length + 1);
    this.sigmas.set(sigmas);
    this.timesteps = Float64Array.from(timesteps);
    this.index.reset();
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: StepOptions = {}): SchedulerStepOutput {
    const i = this.index.current(timestep, this.timesteps);
    if (!options.generator) throw new Error('EulerAncestralDiscreteScheduler.step needs a generator');
    const sigma = this.sigmas[i]!;
    const x = sample.data;
    const x0 = predictOriginal(this.config.prediction_type, this.className, modelOutput.data, x, sigma);

    // sigma_up = sqrt(to² (from² - to²) / from²), sigma_down = sqrt(to² - up²), float32 scalars.
    const from2 = f(sigma * sigma);
    const sigmaTo = this.sigmas[i + 1]!;
    const to2 = f(sigmaTo * sigmaTo);
    const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);

    const derivative = derivativeOf(x, x0, sigma);
    const noise = randnTensor(modelOutput.dims, options.generator);
    const n = x.length;
    const prev = new Float32Array(n);
    for (let j = 0; j < n; j++) prev[j] = f(x[j]! + f(derivative[j]! * dt)) + f(noise[j]! * sigmaUp);
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
