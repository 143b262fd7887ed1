// The OpenAI Images API surface (/v1/images/generations, /v1/images/edits): request bodies as the
// official SDK sends them, plus extensions for self-hosted use. The adapter translates them into a
// CreateJobRequest; the job service does the real validation (sizes, schedulers, images).
import { z } from 'zod';
import { OutputFormat, Seed } from './common.ts';
import { LIMITS } from './job-request.ts';

export const OPENAI_QUALITIES = ['low', 'medium', 'high', 'auto', 'standard', 'hd'] as const;
export const OPENAI_BACKGROUNDS = ['auto', 'opaque', 'transparent'] as const;
export const OPENAI_RESPONSE_FORMATS = ['b64_json', 'url'] as const;
/** Most images one request may ask for (OpenAI's limit). */
export const OPENAI_MAX_N = 10;

const Size = z.string().regex(/^(auto|\d{1,5}x\d{1,5})$/, 'size must be WIDTHxHEIGHT (e.g. 512x512) or auto')
  .describe('WIDTHxHEIGHT, or auto = the model\'s native size');

/** Fields both endpoints take. Numbers and booleans are coerced: edits arrive as multipart text parts. */
const common = {
  prompt: z.string().min(1).max(LIMITS.promptChars),
  model: z.string().min(1).max(128).optional()
    .describe('A model id from GET /v1/models, or an OpenAI model name (dall-e-2, dall-e-3, gpt-image-1, …) mapped by OPENAI_MODEL_MAP, else DEFAULT_MODEL'),
  n: z.coerce.number().int().min(1).max(OPENAI_MAX_N).default(1),
  size: Size.default('auto'),
  response_format: z.enum(OPENAI_RESPONSE_FORMATS).default('b64_json').describe('b64_json (default) or url (signed or presigned URL of the stored image)'),
  output_format: OutputFormat.default('png'),
  output_compression: z.coerce.number().int().min(0).max(100).optional().describe('jpeg/webp quality 0–100 (ignored for png)'),
  quality: z.enum(OPENAI_QUALITIES).default('auto').describe('Step count: low 10, medium/auto/standard 20, high/hd 40 (steps overrides)'),
  background: z.enum(OPENAI_BACKGROUNDS).default('auto').describe('transparent is not supported (400)'),
  moderation: z.string().max(32).optional().describe('Accepted, ignored'),
  user: z.string().max(256).optional().describe('Recorded in the job metadata as openai_user'),
  stream: z.union([z.boolean(), z.enum(['true', 'false'])]).default(false).describe('Server-Sent Events: partial images, then one completed event per image'),
  partial_images: z.coerce.number().int().min(0).max(3).default(0).describe('Partial images to stream: live previews of the first image, spread over its steps (WebP, or JPEG for jpeg requests; a fast job may send fewer)'),
  // Extensions for self-hosted use.
  negative_prompt: z.string().max(LIMITS.promptChars).optional(),
  seed: z.coerce.number().pipe(Seed).optional().describe('Image i uses seed + i; random when absent'),
  steps: z.coerce.number().int().min(1).max(LIMITS.steps).optional().describe('Overrides the quality table'),
  guidance_scale: z.coerce.number().min(0).max(LIMITS.guidanceScale).optional(),
  scheduler: z.string().min(1).max(64).optional().describe('A scheduler name from GET /v1/models'),
};

export const OpenAIImageGenerationRequest = z.object({
  ...common,
  style: z.string().max(32).optional().describe('Accepted, ignored'),
}).describe('POST /v1/images/generations (JSON). Unknown fields are ignored.');
export type OpenAIImageGenerationRequest = z.output<typeof OpenAIImageGenerationRequest>;

export const OpenAIImageEditRequest = z.object({
  ...common,
  strength: z.coerce.number().gt(0).max(1).optional().describe('How much the image changes (default 0.75 without a mask, 1 with one)'),
  input_fidelity: z.string().max(32).optional().describe('Accepted, ignored'),
}).describe('POST /v1/images/edits (multipart): these fields as text parts, plus file parts `image` (or `image[]`; the first is used) '
  + 'and an optional `mask` (PNG whose transparent pixels mark the area to repaint → an inpaint job; without a mask → img2img).');
export type OpenAIImageEditRequest = z.output<typeof OpenAIImageEditRequest>;

export const OpenAIImage = z.object({
  b64_json: z.string().optional(),
  url: z.string().optional(),
  revised_prompt: z.string().optional(),
});

export const OpenAIUsage = z.object({
  input_tokens: z.int(),
  input_tokens_details: z.object({ image_tokens: z.int(), text_tokens: z.int() }),
  output_tokens: z.int(),
  total_tokens: z.int(),
});

export const OpenAIImagesResponse = z.object({
  created: z.int().describe('Unix seconds'),
  data: z.array(OpenAIImage),
  output_format: OutputFormat,
  size: z.string().describe('WIDTHxHEIGHT of the images'),
  quality: z.enum(['low', 'medium', 'high']),
  background: z.enum(['opaque']),
  usage: OpenAIUsage.describe('Always zero: no tokens are counted'),
});
export type OpenAIImagesResponse = z.infer<typeof OpenAIImagesResponse>;

/** `data:` of the stream events (`event:` = type). */
export const OpenAIImageStreamEvent = z.object({
  type: z.enum(['image_generation.partial_image', 'image_generation.completed', 'image_edit.partial_image', 'image_edit.completed']),
  b64_json: z.string(),
  created_at: z.int(),
  output_format: OutputFormat,
  size: z.string(),
  quality: z.enum(['low', 'medium', 'high']),
  background: z.enum(['opaque']),
  partial_image_index: z.int().optional().describe('partial_image events only'),
  usage: OpenAIUsage.optional().describe('completed events only'),
});

export const OpenAIError = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().describe('invalid_request_error, rate_limit_error or server_error'),
    param: z.string().nullable().describe('The request field at fault, when there is one'),
    code: z.string().nullable().describe('One of the Problem codes'),
  }),
});
export type OpenAIError = z.infer<typeof OpenAIError>;
