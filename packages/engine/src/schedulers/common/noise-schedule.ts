// The training noise schedule shared by every scheduler: betas → alphas_cumprod, as diffusers builds
// it (float32 tensors in torch, reproduced here with Math.fround at each float32 step).
import type { SchedulerConfig } from '../config.ts';
import { fmaf } from '../../random/fmaf.ts';

const f = Math.fround;

/**
 * torch.linspace(start, end, steps, dtype=float32) as torch 1.13's CPU kernel computes it: float32
 * step, then blocks of 8 lanes (AVX2), each block from the nearer end with fused multiply-adds
 * (`base = fma(step, idx, start)` or `fma(-step, steps-idx-1, end)`, lane k = `fma(k, step, base)`);
 * a tail shorter than a block takes the scalar formula, also fused.
 */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) { out[0] = start; return out; }
  const s = f(start), e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  const lanes = 8;
  const vecEnd = steps - (steps % lanes);
  for (let idx = 0; idx < vecEnd; idx += lanes) {
    const base = idx < half ? fmaf(step, idx, s) : fmaf(-step, steps - idx - 1, e);
    for (let k = 0; k < lanes; k++) out[idx + k] = k === 0 ? base : fmaf(k, step, base);
  }
  for (let i = vecEnd; i < steps; i++) {
    out[i] = i < half ? fmaf(step, i, s) : fmaf(-step, steps - i - 1, e);
  }
  return out;
}

/** diffusers' betas_for_alpha_bar with the cosine transform (squaredcos_cap_v2). */
function cosineBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return out;
}

export function betasFor(config: SchedulerConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas && config.trained_betas.length > 0) return Float32Array.from(config.trained_betas);
  switch (config.beta_schedule) {
    case 'linear':
      return linspaceF32(config.beta_start, config.beta_end, n);
    case 'scaled_linear': {
      const r = linspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n);
      for (let i = 0; i < n; i++) r[i] = f(r[i]! * r[i]!);
      return r;
    }
    case 'squaredcos_cap_v2':
      return cosineBetas(n);
    default:
      throw new Error(`beta_schedule "${String(config.beta_schedule)}" is not supported`);
  }
}

/** torch.cumprod(1 - betas) on CPU: float32 input accumulated in float64, stored as float32. */
function cumprodOneMinus(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}

/** diffusers' rescale_zero_terminal_snr (arXiv 2305.08891, algorithm 1), float32 torch math. */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const s = cumprodOneMinus(betas);
  for (let i = 0; i < n; i++) s[i] = f(Math.sqrt(s[i]!));
  const s0 = s[0]!, sT = s[n - 1]!;
  const scale = f(s0 / f(s0 - sT));
  const bar = new Float32Array(n);
  for (let i = 0; i < n; i++) { const v = f(f(s[i]! - sT) * scale); bar[i] = f(v * v); }
  const out = new Float32Array(n);
  out[0] = f(1 - bar[0]!);
  for (let i = 1; i < n; i++) out[i] = f(1 - f(bar[i]! / bar[i - 1]!));
  return out;
}

/**
 * alphas_cumprod = cumprod(1 - betas), the betas first rescaled to zero terminal SNR when
 * `rescaleZeroSnr` is set (the caller decides: only some classes honour rescale_betas_zero_snr).
 */
export function alphasCumprodFor(config: SchedulerConfig, rescaleZeroSnr = false): Float32Array {
  const betas = betasFor(config);
  return cumprodOneMinus(rescaleZeroSnr ? rescaleZeroTerminalSnr(betas) : betas);
}

/** Training sigmas ((1 - ac) / ac) ** 0.5 as a float32 torch expression; ascending with the timestep. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) {
    const a = alphasCumprod[i]!;
    out[i] = f(Math.sqrt(f(f(1 - a) / a)));
  }
  return out;
}
