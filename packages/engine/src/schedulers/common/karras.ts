// Karras et al. (2022) sigma spacing and the log-sigma → fractional timestep interpolation that
// diffusers uses to map such sigmas back onto the training timesteps.

/** Karras sigmas (rho = 7) from sigmaMax down to sigmaMin, n values, in float64 like numpy. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): Float64Array {
  const out = new Float64Array(n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  for (let i = 0; i < n; i++) {
    const ramp = n === 1 ? 0 : i === n - 1 ? 1 : i * (1 / (n - 1)); // np.linspace(0, 1, n)
    out[i] = (maxInv + ramp * (minInv - maxInv)) ** rho;
  }
  return out;
}

/**
 * diffusers' `_sigma_to_t`: the fractional training timestep whose log-sigma matches, by linear
 * interpolation in log-sigma. `logSigmas` ascends with the timestep index (float32 values).
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  const n = logSigmas.length;
  // low = argmax(cumsum(dists >= 0)): the first index where the count peaks, i.e. the last i with
  // logSigma >= logSigmas[i] (0 when there is none); clipped to n - 2 below.
  let low = 0;
  for (let i = 0; i < n; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  if (low > n - 2) low = n - 2;
  const high = low + 1;
  const lo = logSigmas[low]!, hi = logSigmas[high]!;
  let w = (lo - logSigma) / (lo - hi);
  w = Math.min(1, Math.max(0, w));
  return (1 - w) * low + w * high;
}
