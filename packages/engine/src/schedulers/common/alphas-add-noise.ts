// add_noise for schedulers indexed by integer training timesteps (DDIM, DDPM, PNDM, LCM):
// x_t = sqrt(alpha_prod_t) * x0 + sqrt(1 - alpha_prod_t) * noise.
import type { Latents } from '../../tensor.ts';
import { axpby } from './tensor-ops.ts';

export function addNoiseAlphas(alphasCumprod: Float32Array, original: Latents, noise: Latents, timestep: number): Latents {
  const t = Math.round(timestep);
  const a = alphasCumprod[t];
  if (a === undefined) throw new Error(`addNoise: timestep ${timestep} outside 0..${alphasCumprod.length - 1}`);
  // Coefficients in float32, as torch computes them from the float32 alphas_cumprod.
  const sa = Math.fround(Math.sqrt(a));
  const sb = Math.fround(Math.sqrt(Math.fround(1 - a)));
  return { data: axpby(sa, original.data, sb, noise.data), dims: original.dims };
}
