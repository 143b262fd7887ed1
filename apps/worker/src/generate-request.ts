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
    ...(params.negative_prompt !== undefined ? { negativePrompt: params.negative_prompt } : {}),
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
  // SDXL (the API accepts these on SDXL models only). An absent negative_prompt stays absent:
  // SDXL then uses zero negative embeddings, "" would be encoded.
  if (params.prompt_2 !== undefined) request.prompt2 = params.prompt_2;
  if (params.negative_prompt_2 !== undefined) request.negativePrompt2 = params.negative_prompt_2;
  if (params.original_size) request.originalSize = params.original_size;
  if (params.target_size) request.targetSize = params.target_size;
  if (params.crops_coords_top_left) request.cropsCoordsTopLeft = params.crops_coords_top_left;
  if (params.negative_original_size) request.negativeOriginalSize = params.negative_original_size;
  if (params.negative_target_size) request.negativeTargetSize = params.negative_target_size;
  if (params.negative_crops_coords_top_left) request.negativeCropsCoordsTopLeft = params.negative_crops_coords_top_left;
  if (params.aesthetic_score !== undefined) request.aestheticScore = params.aesthetic_score;
  if (params.negative_aesthetic_score !== undefined) request.negativeAestheticScore = params.negative_aesthetic_score;
  // params.loras with their files (job-loras.ts); the engine checks each sha256 before merging.
  if (opts.loras?.length) request.loras = opts.loras;
  return request;
}
