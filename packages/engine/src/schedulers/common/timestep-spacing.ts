// Inference timestep selection (`timestep_spacing`), as the diffusers schedulers compute it.
// Table 2 of "Common Diffusion Noise Schedules and Sample Steps are Flawed" (2305.08891).
import type { SchedulerConfig } from '../config.ts';
import { npArange, npLinspace, roundHalfEven } from './numpy-math.ts';

type Spacing = 'leading' | 'trailing' | 'linspace';

/** The config's spacing; `fallback` when it is absent (every class default sets one). */
function spacingOf(config: SchedulerConfig, fallback: Spacing): Spacing {
  const s = config.timestep_spacing ?? fallback;
  if (s !== 'leading' && s !== 'trailing' && s !== 'linspace') {
    throw new Error(`timestep_spacing "${String(s)}" is not supported (leading, trailing or linspace)`);
  }
  return s;
}

/** round(arange(last, 0, -T / n)) - 1: the trailing schedule, descending. */
function trailingTimesteps(last: number, T: number, n: number): Float64Array {
  const ar = npArange(last, 0, -T / n);
  for (let i = 0; i < ar.length; i++) ar[i] = roundHalfEven(ar[i]!) - 1;
  return ar;
}

/**
 * n descending timesteps for `timestep_spacing`. `linspace` values are rounded for the DDIM family
 * and kept fractional (`fractional`) for the Euler family, which feeds them to the UNet as they are.
 */
export function spacedTimesteps(config: SchedulerConfig, n: number, fractional = false): Float64Array {
  const T = config.num_train_timesteps;
  switch (spacingOf(config, fractional ? 'linspace' : 'leading')) {
    case 'linspace': {
      const lin = npLinspace(0, T - 1, n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = fractional ? lin[n - 1 - i]! : roundHalfEven(lin[n - 1 - i]!);
      return out;
    }
    case 'leading': {
      const ratio = Math.floor(T / n);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = (n - 1 - i) * ratio + (config.steps_offset ?? 0);
      return out;
    }
    case 'trailing':
      return trailingTimesteps(T, T, n);
  }
}

/**
 * DDIM / DDPM / PNDM schedule: n integer timesteps, descending (PNDM uses them ascending), at most
 * num_train_timesteps of them.
 */
export function discreteTimesteps(config: SchedulerConfig, n: number): Float64Array {
  const T = config.num_train_timesteps;
  if (n > T) throw new Error(`num_inference_steps ${n} cannot exceed num_train_timesteps ${T}`);
  return spacedTimesteps(config, n);
}

/**
 * DPM-Solver / UniPC / DEIS schedule: n + 1 points with the last dropped, so the final step
 * does not land on t = 0. `lastTimestep` is num_train_timesteps minus DPM's lambda clipping.
 */
export function multistepTimesteps(config: SchedulerConfig, n: number, lastTimestep = config.num_train_timesteps): Float64Array {
  switch (spacingOf(config, 'leading')) {
    case 'linspace': {
      const lin = npLinspace(0, lastTimestep - 1, n + 1);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = roundHalfEven(lin[n - i]!);
      return out;
    }
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (n + 1));
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = (n - i) * ratio + (config.steps_offset ?? 0);
      return out;
    }
    case 'trailing':
      return trailingTimesteps(lastTimestep, config.num_train_timesteps, n);
  }
}
