// diffusers 0.27.2 EulerAncestralDiscreteScheduler (k-diffusion's sample_euler_ancestral, eta 1):
// an Euler step down to sigma_down, then fresh noise of scale sigma_up, one draw per step.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import {
  StepIndex, addNoiseWithSigma, derivativeOf, initNoiseSigmaFor, interpSigmas, predictOriginal, scaleBySigma,
  sigmaAlphasCumprod, sigmaTimesteps, trainSigmas, withClassDefaults,
} from './common/sigmas.ts';

const f = Math.fround;

export const EULER_ANCESTRAL_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
} as const;

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly name = 'euler_a';
  readonly className = 'EulerAncestralDiscreteScheduler';
  readonly order = 1;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: Float64Array;
  /** sigmas per step, float32, with a trailing 0. */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();

  constructor(config: Partial<SchedulerConfig>) {
    this.config = withClassDefaults(EULER_ANCESTRAL_DEFAULTS, config);
    if (this.config.prediction_type === 'sample') throw new Error('prediction_type not implemented yet: sample (EulerAncestralDiscreteScheduler)');
    this.trainSigmas = trainSigmas(sigmaAlphasCumprod(this.config));
    const T = this.config.num_train_timesteps;
    this.sigmas = new Float32Array(T + 1);
    for (let i = 0; i < T; i++) this.sigmas[i] = this.trainSigmas[T - 1 - i]!;
    this.timesteps = new Float64Array(T);
    for (let i = 0; i < T; i++) this.timesteps[i] = T - 1 - i;
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestep_spacing);
  }

  get stepIndex(): number | null { return this.index.step; }
  get beginIndex(): number | null { return this.index.begin; }
  setBeginIndex(index: number): void { this.index.begin = index; }

  setTimesteps(numInferenceSteps: number): void {
    const timesteps = sigmaTimesteps(this.config, numInferenceSteps);
    const sigmas = interpSigmas(timesteps, this.trainSigmas);
    this.sigmas = new Float32Array(sigmas.length + 1);
    this.sigmas.set(sigmas);
    this.timesteps = Float64Array.from(timesteps);
    this.index.reset();
  }

  scaleModelInput(sample: Latents, timestep: number): Latents {
    const i = this.index.current(timestep, this.timesteps);
    return scaleBySigma(sample, this.sigmas[i]!);
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

  addNoise(originalSamples: Latents, noise: Latents, timestep: number): Latents {
    return addNoiseWithSigma(originalSamples, noise, this.sigmas[this.index.forAddNoise(timestep, this.timesteps)]!);
  }
}
