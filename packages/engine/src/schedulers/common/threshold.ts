// Imagen's dynamic thresholding of x0 (diffusers' `_threshold_sample`) and plain clipping. Both are
// off in Stable Diffusion configs; kept for configs that turn them on.
import type { SchedulerConfig } from '../config.ts';
import { clampInPlace } from './tensor-ops.ts';

/** torch.quantile(|x_row|, ratio) per batch row (linear interpolation), clamped to [1, max]. */
export function dynamicThresholdInPlace(x: Float32Array, dims: readonly number[], ratio: number, maxValue: number): Float32Array {
  const batch = dims[0] ?? 1;
  const row = x.length / batch;
  const abs = new Float32Array(row);
  for (let b = 0; b < batch; b++) {
    const off = b * row;
    for (let i = 0; i < row; i++) abs[i] = Math.abs(x[off + i]!);
    abs.sort();
    const pos = ratio * (row - 1);
    const lo = Math.floor(pos), hi = Math.min(lo + 1, row - 1);
    let s = abs[lo]! + (abs[hi]! - abs[lo]!) * (pos - lo);
    s = Math.min(Math.max(s, 1), maxValue);
    for (let i = 0; i < row; i++) {
      const v = x[off + i]!;
      x[off + i] = (v > s ? s : v < -s ? -s : v) / s;
    }
  }
  return x;
}

/** Dynamic thresholding of x0 in place when the config turns it on (DPM-Solver family). */
export function thresholdX0InPlace(config: SchedulerConfig, x0: Float32Array, dims: readonly number[]): Float32Array {
  if (!config.thresholding) return x0;
  return dynamicThresholdInPlace(x0, dims, Number(config.dynamic_thresholding_ratio ?? 0.995), Number(config.sample_max_value ?? 1));
}

/** The x0 post-processing DDIM/DDPM/LCM apply: thresholding if enabled, else clip_sample. */
export function postprocessX0(config: SchedulerConfig, x0: Float32Array, dims: readonly number[]): Float32Array {
  if (config.thresholding) return thresholdX0InPlace(config, x0, dims);
  if (config.clip_sample) return clampInPlace(x0, config.clip_sample_range ?? 1);
  return x0;
}
