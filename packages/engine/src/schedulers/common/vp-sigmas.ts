// The sigma schedule of the DPM-Solver family (DPM-Solver multistep/single-step, UniPC, DEIS):
// sigma = sqrt((1 - alpha_prod) / alpha_prod), with alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t.
import { karrasSigmas, sigmaToT } from './karras.ts';
import { roundHalfEven } from './numpy-math.ts';

const f = Math.fround;

/** Training sigmas per timestep, float32 like diffusers' torch tensor. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) { const a = alphasCumprod[i]!; out[i] = Math.sqrt(f(f(1 - a) / a)); }
  return out;
}

/** np.log of the float32 training sigmas (float32 result). */
export function logSigmasOf(sigmas: Float32Array): Float32Array {
  const out = new Float32Array(sigmas.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.log(sigmas[i]!);
  return out;
}

/** alpha_t and sigma_t of a VP sigma (diffusers' `_sigma_to_alpha_sigma_t`). */
export function alphaSigma(sigma: number): { alpha: number; sigma: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const s = sigma * alpha;
  return { alpha, sigma: s, lambda: Math.log(alpha) - Math.log(s) };
}

/** How the schedule ends: DPM's `final_sigmas_type` ('zero' | 'sigma_min'), or repeat the last karras sigma (UniPC/DEIS). */
export type FinalSigma = 'zero' | 'sigma_min' | 'repeat_last';

/**
 * Sigmas for the inference timesteps (one more than the steps: the final sigma). With Karras
 * sigmas the timesteps are replaced by the rounded fractional timesteps of those sigmas.
 */
export function vpSigmaSchedule(
  alphasCumprod: Float32Array, timesteps: Float64Array, karras: boolean, final: FinalSigma,
): { timesteps: Float64Array; sigmas: Float32Array } {
  const train = trainingSigmas(alphasCumprod);
  const n = timesteps.length;
  const sigmas = new Float32Array(n + 1);
  let ts = timesteps;
  if (karras) {
    const logSigmas = logSigmasOf(train);
    const k = karrasSigmas(train[0]!, train[train.length - 1]!, n);
    ts = new Float64Array(n);
    for (let i = 0; i < n; i++) { sigmas[i] = k[i]!; ts[i] = roundHalfEven(sigmaToT(k[i]!, logSigmas)); }
  } else {
    for (let i = 0; i < n; i++) {
      const t = timesteps[i]!;
      const lo = Math.floor(t), hi = Math.min(lo + 1, train.length - 1);
      sigmas[i] = train[lo]! + (train[hi]! - train[lo]!) * (t - lo); // np.interp
    }
  }
  sigmas[n] = final === 'zero' ? 0 : final === 'sigma_min' ? train[0]! : sigmas[n - 1]!;
  return { timesteps: ts, sigmas };
}

/**
 * DPM-Solver's lambda_min_clipped: how many of the smallest log-SNRs lie below the clip
 * (torch.searchsorted on the ascending, flipped lambda_t).
 */
export function clippedIndex(alphasCumprod: Float32Array, lambdaMinClipped: number): number {
  if (!(lambdaMinClipped > -Infinity)) return 0;
  let count = 0;
  for (let i = 0; i < alphasCumprod.length; i++) {
    const a = alphasCumprod[i]!;
    const lambda = f(f(Math.log(f(Math.sqrt(a)))) - f(Math.log(f(Math.sqrt(f(1 - a))))));
    if (lambda < lambdaMinClipped) count++;
  }
  return count;
}
