// diffusers 0.27.2 EulerDiscreteScheduler (Karras et al. 2022, algorithm 2; k-diffusion's
// sample_euler). step() draws one noise tensor every call, even when s_churn is 0 and the noise is
// unused, because diffusers does and the draw advances the job's generator.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import {
  StepIndex, addNoiseWithSigma, derivativeOf, eulerUpdate, initNoiseSigmaFor, interpSigmas, karrasSigmas,
  logF32, predictOriginal, scaleBySigma, sigmaAlphasCumprod, sigmaTimesteps, sigmaToT, trainSigmas, withClassDefaults,
} from './common/sigmas.ts';
import { linspaceF32 } from './common/noise-schedule.ts';

const f = Math.fround;

export const EULER_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
} as const;

/** Euler's churn parameters (diffusers' step kwargs; pipelines leave them at these defaults). */
export interface EulerStepOptions extends StepOptions {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export class EulerDiscreteScheduler implements Scheduler {
  readonly name = 'euler';
  readonly className = 'EulerDiscreteScheduler';
  readonly order = 1;
  readonly config: Readonly<SchedulerConfig>;
  timesteps: Float64Array;
  /** sigmas per step, float32, with a trailing 0. */
  sigmas: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly index = new StepIndex();

  constructor(config: Partial<SchedulerConfig>) {
    this.config = withClassDefaults(EULER_DEFAULTS, config);
    this.trainSigmas = trainSigmas(sigmaAlphasCumprod(this.config));
    // Before set_timesteps: the full training schedule, descending (diffusers' __init__).
    const T = this.config.num_train_timesteps;
    this.sigmas = new Float32Array(T + 1);
    for (let i = 0; i < T; i++) this.sigmas[i] = this.trainSigmas[T - 1 - i]!;
    this.timesteps = new Float64Array(T);
    for (let i = 0; i < T; i++) this.timesteps[i] = T - 1 - i;
    if (this.continuousV()) this.timesteps = this.continuousTimesteps(this.sigmas.subarray(0, T));
  }

  get initNoiseSigma(): number {
    return initNoiseSigmaFor(this.sigmas, this.config.timestep_spacing);
  }

  get stepIndex(): number | null { return this.index.step; }
  get beginIndex(): number | null { return this.index.begin; }
  setBeginIndex(index: number): void { this.index.begin = index; }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    let timesteps: ArrayLike<number> = sigmaTimesteps(this.config, n);
    const logSigmas = logF32(this.trainSigmas);
    let sigmas: ArrayLike<number>;
    const interpolation = this.config.interpolation_type;
    if (interpolation === 'linear') {
      sigmas = interpSigmas(timesteps, this.trainSigmas);
    } else if (interpolation === 'log_linear') {
      // diffusers' log_linear: n + 1 float32 values, ascending (kept as diffusers has it).
      const ts = this.trainSigmas;
      const lin = linspaceF32(Math.log(ts[ts.length - 1]!), Math.log(ts[0]!), n + 1);
      sigmas = lin.map((v) => f(Math.exp(v)));
    } else {
      throw new Error(`${String(interpolation)} is not implemented. Please specify interpolation_type to either 'linear' or 'log_linear'`);
    }
    if (this.config.use_karras_sigmas) {
      const smin = (this.config.sigma_min as number | null | undefined) ?? sigmas[sigmas.length - 1]!;
      const smax = (this.config.sigma_max as number | null | undefined) ?? sigmas[0]!;
      const k = karrasSigmas(smin, smax, n);
      sigmas = k;
      timesteps = k.map((s) => sigmaToT(s, logSigmas));
    }
    const m = sigmas.length;
    this.sigmas = new Float32Array(m + 1);
    for (let i = 0; i < m; i++) this.sigmas[i] = sigmas[i]!;
    this.timesteps = this.continuousV()
      ? this.continuousTimesteps(this.sigmas.subarray(0, m))
      : Float64Array.from(Float32Array.from(timesteps));
    this.index.reset();
  }

  scaleModelInput(sample: Latents, timestep: number): Latents {
    const i = this.index.current(timestep, this.timesteps);
    return scaleBySigma(sample, this.sigmas[i]!);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: EulerStepOptions = {}): SchedulerStepOutput {
    const i = this.index.current(timestep, this.timesteps);
    const sChurn = options.sChurn ?? 0, sTmin = options.sTmin ?? 0, sTmax = options.sTmax ?? Infinity;
    const sNoise = options.sNoise ?? 1;
    const sigma = this.sigmas[i]!;
    const gamma = sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), 2 ** 0.5 - 1) : 0;
    // The draw happens whether or not gamma uses it (diffusers draws unconditionally).
    const noise = options.generator ? randnTensor(modelOutput.dims, options.generator) : null;
    const sigmaHat = f(sigma * f(gamma + 1));
    let x = sample.data;
    if (gamma > 0) {
      if (!noise) throw new Error('EulerDiscreteScheduler: s_churn > 0 needs a generator');
      const churn = f(Math.sqrt(f(f(sigmaHat * sigmaHat) - f(sigma * sigma))));
      const y = new Float32Array(x.length);
      for (let j = 0; j < x.length; j++) y[j] = x[j]! + f(f(noise[j]! * sNoise) * churn);
      x = y;
    }
    const x0 = predictOriginal(this.config.prediction_type, this.className, modelOutput.data, x, sigma, sigmaHat);
    const derivative = derivativeOf(x, x0, sigmaHat);
    const dt = f(this.sigmas[i + 1]! - sigmaHat);
    const prev = eulerUpdate(x, derivative, dt);
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }

  addNoise(originalSamples: Latents, noise: Latents, timestep: number): Latents {
    return addNoiseWithSigma(originalSamples, noise, this.sigmas[this.index.forAddNoise(timestep, this.timesteps)]!);
  }

  private continuousV(): boolean {
    return this.config.timestep_type === 'continuous' && this.config.prediction_type === 'v_prediction';
  }

  /** timestep_type "continuous" with v_prediction: t = 0.25 * log(sigma), float32. */
  private continuousTimesteps(sigmas: Float32Array): Float64Array {
    const out = new Float64Array(sigmas.length);
    for (let i = 0; i < sigmas.length; i++) out[i] = f(0.25 * f(Math.log(sigmas[i]!)));
    return out;
  }
}
