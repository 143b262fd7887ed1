// Karras et al. (2022) sigma spacing and diffusers' `_sigma_to_t`, the log-sigma → fractional
// timestep interpolation that maps such sigmas back onto the training timesteps.
import { npLinspace } from './numpy-math.ts';

const f = Math.fround;

/** Karras sigmas (rho = 7) from sigmaMax down to sigmaMin, n values, in float64 like numpy. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): Float64Array {
  const ramp = npLinspace(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (maxInv + ramp[i]! * (minInv - maxInv)) ** rho;
  return out;
}

/** The interval [low, low+1] of ascending logSigmas to interpolate in (numpy's cumsum/argmax). */
function lowIndex(logSigma: number, logSigmas: Float32Array): number {
  // argmax(cumsum(logSigma - logSigmas >= 0)) = last i with logSigmas[i] <= logSigma (0 if none),
  // clipped to n - 2.
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  return Math.min(low, logSigmas.length - 2);
}

/**
 * diffusers' `_sigma_to_t` on a float64 numpy sigma (Karras sigmas) against the float32 numpy
 * log-sigmas (ascending with the timestep index): `low - high` is a float32 numpy difference, the
 * rest float64.
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
