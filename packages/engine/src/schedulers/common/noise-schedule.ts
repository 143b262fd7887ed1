// The training noise schedule shared by every scheduler: betas → alphas_cumprod, as diffusers builds
// it (float32 tensors in torch, reproduced here with Math.fround at each float32 step).
import type { SchedulerConfig } from '../config.ts';

const f = Math.fround;

/** torch.linspace(start, end, steps, dtype=float32): step from the ends inwards, in float32. */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) { out[0] = start; return out; }
  const s = f(start), e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < half ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
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

/** alphas_cumprod = cumprod(1 - betas), float32 accumulation as torch.cumprod does on CPU. */
export function alphasCumprodFor(config: SchedulerConfig): Float32Array {
  const betas = betasFor(config);
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc = f(acc * f(1 - betas[i]!));
    out[i] = acc;
  }
  return out;
}
