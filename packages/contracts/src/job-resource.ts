// The job resource: what GET /v1/jobs/:id, SSE events and webhooks carry.
import { z } from 'zod';
import { AnimationParams, AnimationResult } from './animation-request.ts';
import { JobStatus, JobType, JsonObject, OutputFormat, ResizeMode, Seed, Timestamp, WebhookEventType } from './common.ts';
import { AppliedLora } from './loras.ts';

export const PromptWeight = z.object({
  text: z.string(),
  weight: z.number(),
});
export type PromptWeight = z.infer<typeof PromptWeight>;

export const InputImageRef = z.object({
  key: z.string().describe('Object-store key of the decoded input, stored as PNG'),
  width: z.int(),
  height: z.int(),
});
export type InputImageRef = z.infer<typeof InputImageRef>;

/** Parameters after normalisation: what the model actually saw. */
export const JobParams = z.object({
  prompt: z.string().describe('Normalised prompt (inline negatives and {image} tags removed)'),
  prompt_raw: z.string().describe('The prompt as written'),
  negative_prompt: z.string().optional().describe('Negative prompt actually used (explicit + inline negatives); absent when the job has none (SDXL: zero negative embeddings)'),
  weights: z.object({
    prompt: z.array(PromptWeight),
    negative_prompt: z.array(PromptWeight),
  }).describe('Prompt fragments with their attention weights'),
  width: z.int(),
  height: z.int(),
  steps: z.int(),
  guidance_scale: z.number(),
  scheduler: z.string(),
  seed: Seed.describe('Seed used; image i uses seed + i'),
  num_images: z.int(),
  prompt_2: z.string().optional().describe('SDXL: as given'),
  negative_prompt_2: z.string().optional().describe('SDXL: as given'),
  original_size: z.object({ width: z.int(), height: z.int() }).optional().describe('SDXL: micro-conditioning, defaults filled in'),
  target_size: z.object({ width: z.int(), height: z.int() }).optional(),
  crops_coords_top_left: z.object({ top: z.int(), left: z.int() }).optional(),
  negative_original_size: z.object({ width: z.int(), height: z.int() }).optional().describe('SDXL: as given'),
  negative_target_size: z.object({ width: z.int(), height: z.int() }).optional(),
  negative_crops_coords_top_left: z.object({ top: z.int(), left: z.int() }).optional(),
  aesthetic_score: z.number().optional().describe('SDXL models with requires_aesthetics_score: defaults filled in'),
  negative_aesthetic_score: z.number().optional(),
  loras: z.array(AppliedLora).optional().describe('LoRAs applied (from the loras field and <lora:…> prompt tags), with the sha256 of each file'),
  strength: z.number().optional(),
  reference_strength: z.number().optional(),
  resize_mode: ResizeMode.optional(),
  mask_blur: z.int().optional(),
  mask_invert: z.boolean().optional(),
  overlay: z.boolean().optional(),
  inpaint_full_res: z.boolean().optional(),
  inpaint_full_res_padding: z.int().optional(),
  output_format: OutputFormat,
  output_quality: z.int().optional(),
  animation: AnimationParams.optional().describe('Animation jobs: the normalised animation settings'),
  preview: z.object({ every_steps: z.int(), format: z.enum(['webp', 'jpeg']) }).optional().describe('Live previews asked for (SSE preview events)'),
  safety: z.literal(false).optional().describe('Present (false) when the job skipped the safety checker'),
  inputs: z.object({
    init_image: InputImageRef.optional(),
    mask_image: InputImageRef.optional(),
    reference_image: InputImageRef.optional(),
  }).optional(),
});
export type JobParams = z.infer<typeof JobParams>;

export const ResultImage = z.object({
  url: z.string().nullable().describe('Presigned (S3) or signed (file store) URL, made when the resource is read; null for a blocked image'),
  key: z.string().nullable().describe('Object-store key; null for a blocked image (nothing stored)'),
  width: z.int(),
  height: z.int(),
  seed: Seed,
  content_type: z.string(),
  bytes: z.int(),
  nsfw: z.boolean().optional().describe('The image safety checker flagged it (SAFETY_MODE flag or blur)'),
  blocked: z.boolean().optional().describe('Flagged and not stored (SAFETY_MODE block)'),
});
export type ResultImage = z.infer<typeof ResultImage>;
/** Result image as stored on the record: everything but the URL. */
export type StoredResultImage = Omit<ResultImage, 'url'>;

export const JobError = z.object({
  code: z.string(),
  message: z.string(),
});
export type JobError = z.infer<typeof JobError>;

export const WebhookAttempt = z.object({
  webhook_id: z.string(),
  event: WebhookEventType,
  attempt: z.int().min(1),
  at: Timestamp,
  status: z.int().nullable().describe('HTTP status of the answer; null when none came'),
  ok: z.boolean(),
  error: z.string().optional(),
});
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const JobResource = z.object({
  id: z.string(),
  status: JobStatus,
  type: JobType,
  model: z.string(),
  params: JobParams,
  progress: z.object({
    step: z.int(),
    total: z.int(),
    frame: z.int().optional().describe('Animation jobs: the frame being generated (0-based)'),
    frames: z.int().optional().describe('Animation jobs: number of frames'),
  }),
  queue_position: z.int().nullable().describe('Jobs ahead of this one while queued (0 = next); null otherwise'),
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  cancel_requested: z.boolean(),
  attempts: z.int().describe('Worker attempts so far (retries are bounded)'),
  result: z.object({
    images: z.array(ResultImage),
    animation: AnimationResult.optional().describe('Animation jobs: the animation file'),
  }).nullable(),
  error: JobError.nullable(),
  metadata: JsonObject.nullable(),
  webhook: z.object({
    url: z.string(),
    events: z.array(WebhookEventType),
    attempts: z.array(WebhookAttempt),
  }).nullable(),
});
export type JobResource = z.infer<typeof JobResource>;
