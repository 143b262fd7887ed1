// diffusers 0.27.2 HeunDiscreteScheduler (Karras et al. 2022, algorithm 1 with gamma 0): every
// timestep after the first appears twice; the first call takes an Euler step and remembers it, the
// second (at the same timestep, i.e. at the predicted point) averages the two derivatives.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { DiscreteSigmaBase } from './common/sigma-base.ts';
import { configKarrasSigmas, repeatAfterFirst, sigmaTimesteps } from './common/discrete-sigmas.ts';
import { derivativeOf, eulerUpdate, predictOriginal } from './common/sigma-ops.ts';
import { sigmaToT } from './common/karras.ts';
import { logF32, npInterp } from './common/numpy-math.ts';
import { TRAINING_DEFAULTS } from './common/config-defaults.ts';

const f = Math.fround;

export const HEUN_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  use_karras_sigmas: false,
  clip_sample: false,
  clip_sample_range: 1.0,
  timestep_spacing: 'linspace',
} as const;

/** sigmas, float32: [σ0, σ1, σ1, …, σn-1, σn-1, 0]. */
export class HeunDiscreteScheduler extends DiscreteSigmaBase implements Scheduler {
  readonly name = 'heun';
  readonly className = 'HeunDiscreteScheduler';
  readonly order = 2;
  // State between the first-order call and its correction (null: next call is first order).
  private prevDerivative: Float32Array | null = null;
  private dt: number | null = null;
  private firstSample: Float32Array | null = null;

  constructor(config: Partial<SchedulerConfig>) {
    super(HEUN_DEFAULTS, config);
    this.setTimesteps(this.config.num_train_timesteps);
  }

  /** True when the next step() is a first-order (Euler) step. */
  get stateInFirstOrder(): boolean { return this.dt === null; }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    const ts32 = sigmaTimesteps(this.config, n);
    let sigmas: Float64Array = npInterp(ts32, this.trainSigmas);
    let timesteps: ArrayLike<number> = ts32;
    if (this.config.use_karras_sigmas) {
      sigmas = configKarrasSigmas(this.config, sigmas, n);
      const logSigmas = logF32(this.trainSigmas);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas)); // float64, as diffusers leaves them
    }
    const m = sigmas.length;
    this.sigmas = new Float32Array(2 * m);
    repeatAfterFirst(Float32Array.from(sigmas), this.sigmas); // last slot stays 0
    this.timesteps = new Float64Array(2 * timesteps.length - 1);
    repeatAfterFirst(timesteps, this.timesteps);
    this.prevDerivative = null;
    this.dt = null;
    this.firstSample = null;
    this.index.reset();
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, _options: StepOptions = {}): SchedulerStepOutput {
    const i = this.index.current(timestep, this.timesteps);
    const first = this.stateInFirstOrder;
    const sigma = first ? this.sigmas[i]! : this.sigmas[i - 1]!;
    const sigmaNext = first ? this.sigmas[i + 1]! : this.sigmas[i]!;
    const sigmaInput = first ? sigma : sigmaNext; // gamma = 0, so sigma_hat = sigma
    const x = sample.data;
    const x0 = predictOriginal(this.config.prediction_type, this.className, modelOutput.data, x, sigmaInput);
    if (this.config.clip_sample) {
      const r = this.config.clip_sample_range ?? 1;
      for (let j = 0; j < x0.length; j++) x0[j] = Math.min(r, Math.max(-r, x0[j]!));
    }
    let prev: Float32Array;
    if (first) {
      const derivative = derivativeOf(x, x0, sigma);
      const dt = f(sigmaNext - sigma);
      this.prevDerivative = derivative;
      this.dt = dt;
      this.firstSample = x;
      prev = eulerUpdate(x, derivative, dt);
    } else {
      // Heun's correction: mean of the derivative at the start and at the Euler prediction.
      const derivative = derivativeOf(x, x0, sigmaNext);
      const d0 = this.prevDerivative!;
      for (let j = 0; j < derivative.length; j++) derivative[j] = f(d0[j]! + derivative[j]!) / 2;
      prev = eulerUpdate(this.firstSample!, derivative, this.dt!);
      this.prevDerivative = null;
      this.dt = null;
      this.firstSample = null;
    }
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
