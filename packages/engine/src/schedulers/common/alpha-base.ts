// State shared by every scheduler built on the training alphas_cumprod with no sigma scaling of the
// model input (DDIM, DDPM, PNDM, LCM, and through VpSigmaBase the DPM-Solver family): the config,
// alphas_cumprod, an identity scale_model_input, and add_noise at an integer training timestep.
import type { Latents } from '../../tensor.ts';
import type { SchedulerConfig } from '../config.ts';
import { alphasCumprodFor } from './noise-schedule.ts';
import { discreteTimesteps } from './timestep-spacing.ts';
import { axpby } from './tensor-ops.ts';

/** add_noise by training timestep: x_t = sqrt(alpha_prod_t) * x0 + sqrt(1 - alpha_prod_t) * noise. */
export function addNoiseAlphas(alphasCumprod: Float32Array, original: Latents, noise: Latents, timestep: number): Latents {
  const t = Math.round(timestep);
  const a = alphasCumprod[t];
  if (a === undefined) throw new Error(`addNoise: timestep ${timestep} outside 0..${alphasCumprod.length - 1}`);
  // Coefficients in float32, as torch computes them from the float32 alphas_cumprod.
  const sa = Math.fround(Math.sqrt(a));
  const sb = Math.fround(Math.sqrt(Math.fround(1 - a)));
  return { data: axpby(sa, original.data, sb, noise.data), dims: original.dims };
}

export class AlphaSchedulerBase {
  name: string;
  readonly className: string;
  readonly config: SchedulerConfig;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly alphasCumprod: Float32Array;
  timesteps: Float64Array = new Float64Array(0);
  protected numInferenceSteps: number | null = null;

  constructor(className: string, config: SchedulerConfig) {
    this.className = className;
    this.name = className;
    this.config = config;
    this.alphasCumprod = alphasCumprodFor(config);
  }

  /** The DDIM / DDPM schedule for `timestep_spacing`. */
  setTimesteps(numInferenceSteps: number): void {
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = discreteTimesteps(this.config, numInferenceSteps);
  }

  scaleModelInput(sample: Latents, _timestep: number): Latents {
    return sample;
  }

  /** alpha_prod at a previous timestep; before t = 0, final_alpha_cumprod (1 with set_alpha_to_one). */
  protected alphaProdPrev(prevT: number): number {
    if (prevT >= 0) return this.alphasCumprod[prevT]!;
    return this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  protected requireTimesteps(): number {
    if (this.numInferenceSteps === null) throw new Error(`${this.className}: call setTimesteps before step`);
    return this.numInferenceSteps;
  }

  addNoise(original: Latents, noise: Latents, timestep: number): Latents {
    return addNoiseAlphas(this.alphasCumprod, original, noise, timestep);
  }
}
