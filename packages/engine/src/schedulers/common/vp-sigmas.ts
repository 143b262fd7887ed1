// The sigma schedule of the DPM-Solver family (DPM-Solver multistep/single-step, UniPC, DEIS):
// sigma = sqrt((1 - alpha_prod) / alpha_prod), with alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t.
import { trainSigmas } from './noise-schedule.ts';
import { karrasSigmas, sigmaToT } from './karras.ts';
import { logF32, npInterp, roundHalfEven } from './numpy-math.ts';

const f = Math.fround;

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
  const train = trainSigmas(alphasCumprod);
  const n = timesteps.length;
  const sigmas = new Float32Array(n + 1);
  let ts = timesteps;
  if (karras) {
    const logSigmas = logF32(train);
    const k = karrasSigmas(train[0]!, train[train.length - 1]!, n);
    ts = new Float64Array(n);
    for (let i = 0; i < n; i++) { sigmas[i] = k[i]!; ts[i] = roundHalfEven(sigmaToT(k[i]!, logSigmas)); }
  } else {
    sigmas.set(npInterp(timesteps, train));
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
