// Request + model + processed prompt → the job's normalised params (what the model will see).
import { randomInt } from 'node:crypto';
import type { CreateJobRequest, InputImageRef, JobParams } from '@sdsvc/contracts';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { checkSize } from '@sdsvc/engine/model-info';
import { defaultSizeFor } from '@sdsvc/images';
import type { ProcessedPrompt } from '@sdsvc/prompt';
import { HttpProblem } from '@sdsvc/contracts';

export const DEFAULTS = {
  img2imgStrength: 0.75,
  inpaintStrength: 1,
  referenceStrength: 0.75,
  resizeMode: 'resize',
  maskBlur: 4,
  fullResPadding: 32,
  quality: 90,
} as const;

/** Random seeds stay in 32 bits, like A1111's, so users can type them back. */
export const randomSeed = (): number => randomInt(0, 2 ** 32);

/** Size: as asked, else the init (or reference) image's size on the model's grid, else native. */
export function chooseSize(req: CreateJobRequest, model: ModelInfo, source: { width: number; height: number } | undefined): { width: number; height: number } {
  const fallback = source ? defaultSizeFor(source, model.sizeStep) : { width: model.nativeSize, height: model.nativeSize };
  const width = req.width ?? Math.min(fallback.width, model.maxSize);
  const height = req.height ?? Math.min(fallback.height, model.maxSize);
  const why = checkSize(model, width, height);
  if (why) {
    const path = why.startsWith('height') ? 'height' : 'width';
    throw new HttpProblem(400, 'invalid_size', why, { errors: [{ path, code: 'invalid_size', message: why }] });
  }
  return { width, height };
}

export function buildParams(
  req: CreateJobRequest,
  prompt: ProcessedPrompt,
  size: { width: number; height: number },
  inputs: NonNullable<JobParams['inputs']>,
): JobParams {
  const frag = (f: readonly [string, number]) => ({ text: f[0], weight: f[1] });
  const hasInputImage = Object.keys(inputs).length > 0;
  const params: JobParams = {
    prompt: prompt.prompt,
    prompt_raw: req.prompt,
    negative_prompt: prompt.negativePrompt,
    weights: { prompt: prompt.weights.positive.map(frag), negative_prompt: prompt.weights.negative.map(frag) },
    width: size.width,
    height: size.height,
    steps: req.steps,
    guidance_scale: req.guidance_scale,
    scheduler: req.scheduler ?? 'default',
    seed: req.seed ?? randomSeed(),
    num_images: req.num_images,
    output_format: req.output_format,
  };
  if (req.type === 'img2img') params.strength = req.strength ?? DEFAULTS.img2imgStrength;
  if (req.type === 'inpaint') {
    params.strength = req.strength ?? DEFAULTS.inpaintStrength;
    params.mask_blur = req.mask_blur ?? DEFAULTS.maskBlur;
    params.mask_invert = req.mask_invert ?? false;
    params.overlay = req.overlay ?? true;
    params.inpaint_full_res = req.inpaint_full_res ?? false;
    if (params.inpaint_full_res) params.inpaint_full_res_padding = req.inpaint_full_res_padding ?? DEFAULTS.fullResPadding;
  }
  if (inputs.reference_image) params.reference_strength = req.reference_strength ?? DEFAULTS.referenceStrength;
  if (hasInputImage) params.resize_mode = req.resize_mode ?? DEFAULTS.resizeMode;
  if (req.output_format !== 'png') params.output_quality = req.output_quality ?? DEFAULTS.quality;
  if (req.safety === false) params.safety = false;
  if (hasInputImage) params.inputs = inputs;
  return params;
}
