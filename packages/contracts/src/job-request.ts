// POST /v1/jobs body. Field names and error codes are a public contract.
import { z } from 'zod';
import { ImageJobType, JsonValue, OutputFormat, ResizeMode, Seed, WebhookEventType, WEBHOOK_EVENTS } from './common.ts';
import { LoraRef, MAX_LORAS_IN_SCHEMA } from './loras.ts';
import { presentKeysParser } from './present-keys.ts';

export const LIMITS = {
  promptChars: 8000,
  dimension: 2048,
  steps: 150,
  guidanceScale: 50,
  numImages: 8,
  maskBlur: 256,
  fullResPadding: 512,
  metadataBytes: 4096,
  modelId: 128,
} as const;

/** base64, a `data:` URL or an `https` URL; multipart file parts are turned into one of these upstream. */
const ImageInput = z.string().min(1).describe('Image as base64, a data: URL, or an https URL (or a multipart file part)');

export const WebhookSpec = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048).describe('Receiver URL; private, loopback and link-local addresses are refused unless ALLOW_PRIVATE_URLS'),
  events: z.array(WebhookEventType).min(1).max(WEBHOOK_EVENTS.length).optional()
    .describe('Events to deliver; all when absent'),
});
export type WebhookSpec = z.infer<typeof WebhookSpec>;

const Dimension = z.int().min(8).max(LIMITS.dimension).multipleOf(8);

export const PREVIEW_FORMATS = ['webp', 'jpeg'] as const;
/** Live previews while the job runs: SSE `preview` events (and the latest one kept briefly for late readers). */
export const PreviewSpec = z.strictObject({
  every_steps: z.int().min(1).max(LIMITS.steps).default(1).describe('A preview after every k-th denoising step (default 1)'),
  format: z.enum(PREVIEW_FORMATS).default('webp').describe('Image format of the previews (small, low quality)'),
}).describe('Live previews: a cheap approximation of the image (TAESD when the model has vae_approx/model.onnx, else a linear latent→RGB map) every every_steps steps');
export type PreviewSpec = z.output<typeof PreviewSpec>;

/** SDXL micro-conditioning: a size the model is told about (not the output size); any positive pixel size. */
export const SdxlSize = z.strictObject({
  width: z.int().min(1).max(16384),
  height: z.int().min(1).max(16384),
});
export type SdxlSize = z.infer<typeof SdxlSize>;
export const SdxlCrop = z.strictObject({
  top: z.int().min(0).max(16384),
  left: z.int().min(0).max(16384),
});
export type SdxlCrop = z.infer<typeof SdxlCrop>;

/** Fields only SDXL models take (a 400 naming the field on other models). */
export const SDXL_ONLY_FIELDS = [
  'prompt_2', 'negative_prompt_2', 'original_size', 'target_size', 'crops_coords_top_left',
  'negative_original_size', 'negative_target_size', 'negative_crops_coords_top_left', 'aesthetic_score', 'negative_aesthetic_score',
] as const;

const CreateJobRequestBase = z.strictObject({
  type: ImageJobType.default('txt2img'),
  model: z.string().min(1).max(LIMITS.modelId).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional()
    .describe('Model id (a folder of MODELS_DIR); DEFAULT_MODEL when absent'),
  prompt: z.string().min(1).max(LIMITS.promptChars).describe('Prompt in A1111 syntax: (word:1.3), [word], BREAK, (-negative terms), {image}'),
  negative_prompt: z.string().max(LIMITS.promptChars).optional()
    .describe('Absent means no negative prompt, which differs from "" on SDXL models (zero negative embeddings)'),
  prompt_2: z.string().min(1).max(LIMITS.promptChars).optional().describe('SDXL only: prompt for the second text encoder (default: prompt)'),
  negative_prompt_2: z.string().max(LIMITS.promptChars).optional().describe('SDXL only: negative prompt for the second text encoder (default: negative_prompt)'),
  original_size: SdxlSize.optional().describe('SDXL only: micro-conditioning original size (default: the output size)'),
  target_size: SdxlSize.optional().describe('SDXL only: micro-conditioning target size (default: the output size)'),
  crops_coords_top_left: SdxlCrop.optional().describe('SDXL only: micro-conditioning crop origin (default {top: 0, left: 0})'),
  negative_original_size: SdxlSize.optional().describe('SDXL only: original size of the negative conditioning'),
  negative_target_size: SdxlSize.optional().describe('SDXL only: target size of the negative conditioning'),
  negative_crops_coords_top_left: SdxlCrop.optional().describe('SDXL only: crop origin of the negative conditioning'),
  aesthetic_score: z.number().min(0).max(10).optional().describe('SDXL models with requires_aesthetics_score (refiners) only; default 6'),
  negative_aesthetic_score: z.number().min(0).max(10).optional().describe('SDXL models with requires_aesthetics_score (refiners) only; default 2.5'),
  width: Dimension.optional().describe('Multiple of the model size step; model native size (or the init image size) when absent'),
  height: Dimension.optional(),
  steps: z.int().min(1).max(LIMITS.steps).default(20),
  guidance_scale: z.number().min(0).max(LIMITS.guidanceScale).default(7.5),
  scheduler: z.string().min(1).max(64).optional().describe("Scheduler name: `default` or one of GET /v1/models `schedulers` (lower case, e.g. euler_a, dpmpp_2m_karras); the model's own when absent"),
  seed: Seed.optional().describe('0…2^53−1; random when absent (the seed used is reported in params.seed)'),
  num_images: z.int().min(1).max(LIMITS.numImages).default(1),
  loras: z.array(LoraRef).max(MAX_LORAS_IN_SCHEMA).optional()
    .describe('LoRA adapters merged into the model for this job (at most MAX_LORAS_PER_JOB, default 4); prompt tags <lora:name:scale> add to it'),
  strength: z.number().gt(0).max(1).optional().describe('img2img/inpaint only; default 0.75 (img2img), 1 (inpaint); SDXL models 0.3 and 0.9999'),
  init_image: ImageInput.optional().describe('Required for img2img and inpaint'),
  mask_image: ImageInput.optional().describe('inpaint only: white = repaint, black = keep'),
  reference_image: ImageInput.optional().describe('txt2img only: the image an {image} tag in the prompt refers to'),
  reference_strength: z.number().gt(0).max(1).optional().describe('Strength of the reference image (default 0.75)'),
  resize_mode: ResizeMode.optional().describe('How an input image is fitted to width × height (default resize)'),
  mask_blur: z.int().min(0).max(LIMITS.maskBlur).optional().describe('inpaint only: mask blur radius in pixels (default 4)'),
  mask_invert: z.boolean().optional().describe('inpaint only: swap repaint and keep'),
  overlay: z.boolean().optional().describe('inpaint only: paste original pixels back outside the mask (default true)'),
  inpaint_full_res: z.boolean().optional().describe('inpaint only: crop to the mask, generate at full size, paste back'),
  inpaint_full_res_padding: z.int().min(0).max(LIMITS.fullResPadding).optional().describe('inpaint only: padding around the mask crop in pixels (default 32)'),
  output_format: OutputFormat.default('png'),
  output_quality: z.int().min(1).max(100).optional().describe('webp/jpeg quality (default 90)'),
  webhook: WebhookSpec.optional(),
  preview: PreviewSpec.optional(),
  safety: z.boolean().optional().describe('false skips the image safety checker; only for API keys listed in SAFETY_EXEMPT_KEYS'),
  metadata: z.record(z.string().max(128), JsonValue).optional().describe(`Small JSON object echoed back (at most ${LIMITS.metadataBytes} bytes)`),
});

type Base = z.output<typeof CreateJobRequestBase>;
type Ctx = z.core.$RefinementCtx<Base>;

function reject(ctx: Ctx, path: string, code: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [path], message, params: { code } });
}

const INPAINT_ONLY = ['mask_image', 'mask_blur', 'mask_invert', 'overlay', 'inpaint_full_res', 'inpaint_full_res_padding'] as const;

/** Cross-field rules: what each job type takes. */
function checkPerType(v: Base, ctx: Ctx): void {
  const needsInit = v.type === 'img2img' || v.type === 'inpaint';
  if (needsInit && v.init_image === undefined) reject(ctx, 'init_image', 'required', `init_image is required for ${v.type}`);
  if (v.type === 'inpaint' && v.mask_image === undefined) reject(ctx, 'mask_image', 'required', 'mask_image is required for inpaint');
  if (!needsInit) {
    for (const f of ['init_image', 'strength'] as const) {
      if (v[f] !== undefined) reject(ctx, f, 'not_allowed_for_type', `${f} is only accepted for img2img and inpaint`);
    }
  }
  if (v.type !== 'inpaint') {
    for (const f of INPAINT_ONLY) {
      if (v[f] !== undefined) reject(ctx, f, 'not_allowed_for_type', `${f} is only accepted for inpaint`);
    }
  }
  if (needsInit) {
    for (const f of ['reference_image', 'reference_strength'] as const) {
      if (v[f] !== undefined) reject(ctx, f, 'not_allowed_for_type', `${f} is only accepted for txt2img (an ${v.type} job already has an init image)`);
    }
  }
  if (v.type === 'txt2img' && v.resize_mode !== undefined && v.reference_image === undefined && !v.prompt.includes('{image')) {
    reject(ctx, 'resize_mode', 'not_allowed_for_type', 'resize_mode applies to input images: img2img, inpaint or a reference image');
  }
  if (v.output_quality !== undefined && v.output_format === 'png') {
    reject(ctx, 'output_quality', 'not_allowed_for_format', 'output_quality applies to webp and jpeg only');
  }
  if (v.metadata !== undefined && Buffer.byteLength(JSON.stringify(v.metadata)) > LIMITS.metadataBytes) {
    reject(ctx, 'metadata', 'too_big', `metadata must serialise to at most ${LIMITS.metadataBytes} bytes`);
  }
}

export const CreateJobRequest = CreateJobRequestBase.superRefine(checkPerType);
export type CreateJobRequest = z.output<typeof CreateJobRequest>;
/** CreateJobRequest.safeParse, run over the fields a body has (present-keys.ts): the submission path's. */
export const createJobRequestParser = presentKeysParser<CreateJobRequest>(CreateJobRequestBase, checkPerType, CreateJobRequest);
export type CreateJobRequestInput = z.input<typeof CreateJobRequest>;

/** Field names of the request body (multipart text parts use the same names). */
export const CREATE_JOB_FIELDS = Object.keys(CreateJobRequestBase.shape) as Array<keyof Base>;
export const IMAGE_FIELDS = ['init_image', 'mask_image', 'reference_image'] as const;
export type ImageField = (typeof IMAGE_FIELDS)[number];
