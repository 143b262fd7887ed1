// Request + model + processed prompt → the job's normalised params (what the model will see).
import { randomInt } from 'node:crypto';
import { SDXL_ONLY_FIELDS, validationProblem, type CreateJobRequest, type InputImageRef, type JobParams } from '@sdsvc/contracts';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { checkSize, SDXL_DEFAULT_AESTHETIC_SCORE, SDXL_DEFAULT_STRENGTH } from '@sdsvc/engine/model-info';
import { defaultSizeFor } from '@sdsvc/images';
import { extractInlineNegatives, type ProcessedPrompt } from '@sdsvc/prompt';
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

/** SDXL-only fields on another model: 400 validation_failed naming each field (code not_allowed_for_model). */
export function checkSdxlFields(req: CreateJobRequest, model: ModelInfo): void {
  if (model.sdxl) return;
  const used = SDXL_ONLY_FIELDS.filter((f) => req[f] !== undefined);
  if (used.length === 0) return;
  throw validationProblem(used.map((f) => ({
    path: f, code: 'not_allowed_for_model', message: `${f} is only accepted for SDXL models (model ${model.id} is ${model.kind})`,
  })), `${used.join(', ')}: SDXL models only`);
}

export function buildParams(
  req: CreateJobRequest,
  prompt: ProcessedPrompt,
  size: { width: number; height: number },
  inputs: NonNullable<JobParams['inputs']>,
  model?: ModelInfo,
): JobParams {
  const frag = (f: readonly [string, number]) => ({ text: f[0], weight: f[1] });
  const hasInputImage = Object.keys(inputs).length > 0;
  const params: JobParams = {
    prompt: prompt.prompt,
    prompt_raw: req.prompt,
    // Absent when the job has no negative prompt at all (not even inline ones): SDXL then
    // zeroes the negative embeddings, while "" is encoded.
    ...(req.negative_prompt !== undefined || prompt.negativePrompt !== '' ? { negative_prompt: prompt.negativePrompt } : {}),
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
  const xl = model?.sdxl;
  if (req.type === 'img2img') params.strength = req.strength ?? (xl ? SDXL_DEFAULT_STRENGTH.img2img : DEFAULTS.img2imgStrength);
  if (req.type === 'inpaint') {
    params.strength = req.strength ?? (xl ? SDXL_DEFAULT_STRENGTH.inpaint : DEFAULTS.inpaintStrength);
    params.mask_blur = req.mask_blur ?? DEFAULTS.maskBlur;
    params.mask_invert = req.mask_invert ?? false;
    params.overlay = req.overlay ?? true;
    params.inpaint_full_res = req.inpaint_full_res ?? false;
    if (params.inpaint_full_res) params.inpaint_full_res_padding = req.inpaint_full_res_padding ?? DEFAULTS.fullResPadding;
  }
  if (inputs.reference_image) params.reference_strength = req.reference_strength ?? DEFAULTS.referenceStrength;
  if (hasInputImage) params.resize_mode = req.resize_mode ?? DEFAULTS.resizeMode;
  if (req.output_format !== 'png') params.output_quality = req.output_quality ?? DEFAULTS.quality;
  if (xl) {
    // prompt_2 speaks the same language: its inline negatives join the second negative prompt
    // (which defaults to the first one); weights and BREAK are applied by the engine.
    if (req.prompt_2 !== undefined) {
      const inline = extractInlineNegatives(req.prompt_2);
      params.prompt_2 = inline.text.trim();
      if (inline.negatives.length > 0) {
        params.negative_prompt_2 = [(req.negative_prompt_2 ?? params.negative_prompt ?? '').trim(), ...inline.negatives].filter((x) => x !== '').join(', ');
      }
    }
    if (req.negative_prompt_2 !== undefined && params.negative_prompt_2 === undefined) params.negative_prompt_2 = req.negative_prompt_2;
    params.original_size = req.original_size ?? size;
    params.target_size = req.target_size ?? size;
    params.crops_coords_top_left = req.crops_coords_top_left ?? { top: 0, left: 0 };
    if (req.negative_original_size) params.negative_original_size = req.negative_original_size;
    if (req.negative_target_size) params.negative_target_size = req.negative_target_size;
    if (req.negative_crops_coords_top_left) params.negative_crops_coords_top_left = req.negative_crops_coords_top_left;
    if (xl.requiresAestheticsScore) {
      params.aesthetic_score = req.aesthetic_score ?? SDXL_DEFAULT_AESTHETIC_SCORE.positive;
      params.negative_aesthetic_score = req.negative_aesthetic_score ?? SDXL_DEFAULT_AESTHETIC_SCORE.negative;
    }
  }
  if (req.safety === false) params.safety = false;
  if (req.preview) params.preview = req.preview;
  if (hasInputImage) params.inputs = inputs;
  return params;
}
