// diffusers 0.27.2 KDPM2DiscreteScheduler (k-diffusion's sample_dpm_2, DPM-Solver-2): each step
// evaluates the model at sigma and at the log-midpoint sigma_interpol = sqrt(sigma · sigma_prev),
// so the schedule interleaves the real timesteps with interpolated (fractional) ones.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { DiscreteSigmaBase } from './common/sigma-base.ts';
import { configKarrasSigmas, repeatAfterFirst, sigmaTimesteps } from './common/discrete-sigmas.ts';
import { derivativeOf, eulerUpdate, predictOriginal } from './common/sigma-ops.ts';
import { sigmaToT, sigmaToTF32 } from './common/karras.ts';
import { logF32, npInterp, roundHalfEven } from './common/numpy-math.ts';
import { TRAINING_DEFAULTS } from './common/config-defaults.ts';

const f = Math.fround;

export const KDPM2_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  use_karras_sigmas: false,
  timestep_spacing: 'linspace',
} as const;

/** sigmas, float32: [σ0, σ1, σ1, …, σn-1, σn-1, 0, 0, 0]. */
export class KDPM2DiscreteScheduler extends DiscreteSigmaBase implements Scheduler {
  readonly name = 'kdpm2';
  readonly className = 'KDPM2DiscreteScheduler';
  readonly order = 2;
  /** float32 log-midpoints, laid out like `sigmas` (entry 0 is NaN, as in diffusers, and unused). */
  sigmasInterpol: Float32Array = new Float32Array(0);
  /** The sample of the first-order half-step (null: next call is first order). */
  private firstSample: Float32Array | null = null;

  constructor(config: Partial<SchedulerConfig>) {
    super(KDPM2_DEFAULTS, config, 'KDPM2DiscreteScheduler');
    this.setTimesteps(this.config.num_train_timesteps);
  }

  get stateInFirstOrder(): boolean { return this.firstSample === null; }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    const ts32 = sigmaTimesteps(this.config, n);
    const logSigmas = logF32(this.trainSigmas);
    let sigmas64: Float64Array = npInterp(ts32, this.trainSigmas);
    let timesteps: ArrayLike<number> = ts32;
    if (this.config.use_karras_sigmas) {
      sigmas64 = configKarrasSigmas(this.config, sigmas64, n);
      timesteps = sigmas64.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
    }
    const m = sigmas64.length;
    const s = new Float32Array(m + 1); // with the trailing 0
    s.set(sigmas64);

    // exp(lerp(log σ_j, log σ_{j-1}, 0.5)) in float32; torch's lerp at weight 0.5 is
    // end - (end - self) * 0.5, which makes entry 0 NaN (log 0 = -inf) and entry m zero.
    const interpol = new Float32Array(m + 1);
    for (let j = 0; j <= m; j++) {
      const a = f(Math.log(s[j]!)), b = f(Math.log(s[(j + m) % (m + 1)]!));
      interpol[j] = f(Math.exp(f(b - f(f(b - a) * 0.5))));
    }
    this.sigmas = new Float32Array(2 * m + 2);
    repeatAfterFirst(s, this.sigmas);
    this.sigmasInterpol = new Float32Array(2 * m + 2);
    repeatAfterFirst(interpol, this.sigmasInterpol);

    // [t0, ti1, t1, ti2, t2, …]: interpolated timesteps via the float32 torch path of _sigma_to_t.
    this.timesteps = new Float64Array(2 * m - 1);
    this.timesteps[0] = timesteps[0]!;
    for (let j = 1; j < m; j++) {
      this.timesteps[2 * j - 1] = sigmaToTF32(interpol[j]!, logSigmas);
      this.timesteps[2 * j] = timesteps[j]!;
    }
    this.firstSample = null;
    this.index.reset();
  }

  /** The second call of each step runs the model at the log-midpoint sigma. */
  protected override inputSigma(i: number): number {
    return this.stateInFirstOrder ? this.sigmas[i]! : this.sigmasInterpol[i]!;
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, _options: StepOptions = {}): SchedulerStepOutput {
    const i = this.index.current(timestep, this.timesteps);
    const first = this.stateInFirstOrder;
    const sigma = first ? this.sigmas[i]! : this.sigmas[i - 1]!;
    const sigmaInterpol = first ? this.sigmasInterpol[i + 1]! : this.sigmasInterpol[i]!;
    const sigmaNext = first ? this.sigmas[i + 1]! : this.sigmas[i]!;
    const sigmaInput = first ? sigma : sigmaInterpol; // gamma = 0, so sigma_hat = sigma
    const x = sample.data;
    const x0 = predictOriginal(this.config.prediction_type, this.className, modelOutput.data, x, sigmaInput);
    const derivative = derivativeOf(x, x0, sigmaInput);
    let prev: Float32Array;
    if (first) {
      // Half-step to the midpoint sigma; the model is evaluated there next.
      prev = eulerUpdate(x, derivative, f(sigmaInterpol - sigma));
      this.firstSample = x;
    } else {
      // Full step from the first sample with the midpoint derivative.
      prev = eulerUpdate(this.firstSample!, derivative, f(sigmaNext - sigma));
      this.firstSample = null;
    }
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
