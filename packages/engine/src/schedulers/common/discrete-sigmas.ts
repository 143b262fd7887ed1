// The sigma schedules of the k-diffusion-style ("discrete sigma") schedulers: Euler, Euler
// ancestral, LMS, Heun, KDPM2. diffusers 0.27.2 number for number, following which values it holds
// as float32 torch tensors (Math.fround after each op) and which as float64 numpy arrays.
import type { SchedulerConfig } from '../config.ts';
import { alphasCumprodFor, trainSigmas } from './noise-schedule.ts';
import { spacedTimesteps } from './timestep-spacing.ts';
import { karrasSigmas } from './karras.ts';

const f = Math.fround;

/**
 * The training sigmas (ascending with the timestep). With rescale_betas_zero_snr the last
 * alpha_cumprod is set to 2^-24 so that the first sigma is finite, as Euler / Euler ancestral do.
 */
export function discreteTrainSigmas(config: SchedulerConfig): Float32Array {
  const rescale = !!config.rescale_betas_zero_snr;
  const ac = alphasCumprodFor(config, rescale);
  if (rescale) ac[ac.length - 1] = 2 ** -24;
  return trainSigmas(ac);
}

/**
 * The float32 timesteps set_timesteps picks for each `timestep_spacing` (not rounded for linspace,
 * unlike DDIM: Euler-type schedulers feed fractional timesteps to the UNet).
 */
export function sigmaTimesteps(config: SchedulerConfig, n: number): Float32Array {
  return Float32Array.from(spacedTimesteps(config, n, true));
}

/** Karras sigmas between the config's sigma_min / sigma_max, or else the schedule's own ends. */
export function configKarrasSigmas(config: SchedulerConfig, sigmas: ArrayLike<number>, n: number): Float64Array {
  const smin = (config.sigma_min as number | null | undefined) ?? sigmas[sigmas.length - 1]!;
  const smax = (config.sigma_max as number | null | undefined) ?? sigmas[0]!;
  return karrasSigmas(smin, smax, n);
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
