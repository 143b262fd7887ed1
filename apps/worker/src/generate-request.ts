// Job params (as normalised by the API and stored on the record) → the engine's GenerateRequest.
import type { JobParams, JobType } from '@sdsvc/contracts';
import type { GenerateRequest } from '@sdsvc/engine';
import type { PreparedInputs } from './job-inputs.ts';
import type { EngineLora } from '@sdsvc/engine';

/** What the reference image of an `{image}` tag defaults to when no reference_strength is given. */
export const DEFAULT_REFERENCE_STRENGTH = 0.75;

export function buildGenerateRequest(type: JobType, params: JobParams, inputs: PreparedInputs, opts: { loras?: EngineLora[] } = {}): GenerateRequest {
  if (type === 'animation') throw new TypeError('animation jobs run frame by frame (run-animation.ts), not as one request');
  const request: GenerateRequest = {
    mode: type,
    prompt: params.prompt,
    negativePrompt: params.negative_prompt,
    // The API keeps the A1111 weight syntax in the normalised prompt; the engine applies it.
    promptSyntax: 'a1111',
    width: params.width,
    height: params.height,
    steps: params.steps,
    guidanceScale: params.guidance_scale,
    seed: params.seed,
    numImages: params.num_images,
  };
  if (params.scheduler && params.scheduler !== 'default') request.scheduler = params.scheduler;
  if (inputs.init) {
    request.initImage = inputs.init;
    request.strength = params.strength;
  }
  if (type === 'txt2img' && inputs.init) {
    // A reference image ({image} tag) guides a txt2img job as an img2img init image.
    request.mode = 'img2img';
    request.strength = params.reference_strength ?? DEFAULT_REFERENCE_STRENGTH;
  }
  if (type === 'inpaint' && inputs.mask) request.maskImage = inputs.mask;
  // params.loras with their files (job-loras.ts); the engine checks each sha256 before merging.
  if (opts.loras?.length) request.loras = opts.loras;
  return request;
}
