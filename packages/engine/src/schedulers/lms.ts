// diffusers 0.27.2 LMSDiscreteScheduler: linear multistep (up to order 4) on the sigma ODE. The
// coefficients integrate the Lagrange basis polynomials through the last sigmas from sigma_t to
// sigma_{t+1}; diffusers uses scipy.integrate.quad, here an adaptive Simpson quadrature (exact for
// these polynomials of degree ≤ 3, good to ~1e-12 for smooth integrands).
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { DiscreteSigmaBase } from './common/sigma-base.ts';
import { sigmaTimesteps } from './common/discrete-sigmas.ts';
import { derivativeOf, predictOriginal } from './common/sigma-ops.ts';
import { karrasSigmas, sigmaToT } from './common/karras.ts';
import { logF32, npInterp } from './common/numpy-math.ts';
import { TRAINING_DEFAULTS } from './common/config-defaults.ts';

const f = Math.fround;

export const LMS_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  use_karras_sigmas: false,
  timestep_spacing: 'linspace',
} as const;

/** The LMS order diffusers' step() uses by default. */
const LMS_ORDER = 4;

/** ∫_a^b fn, adaptive Simpson with Richardson correction (relative tolerance ~1e-12). */
export function integrate(fn: (x: number) => number, a: number, b: number, tol = 1e-12): number {
  if (a === b) return 0;
  const fa = fn(a), fb = fn(b), m = (a + b) / 2, fm = fn(m);
  const whole = ((b - a) / 6) * (fa + 4 * fm + fb);
  const scale = Math.max(Math.abs(whole), Number.MIN_VALUE);
  return simpson(fn, a, b, fa, fm, fb, whole, tol * scale, 50);
}

function simpson(
  fn: (x: number) => number, a: number, b: number, fa: number, fm: number, fb: number, whole: number, eps: number, depth: number,
): number {
  const m = (a + b) / 2, lm = (a + m) / 2, rm = (m + b) / 2;
  const flm = fn(lm), frm = fn(rm);
  const left = ((m - a) / 6) * (fa + 4 * flm + fm);
  const right = ((b - m) / 6) * (fm + 4 * frm + fb);
  const delta = left + right - whole;
  if (depth <= 0 || Math.abs(delta) <= 15 * eps) return left + right + delta / 15;
  return simpson(fn, a, m, fa, flm, fm, left, eps / 2, depth - 1) + simpson(fn, m, b, fm, frm, fb, right, eps / 2, depth - 1);
}

export class LMSDiscreteScheduler extends DiscreteSigmaBase implements Scheduler {
  readonly name = 'lms';
  readonly className = 'LMSDiscreteScheduler';
  readonly order = 1;
  /** The last ODE derivatives, oldest first (at most LMS_ORDER). */
  private derivatives: Float32Array[] = [];

  constructor(config: Partial<SchedulerConfig>) {
    super(LMS_DEFAULTS, config);
    this.setTimesteps(this.config.num_train_timesteps); // as diffusers' __init__ does
  }

  setTimesteps(numInferenceSteps: number): void {
    const n = numInferenceSteps;
    const ts32 = sigmaTimesteps(this.config, n);
    let sigmas: Float64Array = npInterp(ts32, this.trainSigmas);
    let timesteps = Float64Array.from(ts32);
    if (this.config.use_karras_sigmas) {
      // LMS ignores sigma_min / sigma_max; its Karras timesteps stay float64.
      sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, n);
      const logSigmas = logF32(this.trainSigmas);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
    }
    this.sigmas = new Float32Array(sigmas.length + 1);
    this.sigmas.set(sigmas);
    this.timesteps = timesteps;
    this.index.reset();
    this.derivatives = [];
  }

  /** Coefficient of the derivative `current` steps back: ∫ of its Lagrange basis over [σ_t, σ_t+1]. */
  lmsCoefficient(order: number, t: number, current: number): number {
    const s = this.sigmas;
    const basis = (tau: number): number => {
      let prod = 1;
      for (let k = 0; k < order; k++) {
        if (k === current) continue;
        prod *= (tau - s[t - k]!) / (s[t - current]! - s[t - k]!);
      }
      return prod;
    };
    return integrate(basis, s[t]!, s[t + 1]!);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, _options: StepOptions = {}): SchedulerStepOutput {
    const i = this.index.current(timestep, this.timesteps);
    const sigma = this.sigmas[i]!;
    const x = sample.data;
    const x0 = predictOriginal(this.config.prediction_type, this.className, modelOutput.data, x, sigma);
    this.derivatives.push(derivativeOf(x, x0, sigma));
    if (this.derivatives.length > LMS_ORDER) this.derivatives.shift();

    const order = Math.min(i + 1, LMS_ORDER);
    const n = x.length;
    // sample + sum(coeff_k * derivative_k), newest derivative first, float32 like torch.
    const acc = new Float32Array(n);
    const last = this.derivatives.length - 1;
    // zip() in diffusers stops at the shorter list: after a mid-schedule start (img2img) fewer
    // derivatives than `order` exist, and only those terms are summed.
    const terms = Math.min(order, this.derivatives.length);
    for (let k = 0; k < terms; k++) {
      const c = f(this.lmsCoefficient(order, i, k));
      const d = this.derivatives[last - k]!;
      if (k === 0) for (let j = 0; j < n; j++) acc[j] = c * d[j]!;
      else for (let j = 0; j < n; j++) acc[j] = acc[j]! + f(c * d[j]!);
    }
    for (let j = 0; j < n; j++) acc[j] = x[j]! + acc[j]!;
    this.index.step = i + 1;
    return { prevSample: { data: acc, dims: sample.dims }, predOriginalSample: { data: x0, dims: sample.dims } };
  }
}
