// State shared by the sigma-indexed multistep schedulers (DPM-Solver multistep/single-step, UniPC,
// DEIS): the schedule, the step index and diffusers' begin-index rules, and add_noise by sigma.
import type { Latents } from '../../tensor.ts';
import type { SchedulerConfig } from '../config.ts';
import { alphasCumprodFor } from './noise-schedule.ts';
import { alphaSigma } from './vp-sigmas.ts';
import { axpby } from './tensor-ops.ts';

export class VpSigmaBase {
  name: string;
  readonly className: string;
  readonly config: SchedulerConfig;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly alphasCumprod: Float32Array;
  timesteps: Float64Array = new Float64Array(0);
  /** One per timestep plus the final sigma. */
  sigmas: Float32Array = new Float32Array(0);
  protected stepIndex: number | null = null;
  protected beginIndex: number | null = null;
  protected numInferenceSteps: number | null = null;

  constructor(className: string, config: SchedulerConfig) {
    this.className = className;
    this.name = className;
    this.config = config;
    this.alphasCumprod = alphasCumprodFor(config);
  }

  setBeginIndex(index: number): void {
    this.beginIndex = index;
  }

  scaleModelInput(sample: Latents, _timestep: number): Latents {
    return sample;
  }

  /** diffusers' index_for_timestep: the second match if the timestep repeats, the last index if absent. */
  protected indexForTimestep(t: number): number {
    const matches: number[] = [];
    for (let i = 0; i < this.timesteps.length && matches.length < 2; i++) if (this.timesteps[i] === t) matches.push(i);
    if (matches.length === 0) return this.timesteps.length - 1;
    return matches.length > 1 ? matches[1]! : matches[0]!;
  }

  /** The step index for this call (initialised on the first step). */
  protected currentStepIndex(timestep: number): number {
    if (this.numInferenceSteps === null) throw new Error(`${this.className}: call setTimesteps before step`);
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? this.indexForTimestep(timestep);
    return this.stepIndex;
  }

  protected resetStepState(): void {
    this.stepIndex = null;
    this.beginIndex = null;
  }

  /** alpha_t, sigma_t and lambda_t (log-SNR / 2) at schedule index i. */
  protected at(i: number): { alpha: number; sigma: number; lambda: number } {
    return alphaSigma(this.sigmas[i]!);
  }

  addNoise(original: Latents, noise: Latents, timestep: number): Latents {
    const idx = this.beginIndex === null ? this.indexForTimestep(timestep) : (this.stepIndex ?? this.beginIndex);
    const { alpha, sigma } = this.at(idx);
    return { data: axpby(alpha, original.data, sigma, noise.data), dims: original.dims };
  }
}
