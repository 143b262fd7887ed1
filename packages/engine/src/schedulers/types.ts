import type { Latents } from '../tensor.ts';
import type { NoiseGenerator } from '../random/noise-generator.ts';

/** diffusers' SchedulerOutput. */
export interface SchedulerStepOutput {
  prevSample: Latents;
  predOriginalSample?: Latents;
}

export interface StepOptions {
  /** The job's generator(s); Euler-type / ancestral / SDE schedulers draw from it each step. */
  generator?: NoiseGenerator | readonly NoiseGenerator[];
  /** DDIM eta (default 0). */
  eta?: number;
}

/**
 * The diffusers scheduler contract. A scheduler knows nothing of the UNet: the pipeline calls
 * setTimesteps once, then for each t of `timesteps`: scaleModelInput → (UNet) → step.
 */
export interface Scheduler {
  readonly name: string;
  /** The diffusers class this reproduces (e.g. "EulerDiscreteScheduler"). */
  readonly className: string;
  readonly config: Readonly<import('./config.ts').SchedulerConfig>;
  /** Timesteps to run, in order, as the values passed to the UNet (may be fractional). */
  readonly timesteps: Float64Array;
  readonly initNoiseSigma: number;
  /** Solver order (PNDM/Heun/KDPM2 repeat timesteps: the pipeline must step through all of them). */
  readonly order: number;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Latents, timestep: number): Latents;
  step(modelOutput: Latents, timestep: number, sample: Latents, options?: StepOptions): SchedulerStepOutput;
  addNoise(originalSamples: Latents, noise: Latents, timestep: number): Latents;
  /** img2img: index into `timesteps` where a partial run starts (diffusers' set_begin_index). */
  setBeginIndex?(index: number): void;
}
