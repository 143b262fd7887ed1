// The AUTOMATIC1111 API surface (/sdapi/v1/*): the request fields clients send, with A1111's
// defaults. Unknown keys are ignored, as A1111 does; fields that change nothing here are accepted
// (A1111_IGNORED_FIELDS, listed in the README). The adapter translates into a CreateJobRequest.
import { z } from 'zod';
import { LIMITS } from './job-request.ts';

/** Fields accepted for compatibility that have no effect on the image here. */
export const A1111_IGNORED_FIELDS = [
  'styles', 'subseed', 'subseed_strength', 'seed_resize_from_h', 'seed_resize_from_w', 'restore_faces', 'tiling',
  'do_not_save_samples', 'do_not_save_grid', 'eta', 's_min_uncond', 's_churn', 's_tmax', 's_tmin', 's_noise',
  'override_settings_restore_afterwards', 'refiner_checkpoint', 'refiner_switch_at', 'disable_extra_networks',
  'firstpass_image', 'comments', 'enable_hr', 'firstphase_width', 'firstphase_height', 'hr_scale', 'hr_upscaler',
  'hr_second_pass_steps', 'hr_resize_x', 'hr_resize_y', 'hr_checkpoint_name', 'hr_sampler_name', 'hr_scheduler',
  'hr_prompt', 'hr_negative_prompt', 'force_task_id', 'script_name', 'script_args', 'alwayson_scripts', 'infotext',
  'save_images', 'include_init_images', 'image_cfg_scale', 'initial_noise_multiplier', 'latent_mask',
  'override_settings (all but sd_model_checkpoint)', 'clip_skip',
] as const;

/** A1111 allows null for every optional field: the adapter drops null fields ("not given") before parsing. */
const opt = <T extends z.ZodType>(t: T) => t.optional();
const Flag = z.union([z.literal(0), z.literal(1), z.boolean()]);

const A1111Common = {
  prompt: z.string().max(LIMITS.promptChars).default(''),
  negative_prompt: opt(z.string().max(LIMITS.promptChars)),
  seed: z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER).default(-1).describe('-1 = random'),
  subseed: z.number().int().default(-1).describe('Accepted and echoed in info; not used'),
  sampler_name: opt(z.string().max(64)).describe('A1111 sampler name, e.g. "Euler a", "DPM++ 2M" or "DPM++ 2M Karras" (GET /sdapi/v1/samplers)'),
  sampler_index: opt(z.string().max(64)).describe('Legacy name of sampler_name'),
  scheduler: opt(z.string().max(64)).describe('Schedule type: Automatic or Karras (others fall back to Automatic)'),
  batch_size: z.number().int().min(1).max(LIMITS.numImages).default(1),
  n_iter: z.number().int().min(1).max(16).default(1),
  steps: z.number().int().min(1).max(LIMITS.steps).default(50),
  cfg_scale: z.number().min(0).max(LIMITS.guidanceScale).default(7),
  width: z.number().int().min(8).max(LIMITS.dimension).default(512),
  height: z.number().int().min(8).max(LIMITS.dimension).default(512),
  denoising_strength: opt(z.number().min(0).max(1)).describe('img2img only (default 0.75); ignored by txt2img (hires fix is not supported)'),
  override_settings: opt(z.record(z.string(), z.unknown())).describe('Only sd_model_checkpoint is used'),
  send_images: z.boolean().default(true),
  save_images: opt(z.boolean()).describe('Accepted; images are always stored'),
};

export const A1111Txt2ImgRequest = z.object(A1111Common)
  .describe('POST /sdapi/v1/txt2img. Unknown fields are ignored; see the README for the fields accepted but ignored.');
export type A1111Txt2ImgRequest = z.output<typeof A1111Txt2ImgRequest>;

export const A1111Img2ImgRequest = z.object({
  ...A1111Common,
  init_images: z.array(z.string().min(1)).min(1).describe('base64 or data: URLs; the first is used'),
  mask: opt(z.string().min(1)).describe('Inpainting mask (white = repaint)'),
  mask_blur: opt(z.number().int().min(0).max(LIMITS.maskBlur)),
  mask_blur_x: opt(z.number().int().min(0).max(LIMITS.maskBlur)),
  mask_blur_y: opt(z.number().int().min(0).max(LIMITS.maskBlur)),
  inpainting_mask_invert: Flag.default(false),
  inpainting_fill: opt(z.number().int().min(0).max(3)).describe('Accepted; our inpaint always starts from the original (1) with the model\'s own fill'),
  inpaint_full_res: Flag.default(false),
  inpaint_full_res_padding: opt(z.number().int().min(0).max(LIMITS.fullResPadding)),
  resize_mode: z.number().int().min(0).max(3).default(0).describe('0 stretch, 1 crop, 2 fill (3, latent upscale, is treated as 0)'),
});
export type A1111Img2ImgRequest = z.output<typeof A1111Img2ImgRequest>;

export const A1111ImagesResponse = z.object({
  images: z.array(z.string()).describe('base64 PNGs (with the parameters text chunk)'),
  parameters: z.record(z.string(), z.unknown()).describe('The request with defaults filled in'),
  info: z.string().describe('JSON text: prompt, all_prompts, seed, all_seeds, infotexts, …'),
});

export const A1111Options = z.record(z.string(), z.unknown())
  .describe('sd_model_checkpoint (per caller, kept in Redis), sd_vae, CLIP_stop_at_last_layers, samples_format, …; POST accepts any of them, only sd_model_checkpoint has an effect');

export const A1111Progress = z.object({
  progress: z.number(),
  eta_relative: z.number(),
  state: z.object({
    skipped: z.boolean(), interrupted: z.boolean(), stopping_generation: z.boolean(), job: z.string(), job_count: z.int(),
    job_timestamp: z.string(), job_no: z.int(), sampling_step: z.int(), sampling_steps: z.int(),
  }),
  current_image: z.string().nullable().describe('The running job\'s latest live preview, base64 JPEG (null with skip_current_image=true, when idle or before the first preview)'),
  textinfo: z.string().nullable(),
  current_task: z.string().nullable(),
});

export const A1111Error = z.object({
  error: z.string().optional(),
  detail: z.unknown(),
  body: z.string().optional(),
  errors: z.string().optional(),
}).describe('FastAPI/A1111 error: {detail} (401, 422 validation with [{loc, msg, type}]) or {error, detail, body, errors}');
