// OpenAI Images request → CreateJobRequest bodies. Model names, the quality → steps table, size
// and n are translated here; everything else is checked by the job service.
import type { OpenAIImageEditRequest, OpenAIImageGenerationRequest } from '@sdsvc/contracts';
import { LIMITS } from '@sdsvc/contracts';
import { FILE_PART, randomSeed } from '@sdsvc/submission';

/** quality → denoising steps (`steps` overrides it). */
export const QUALITY_STEPS = { low: 10, medium: 20, high: 40, auto: 20, standard: 20, hd: 40 } as const;
/** quality → the tier reported back (the SDK's low | medium | high). */
export const QUALITY_TIER = { low: 'low', medium: 'medium', high: 'high', auto: 'medium', standard: 'medium', hd: 'high' } as const;

/** OpenAI's own image model names: mapped by OPENAI_MODEL_MAP, else DEFAULT_MODEL. */
const OPENAI_MODEL = /^(dall-e-\d|gpt-image-[\w.-]+|chatgpt-image[\w.-]*)$/;

/** The model id to ask for, or undefined for DEFAULT_MODEL. */
export function resolveModel(model: string | undefined, map: Readonly<Record<string, string>>): string | undefined {
  if (model === undefined) return undefined;
  if (Object.hasOwn(map, model)) return map[model];
  if (OPENAI_MODEL.test(model)) return undefined;
  return model;
}

type Request = OpenAIImageGenerationRequest | OpenAIImageEditRequest;

export interface Translated {
  bodies: Array<Record<string, unknown>>;
  tier: 'low' | 'medium' | 'high';
}

/**
 * One job per ≤ LIMITS.numImages images; consecutive seeds across jobs, so `n` images are the
 * same as one job of `n` would give (image i uses seed + i).
 */
export function toJobBodies(req: Request, opts: { modelMap: Readonly<Record<string, string>>; edit?: { mask: boolean } }): Translated {
  const base: Record<string, unknown> = {
    prompt: req.prompt,
    steps: req.steps ?? QUALITY_STEPS[req.quality],
    output_format: req.output_format,
  };
  const model = resolveModel(req.model, opts.modelMap);
  if (model !== undefined) base.model = model;
  if (req.size !== 'auto') {
    const [w, h] = req.size.split('x').map(Number);
    base.width = w;
    base.height = h;
  }
  if (req.output_format !== 'png' && req.output_compression !== undefined) base.output_quality = Math.max(1, req.output_compression);
  if (req.negative_prompt !== undefined) base.negative_prompt = req.negative_prompt;
  if (req.guidance_scale !== undefined) base.guidance_scale = req.guidance_scale;
  if (req.scheduler !== undefined) base.scheduler = req.scheduler;
  if (req.user !== undefined) base.metadata = { openai_user: req.user };
  if (opts.edit) {
    base.type = opts.edit.mask ? 'inpaint' : 'img2img';
    base.init_image = FILE_PART;
    if (opts.edit.mask) base.mask_image = FILE_PART;
    const strength = (req as OpenAIImageEditRequest).strength;
    if (strength !== undefined) base.strength = strength;
  }
  const seed = req.seed ?? randomSeed();
  const bodies: Array<Record<string, unknown>> = [];
  for (let done = 0; done < req.n; done += LIMITS.numImages) {
    bodies.push({ ...base, seed: seed + done, num_images: Math.min(LIMITS.numImages, req.n - done) });
  }
  const partials = streamedPartials(req);
  // Partial images are live previews of the first job, spread over its steps: one every
  // ⌊steps / (partial_images + 1)⌋ steps, the first partial_images of them sent.
  if (partials > 0) bodies[0]!.preview = { every_steps: Math.max(1, Math.floor((base.steps as number) / (partials + 1))), format: previewFormat(req.output_format) };
  return { bodies, tier: QUALITY_TIER[req.quality] };
}

/** Partial images the request streams (0 without stream: true). */
export function streamedPartials(req: Request): number {
  return req.stream === true || req.stream === 'true' ? req.partial_images : 0;
}

/** Partial images are previews: JPEG for jpeg requests, else WebP (small; PNG previews would not be). */
export const previewFormat = (outputFormat: string): 'jpeg' | 'webp' => (outputFormat === 'jpeg' ? 'jpeg' : 'webp');

/** Our field names → the OpenAI request's, for error `param`. */
const PARAM_NAMES: Record<string, string> = {
  width: 'size', height: 'size', num_images: 'n', init_image: 'image', mask_image: 'mask', output_quality: 'output_compression',
  metadata: 'user', type: 'image',
};
export const openaiParam = (path: string | undefined): string | null => (path ? PARAM_NAMES[path.split('.')[0]] ?? path : null);
