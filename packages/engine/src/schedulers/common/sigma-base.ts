// State shared by the k-diffusion-style schedulers (Euler, Euler ancestral, LMS, Heun, KDPM2): the
// config with the class's defaults, the training sigmas, diffusers' step / begin index, the
// sigma-scaled model input and add_noise by sigma.
import type { Latents } from '../../tensor.ts';
import type { SchedulerConfig } from '../config.ts';
import { withDefaults } from './config-defaults.ts';
import { discreteTrainSigmas, initNoiseSigmaFor } from './discrete-sigmas.ts';
import { StepIndex } from './step-index.ts';
import { addNoiseWithSigma, scaleBySigma } from './sigma-ops.ts';

export class DiscreteSigmaBase {
  readonly config: Readonly<SchedulerConfig>;
  timesteps: Float64Array = new Float64Array(0);
  /** float32 sigmas per schedule entry, ending with 0. */
  sigmas: Float32Array = new Float32Array(0);
  /** The training sigmas, ascending with the timestep. */
  protected readonly trainSigmas: Float32Array;
  protected readonly index = new StepIndex();

  /**
   * `unsupportedSample`: the class name when the class rejects prediction_type "sample" (diffusers
   * raises on it at its first step; here at construction).
   */
  constructor(defaults: Record<string, unknown>, config: Partial<SchedulerConfig>, unsupportedSample?: string) {
    this.config = withDefaults(defaults, config);
    if (unsupportedSample && this.config.prediction_type === 'sample') {
      throw new Error(`prediction_type not implemented yet: sample (${unsupportedSample})`);
    }
    this.trainSigmas = discreteTrainSigmas(this.config);
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestep_spacing);
  }

  get stepIndex(): number | null { return this.index.step; }
  get beginIndex(): number | null { return this.index.begin; }
  setBeginIndex(index: number): void { this.index.begin = index; }

  /** The sigma scale_model_input divides by at schedule index i (KDPM2 overrides it). */
  protected inputSigma(i: number): number {
    return this.sigmas[i]!;
  }

  scaleModelInput(sample: Latents, timestep: number): Latents {
    return scaleBySigma(sample, this.inputSigma(this.index.current(timestep, this.timesteps)));
  }

  addNoise(originalSamples: Latents, noise: Latents, timestep: number): Latents {
    return addNoiseWithSigma(originalSamples, noise, this.sigmas[this.index.forAddNoise(timestep, this.timesteps)]!);
  }

  /**
   * Before set_timesteps (diffusers' __init__ for Euler / Euler ancestral): the full training
   * schedule, descending, with a trailing 0 sigma.
   */
  protected setTrainingSchedule(): void {
    const T = this.config.num_train_timesteps;
    this.sigmas = new Float32Array(T + 1);
    for (let i = 0; i < T; i++) this.sigmas[i] = this.trainSigmas[T - 1 - i]!;
    this.timesteps = new Float64Array(T);
    for (let i = 0; i < T; i++) this.timesteps[i] = T - 1 - i;
  }
}
