// A1111 txt2img / img2img request → CreateJobRequest bodies: one job per n_iter batch of
// batch_size images, seeds consecutive across batches (image i uses seed + i, as A1111's
// all_seeds); sampler names through the sampler table.
import type { A1111Img2ImgRequest, A1111Txt2ImgRequest } from '@sdsvc/contracts';
import { randomSeed } from '@sdsvc/submission';
import { resolveSampler, type ResolvedSampler } from './samplers.ts';

const RESIZE_MODES = ['resize', 'crop', 'fill', 'resize'] as const;
/** Live previews per image of an A1111 job (current_image of /progress); JPEG, as A1111's default live preview format decodes everywhere. */
export const A1111_PREVIEWS_PER_IMAGE = 10;

export interface A1111Translation {
  bodies: Array<Record<string, unknown>>;
  seed: number;
  sampler: ResolvedSampler;
}

export function isImg2Img(req: A1111Txt2ImgRequest | A1111Img2ImgRequest): req is A1111Img2ImgRequest {
  return 'init_images' in req;
}

/** `model`: the checkpoint's model id, or undefined for DEFAULT_MODEL. */
export function toJobBodies(req: A1111Txt2ImgRequest | A1111Img2ImgRequest, model: string | undefined): A1111Translation {
  const sampler = resolveSampler(req.sampler_name ?? req.sampler_index, req.scheduler);
  const seed = req.seed === -1 ? randomSeed() : req.seed;
  const base: Record<string, unknown> = {
    prompt: req.prompt,
    steps: req.steps,
    guidance_scale: req.cfg_scale,
    width: req.width,
    height: req.height,
    scheduler: sampler.scheduler,
    num_images: req.batch_size,
    output_format: 'png',
    // /sdapi/v1/progress shows the latest live preview as current_image: about ten per image.
    preview: { every_steps: Math.max(1, Math.ceil(req.steps / A1111_PREVIEWS_PER_IMAGE)), format: 'jpeg' },
  };
  if (model !== undefined) base.model = model;
  if (req.negative_prompt) base.negative_prompt = req.negative_prompt;
  if (isImg2Img(req)) {
    base.type = req.mask ? 'inpaint' : 'img2img';
    base.init_image = req.init_images[0];
    base.strength = req.denoising_strength ?? 0.75;
    base.resize_mode = RESIZE_MODES[req.resize_mode];
    if (req.mask) {
      base.mask_image = req.mask;
      base.mask_blur = req.mask_blur ?? Math.max(req.mask_blur_x ?? 4, req.mask_blur_y ?? 4);
      base.mask_invert = Boolean(req.inpainting_mask_invert);
      base.inpaint_full_res = Boolean(req.inpaint_full_res);
      if (req.inpaint_full_res) base.inpaint_full_res_padding = req.inpaint_full_res_padding ?? 32;
    }
  }
  const bodies = Array.from({ length: req.n_iter }, (_, i) => ({ ...base, seed: seed + i * req.batch_size }));
  return { bodies, seed, sampler };
}

/** Our field names → the A1111 request's, for error locations. */
const FIELD_NAMES: Record<string, string> = {
  guidance_scale: 'cfg_scale', num_images: 'batch_size', init_image: 'init_images', mask_image: 'mask', strength: 'denoising_strength',
  scheduler: 'sampler_name', model: 'override_settings.sd_model_checkpoint', mask_invert: 'inpainting_mask_invert', resize_mode: 'resize_mode',
};
export const a1111Field = (path: string): string => FIELD_NAMES[path.split('.')[0]] ?? path;
