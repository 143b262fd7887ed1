// State shared by the sigma-indexed multistep schedulers (DPM-Solver multistep/single-step, UniPC,
// DEIS): the schedule, the step index and diffusers' begin-index rules, add_noise by sigma, the x0
// conversion and the first-order (DDIM-like) update they all use.
import type { Latents } from '../../tensor.ts';
import type { SchedulerConfig } from '../config.ts';
import { AlphaSchedulerBase } from './alpha-base.ts';
import { StepIndex } from './step-index.ts';
import { alphaSigma, vpSigmaSchedule, type FinalSigma } from './vp-sigmas.ts';
import { predictionTypeOf } from './config-defaults.ts';
import { predictX0 } from './prediction.ts';
import { thresholdX0InPlace } from './threshold.ts';
import { axpby } from './tensor-ops.ts';

export class VpSigmaBase extends AlphaSchedulerBase {
  /** One per timestep plus the final sigma. */
  sigmas: Float32Array = new Float32Array(0);
  /** index_for_timestep falls back to the last index here, as the DPM-Solver family does. */
  protected readonly index = new StepIndex(true);
  /** Converted model outputs of the last steps, newest last (null until filled). */
  protected modelOutputs: (Float32Array | null)[] = [];

  constructor(className: string, config: SchedulerConfig) {
    super(className, config);
  }

  setBeginIndex(index: number): void {
    this.index.begin = index;
  }

  /**
   * set_timesteps' common part: the sigmas for `baseTimesteps` (Karras when configured), ending as
   * `final` says, and a fresh step index and model-output history of `historyLength` entries.
   */
  protected applySchedule(baseTimesteps: Float64Array, final: FinalSigma, historyLength: number): void {
    const { timesteps, sigmas } = vpSigmaSchedule(this.alphasCumprod, baseTimesteps, !!this.config.use_karras_sigmas, final);
    this.timesteps = timesteps;
    this.sigmas = sigmas;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array(historyLength).fill(null);
    this.index.reset();
  }

  /** DPM-Solver's `final_sigmas_type`. */
  protected dpmFinalSigma(): 'zero' | 'sigma_min' {
    const final = this.config.final_sigmas_type;
    if (final !== 'zero' && final !== 'sigma_min') throw new Error(`final_sigmas_type must be "zero" or "sigma_min", got ${String(final)}`);
    return final;
  }

  /** The step index for this call (initialised on the first step). */
  protected currentStepIndex(timestep: number): number {
    this.requireTimesteps();
    return this.index.current(timestep, this.timesteps);
  }

  /** alpha_t, sigma_t and lambda_t (log-SNR / 2) at schedule index i. */
  protected at(i: number): { alpha: number; sigma: number; lambda: number } {
    return alphaSigma(this.sigmas[i]!);
  }

  /** The model output as x0 at schedule index i, dynamically thresholded when configured. */
  protected dataPrediction(m: Float32Array, sample: Float32Array, dims: readonly number[], i: number): Float32Array {
    const { alpha, sigma } = this.at(i);
    return thresholdX0InPlace(this.config, predictX0(predictionTypeOf(this.config, this.className), m, sample, alpha, sigma), dims);
  }

  /**
   * The first-order step from index i to i + 1: DPM-Solver++ on an x0 prediction
   * (`dataPrediction`), else DPM-Solver (= DDIM) on an epsilon prediction.
   */
  protected firstOrderUpdate(isDataPrediction: boolean, m0: Float32Array, x: Float32Array, i: number): Float32Array {
    const t = this.at(i + 1), s = this.at(i);
    const h = t.lambda - s.lambda;
    return isDataPrediction
      ? axpby(t.sigma / s.sigma, x, -t.alpha * Math.expm1(-h), m0)
      : axpby(t.alpha / s.alpha, x, -t.sigma * Math.expm1(h), m0);
  }

  override addNoise(original: Latents, noise: Latents, timestep: number): Latents {
    const { alpha, sigma } = this.at(this.index.forAddNoise(timestep, this.timesteps));
    return { data: axpby(alpha, original.data, sigma, noise.data), dims: original.dims };
  }
}
