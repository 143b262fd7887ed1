// diffusers 0.27.2 EulerDiscreteScheduler (Karras et al. 2022, algorithm 2; k-diffusion's
// sample_euler). step() draws one noise tensor every call, even when s_churn is 0 and the noise is
// unused, because diffusers does and the draw advances the job's generator.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { DiscreteSigmaBase } from './common/sigma-base.ts';
import { configKarrasSigmas, sigmaTimesteps } from './common/discrete-sigmas.ts';
import { derivativeOf, eulerUpdate, predictOriginal } from './common/sigma-ops.ts';
import { sigmaToT } from './common/karras.ts';
import { logF32, npInterp } from './common/numpy-math.ts';
import { linspaceF32 } from './common/noise-schedule.ts';
import { TRAINING_DEFAULTS } from './common/config-defaults.ts';

const f = Math.fround;

export const EULER_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  rescale_betas_zero_snr: false,
} as const;

/** Euler's churn parameters (diffusers' step kwargs; pipelines leave them at these defaults). */
export interface EulerStepOptions extends StepOptions {
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
}

export class EulerDiscreteScheduler extends DiscreteSigmaBase implements Scheduler {
  readonly name = 'euler';
  readonly className = 'EulerDiscreteScheduler';
  readonly order = 1;

  constructor(config: Partial<SchedulerConfig>) {
    super(EULER_DEFAULTS, config);
    this.setTrainingSchedule();
    const T = this.config.num_train_timesteps;
    if (this.continuousV()) this.timesteps = this.continuousTimesteps(this.sigmas.subarray(0, T));
  }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    let timesteps: ArrayLike<number> = sigmaTimesteps(this.config, n);
    const logSigmas = logF32(this.trainSigmas);
    let sigmas: ArrayLike<number>;
    const interpolation = this.config.interpolation_type;
    if (interpolation === 'linear') {
      sigmas = npInterp(timesteps, this.trainSigmas);
    } else if (interpolation === 'log_linear') {
      // diffusers' log_linear: n + 1 float32 values, ascending (kept as diffusers has it).
      const ts = this.trainSigmas;
      const lin = linspaceF32(Math.log(ts[ts.length - 1]!), Math.log(ts[0]!), n + 1);
      sigmas = lin.map((v) => f(Math.exp(v)));
    } else {
      throw new Error(`${String(interpolation)} is not implemented. Please specify interpolation_type to either 'linear' or 'log_linear'`);
    }
    if (this.config.use_karras_sigmas) {
      const k = configKarrasSigmas(this.config, sigmas, n);
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
