// diffusers' `Cls.from_config(config)`: every key of the given config is kept, and keys it lacks
// take the class's __init__ defaults.
import type { SchedulerConfig } from '../config.ts';

export function withDefaults(defaults: Record<string, unknown>, config: Partial<SchedulerConfig> | Record<string, unknown>): SchedulerConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v;
  return out as SchedulerConfig;
}

/** The __init__ defaults most diffusers schedulers share (DDPM's betas: linear 1e-4..0.02). */
export const BASE_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  steps_offset: 0,
} as const;

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export function predictionTypeOf(config: SchedulerConfig, className: string): PredictionType {
  const p = config.prediction_type;
  if (p === 'epsilon' || p === 'v_prediction' || p === 'sample') return p;
  throw new Error(`prediction_type "${String(p)}" must be one of epsilon, sample or v_prediction for ${className}`);
}
