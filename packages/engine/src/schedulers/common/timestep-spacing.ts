// Inference timestep selection (`timestep_spacing`), as the diffusers schedulers compute it.
// Table 2 of "Common Diffusion Noise Schedules and Sample Steps are Flawed" (2305.08891).
import type { SchedulerConfig } from '../config.ts';
import { npArange, npLinspace, roundHalfEven } from './numpy-math.ts';

type Spacing = 'leading' | 'trailing' | 'linspace';

function spacingOf(config: SchedulerConfig): Spacing {
  const s = config.timestep_spacing ?? 'leading';
  if (s !== 'leading' && s !== 'trailing' && s !== 'linspace') {
    throw new Error(`timestep_spacing "${String(s)}" is not supported (leading, trailing or linspace)`);
  }
  return s;
}

/**
 * DDIM / DDPM / PNDM / Euler-style discrete schedule: n integer timesteps, descending.
 * (PNDM uses the same values in ascending order.)
 */
export function discreteTimesteps(config: SchedulerConfig, n: number): Float64Array {
  const T = config.num_train_timesteps;
  if (n > T) throw new Error(`num_inference_steps ${n} cannot exceed num_train_timesteps ${T}`);
  const out = new Float64Array(n);
  switch (spacingOf(config)) {
    case 'linspace': {
      const lin = npLinspace(0, T - 1, n);
      for (let i = 0; i < n; i++) out[i] = roundHalfEven(lin[n - 1 - i]!);
      return out;
    }
    case 'leading': {
      const ratio = Math.floor(T / n);
      for (let i = 0; i < n; i++) out[i] = (n - 1 - i) * ratio + (config.steps_offset ?? 0);
      return out;
    }
    case 'trailing': {
      const ar = npArange(T, 0, -T / n);
      const res = new Float64Array(ar.length);
      for (let i = 0; i < ar.length; i++) res[i] = roundHalfEven(ar[i]!) - 1;
      return res;
    }
  }
}

/**
 * DPM-Solver / UniPC / DEIS schedule: n + 1 points with the last dropped, so the final step
 * does not land on t = 0. `lastTimestep` is num_train_timesteps minus DPM's lambda clipping.
 */
export function multistepTimesteps(config: SchedulerConfig, n: number, lastTimestep = config.num_train_timesteps): Float64Array {
  const T = config.num_train_timesteps;
  switch (spacingOf(config)) {
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
    case 'trailing': {
      const ar = npArange(lastTimestep, 0, -T / n);
      const out = new Float64Array(ar.length);
      for (let i = 0; i < ar.length; i++) out[i] = roundHalfEven(ar[i]!) - 1;
      return out;
    }
  }
}
