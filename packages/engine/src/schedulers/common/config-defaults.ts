// diffusers' `Cls.from_config(config)`: every key of the given config is kept, and keys it lacks
// take the class's __init__ defaults. Also the defaults most classes share, and prediction_type.
import type { SchedulerConfig } from '../config.ts';

/** The class's __init__ defaults, overridden by every defined key of `config`. */
export function withDefaults(defaults: Record<string, unknown>, config: Partial<SchedulerConfig> | Record<string, unknown>): SchedulerConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v;
  return out as SchedulerConfig;
}

/** The training-schedule defaults every diffusers scheduler has (DDPM's betas: linear 1e-4..0.02). */
export const TRAINING_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  steps_offset: 0,
} as const;

/** TRAINING_DEFAULTS plus Imagen's dynamic thresholding (off), shared by the DDIM and DPM families. */
export const BASE_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
} as const;

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export function predictionTypeOf(config: SchedulerConfig, className: string): PredictionType {
  const p = config.prediction_type;
  if (p === 'epsilon' || p === 'v_prediction' || p === 'sample') return p;
  throw new Error(`prediction_type "${String(p)}" must be one of epsilon, sample or v_prediction for ${className}`);
}

/** For classes that do not implement diffusers' rescale_betas_zero_snr. */
export function rejectRescaleBetasZeroSnr(config: SchedulerConfig, className: string): void {
  if (config.rescale_betas_zero_snr) throw new Error(`${className}: rescale_betas_zero_snr is not supported`);
}
