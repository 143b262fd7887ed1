// Shared helpers of the k-diffusion-style ("sigma") schedulers: Euler, Euler ancestral, LMS, Heun,
// KDPM2. They reproduce diffusers 0.27.2 number for number, which means following which values it
// holds as float32 torch tensors (Math.fround after each op) and which as float64 numpy arrays.
import type { SchedulerConfig } from '../config.ts';
import type { Latents } from '../../tensor.ts';
import { alphasCumprodFor, betasFor } from './noise-schedule.ts';

const f = Math.fround;

/** `Cls.from_config(config)`: the class's __init__ defaults, overridden by every defined key given. */
export function withClassDefaults(defaults: Record<string, unknown>, config: Partial<SchedulerConfig>): SchedulerConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v;
  return out as SchedulerConfig;
}

// ---------------------------------------------------------------------------------------------
// numpy behaviours the schedules depend on

/** np.round: half to even. */
export function roundHalfEven(x: number): number {
  const fl = Math.floor(x);
  const d = x - fl;
  if (d < 0.5) return fl;
  if (d > 0.5) return fl + 1;
  return fl % 2 === 0 ? fl : fl + 1;
}

/** np.arange(start, stop, step) with a float step: numpy fills start + i * (x1 - x0). */
function npArange(start: number, stop: number, step: number): Float64Array {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  if (n === 0) return out;
  const delta = (start + step) - start;
  for (let i = 0; i < n; i++) out[i] = i === 0 ? start : i === 1 ? start + step : start + i * delta;
  return out;
}

/** np.linspace(start, stop, num): start + i * step in float64, last value exactly stop. */
export function npLinspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

// ---------------------------------------------------------------------------------------------
// training schedule

/** alphas_cumprod, with diffusers' rescale_betas_zero_snr (Euler / Euler ancestral) when asked. */
export function sigmaAlphasCumprod(config: SchedulerConfig): Float32Array {
  if (!config.rescale_betas_zero_snr) return alphasCumprodFor(config);
  const betas = rescaleZeroTerminalSnr(betasFor(config));
  const ac = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) { acc = f(acc * f(1 - betas[i]!)); ac[i] = acc; }
  ac[ac.length - 1] = 2 ** -24; // so the first sigma is finite
  return ac;
}

/** diffusers' rescale_zero_terminal_snr (arXiv 2305.08891, algorithm 1), in float32. */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const s = new Float32Array(n);
  let acc = 1;
  for (let i = 0; i < n; i++) { acc = f(acc * f(1 - betas[i]!)); s[i] = f(Math.sqrt(acc)); }
  const s0 = s[0]!, sT = s[n - 1]!;
  const scale = f(s0 / f(s0 - sT));
  const bar = new Float32Array(n);
  for (let i = 0; i < n; i++) { const v = f(f(s[i]! - sT) * scale); bar[i] = f(v * v); }
  const out = new Float32Array(n);
  out[0] = f(1 - bar[0]!);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(bar[i]! / bar[i - 1]!));
  return out;
}

/** ((1 - ac) / ac) ** 0.5 as a float32 torch expression; ascending with the training timestep. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) {
    const a = alphasCumprod[i]!;
    out[i] = f(Math.sqrt(f(f(1 - a) / a)));
  }
  return out;
}

/** np.log of a float32 array (float32 result). */
export function logF32(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(Math.log(x[i]!));
  return out;
}

// ---------------------------------------------------------------------------------------------
// inference schedule

/**
 * The float32 timesteps set_timesteps picks for each `timestep_spacing` (not rounded for linspace,
 * unlike DDIM: Euler-type schedulers feed fractional timesteps to the UNet).
 */
export function sigmaTimesteps(config: SchedulerConfig, n: number): Float32Array {
  const T = config.num_train_timesteps;
  const spacing = config.timestep_spacing ?? 'linspace';
  if (spacing === 'linspace') {
    const lin = npLinspace(0, T - 1, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lin[n - 1 - i]!;
    return out;
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f((n - 1 - i) * ratio + (config.steps_offset ?? 0));
    return out;
  }
  if (spacing === 'trailing') {
    const ar = npArange(T, 0, -T / n);
    const out = new Float32Array(ar.length);
    for (let i = 0; i < ar.length; i++) out[i] = f(f(roundHalfEven(ar[i]!)) - 1);
    return out;
  }
  throw new Error(`timestep_spacing "${String(spacing)}" is not supported. Choose one of 'linspace', 'leading' or 'trailing'.`);
}

/** np.interp(x, arange(len(fp)), fp): float64 result from float32 table values. */
export function interpSigmas(x: ArrayLike<number>, fp: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  const last = fp.length - 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v > 0)) out[i] = v === 0 || v < 0 ? fp[0]! : NaN;
    else if (v >= last) out[i] = fp[last]!;
    else {
      const j = Math.floor(v);
      out[i] = (fp[j + 1]! - fp[j]!) * (v - j) + fp[j]!;
    }
  }
  return out;
}

/** Karras et al. (2022) sigmas, rho = 7, from sigmaMax down to sigmaMin, float64 as numpy does. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): Float64Array {
  const ramp = npLinspace(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (maxInv + ramp[i]! * (minInv - maxInv)) ** rho;
  return out;
}

/** index of the interval [low, low+1] of ascending logSigmas to interpolate in (numpy's cumsum/argmax). */
function lowIndex(logSigma: number, logSigmas: Float32Array): number {
  // argmax(cumsum(logSigma - logSigmas >= 0)) = last i with logSigmas[i] <= logSigma (0 if none).
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  return Math.min(low, logSigmas.length - 2);
}

/**
 * diffusers' `_sigma_to_t` on a float64 numpy sigma (Karras sigmas): the fractional training
 * timestep whose log-sigma matches. `low - high` is a float32 numpy difference, the rest float64.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const low = lowIndex(logSigma, logSigmas);
  const lo = logSigmas[low]!, hi = logSigmas[low + 1]!;
  const w = Math.min(1, Math.max(0, (lo - logSigma) / f(lo - hi)));
  return (1 - w) * low + w * (low + 1);
}

/**
 * The same on a float32 torch sigma against torch log-sigmas (KDPM2's interpolated timesteps):
 * torch's promotion makes every step float32.
 */
export function sigmaToTF32(sigma: number, logSigmas: Float32Array): number {
  const logSigma = f(Math.log(Math.max(sigma, 1e-10)));
  if (Number.isNaN(logSigma)) return NaN;
  const low = lowIndex(logSigma, logSigmas);
  const lo = logSigmas[low]!, hi = logSigmas[low + 1]!;
  let w = f(f(lo - logSigma) / f(lo - hi));
  w = Math.min(1, Math.max(0, w));
  return f(f(f(1 - w) * low) + f(w * (low + 1)));
}

/** init_noise_sigma: max sigma, or sqrt(max² + 1) for leading spacing (float32 tensor math). */
export function initNoiseSigmaFor(sigmas: Float32Array, spacing: SchedulerConfig['timestep_spacing']): number {
  let max = -Infinity;
  for (let i = 0; i < sigmas.length; i++) if (sigmas[i]! > max) max = sigmas[i]!;
  if (spacing === 'linspace' || spacing === 'trailing') return max;
  return f(Math.sqrt(f(f(max * max) + 1)));
}

/** [a0, a1, a1, a2, a2, …] into `out`: the first value once, the rest twice (Heun/KDPM2 layouts). */
export function repeatAfterFirst(src: ArrayLike<number>, out: Float32Array | Float64Array): void {
  out[0] = src[0]!;
  for (let i = 1; i < src.length; i++) { out[2 * i - 1] = src[i]!; out[2 * i] = src[i]!; }
}

// ---------------------------------------------------------------------------------------------
// step-index bookkeeping

/**
 * diffusers' index_for_timestep: the position of `timestep` in the schedule; when it occurs more
 * than once (Heun/KDPM2 repeat timesteps) the second occurrence, so that a run starting mid-way
 * (img2img) does not skip a sigma.
 */
export function indexForTimestep(timestep: number, schedule: Float64Array): number {
  let first = -1;
  for (let i = 0; i < schedule.length; i++) {
    if (schedule[i] === timestep) {
      if (first >= 0) return i;
      first = i;
    }
  }
  if (first < 0) throw new Error(`timestep ${timestep} is not in the scheduler's timesteps`);
  return first;
}

/** diffusers' _step_index / _begin_index pair, shared by the sigma schedulers. */
export class StepIndex {
  step: number | null = null;
  begin: number | null = null;

  reset(): void { this.step = null; this.begin = null; }

  /** _init_step_index when the first scale_model_input/step call arrives; returns the index. */
  current(timestep: number, schedule: Float64Array): number {
    if (this.step === null) this.step = this.begin ?? indexForTimestep(timestep, schedule);
    return this.step;
  }

  /** The sigma index add_noise uses (img2img: begin_index, inpaint blend: the current step). */
  forAddNoise(timestep: number, schedule: Float64Array): number {
    if (this.begin === null) return indexForTimestep(timestep, schedule);
    return this.step ?? this.begin;
  }
}

// ---------------------------------------------------------------------------------------------
// tensor kernels

/** sample / (sigma² + 1) ** 0.5 (scale_model_input), float32 as torch computes it. */
export function scaleBySigma(sample: Latents, sigma: number): Latents {
  const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
  const src = sample.data, n = src.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = src[i]! / d;
  return { data: out, dims: sample.dims };
}

/** original + noise * sigma (add_noise). */
export function addNoiseWithSigma(original: Latents, noise: Latents, sigma: number): Latents {
  const a = original.data, b = noise.data, n = a.length;
  if (b.length !== n) throw new Error(`addNoise: ${n} samples but ${b.length} noise values`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + f(b[i]! * sigma);
  return { data: out, dims: original.dims };
}

/**
 * pred_original_sample for a sigma-parameterised model output (k-diffusion's c_skip/c_out):
 * epsilon: x - σ·ε; v_prediction: v·(-σ/√(σ²+1)) + x/(σ²+1); sample: the output itself.
 * `sigmaEps` is the σ multiplying ε (Euler's sigma_hat); v_prediction always uses `sigma`.
 */
export function predictOriginal(
  type: string, className: string, modelOutput: Float32Array, sample: Float32Array, sigma: number, sigmaEps = sigma,
): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  if (type === 'epsilon') {
    for (let i = 0; i < n; i++) out[i] = sample[i]! - f(sigmaEps * modelOutput[i]!);
  } else if (type === 'v_prediction') {
    const s2p1 = f(f(sigma * sigma) + 1);
    const cOut = f(-sigma / f(Math.sqrt(s2p1)));
    for (let i = 0; i < n; i++) out[i] = f(modelOutput[i]! * cOut) + f(sample[i]! / s2p1);
  } else if (type === 'sample') {
    out.set(modelOutput);
  } else {
    throw new Error(`prediction_type given as ${type} must be one of epsilon, or v_prediction (${className})`);
  }
  return out;
}

/** The ODE derivative (x - x0) / σ, written into `out`. */
export function derivativeOf(sample: Float32Array, x0: Float32Array, sigma: number, out = new Float32Array(sample.length)): Float32Array {
  for (let i = 0; i < sample.length; i++) out[i] = f(sample[i]! - x0[i]!) / sigma;
  return out;
}

/** x + d * dt (an Euler step), into a new array. */
export function eulerUpdate(sample: Float32Array, derivative: Float32Array, dt: number): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sample[i]! + f(derivative[i]! * dt);
  return out;
}
