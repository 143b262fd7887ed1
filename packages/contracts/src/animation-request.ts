// POST /v1/jobs with type "animation": Deforum-style 2D animation. Each frame after the first is an
// img2img of the previous frame after a 2D motion; schedules ("0:(1.0), 24:(1.04)") vary settings
// over the frames. Field names are a public contract.
import { z } from 'zod';
import { JsonValue, ResizeMode, Seed } from './common.ts';
import { LIMITS, PreviewSpec, WebhookSpec } from './job-request.ts';

export const ANIMATION_LIMITS = { frames: 1000, fps: 60, scheduleChars: 4000, promptKeyframes: 256 } as const;
export const ANIMATION_FORMATS = ['webp', 'gif', 'mp4'] as const;
export const AnimationFormat = z.enum(ANIMATION_FORMATS);
export type AnimationFormat = z.infer<typeof AnimationFormat>;
export const SEED_BEHAVIORS = ['iter', 'fixed', 'random', 'schedule'] as const;

const Schedule = z.string().min(1).max(ANIMATION_LIMITS.scheduleChars)
  .describe('Keyframes "FRAME:(VALUE), …" with VALUE a number or an expression in t (frame), max_f, pi, + - * / ^, sin cos tan abs min max floor ceil');
const Prompt = z.string().min(1).max(LIMITS.promptChars);
const Dimension = z.int().min(8).max(LIMITS.dimension).multipleOf(8);

export const CreateAnimationRequest = z.strictObject({
  type: z.literal('animation'),
  model: z.string().min(1).max(LIMITS.modelId).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional(),
  prompt: Prompt.optional().describe('The prompt of every frame (or use prompts)'),
  prompts: z.record(z.string().regex(/^\d+$/, 'keys are frame numbers'), Prompt).optional()
    .describe('Prompts keyed by frame ("0", "48"): the prompt in force is the last keyframe at or before the frame; needs "0"'),
  prompt_interpolation: z.boolean().optional().describe('Blend the text embeddings linearly between prompt keyframes'),
  negative_prompt: z.string().max(LIMITS.promptChars).optional(),
  frames: z.int().min(2).max(ANIMATION_LIMITS.frames).describe('Number of frames (at most MAX_ANIMATION_FRAMES)'),
  fps: z.int().min(1).max(ANIMATION_LIMITS.fps).default(12),
  width: Dimension.optional(),
  height: Dimension.optional(),
  steps: z.int().min(1).max(LIMITS.steps).default(20),
  guidance_scale: z.union([z.number().min(0).max(LIMITS.guidanceScale), Schedule]).default(7.5)
    .describe('A number, or a schedule of it'),
  scheduler: z.string().min(1).max(64).optional(),
  seed: Seed.optional(),
  seed_behavior: z.enum(SEED_BEHAVIORS).default('iter').describe('iter: seed + frame; fixed; random (derived from seed); schedule (seed_schedule)'),
  seed_schedule: Schedule.optional(),
  init_image: z.string().min(1).optional().describe('Frame 0 becomes an img2img of this image'),
  resize_mode: ResizeMode.optional(),
  zoom: Schedule.optional().describe('Default 0:(1.0)'),
  angle: Schedule.optional().describe('Degrees, counter-clockwise; default 0:(0)'),
  translation_x: Schedule.optional().describe('Pixels per frame; default 0:(0)'),
  translation_y: Schedule.optional().describe('Pixels per frame; default 0:(0)'),
  strength: z.union([z.number().gt(0).max(1), Schedule]).optional().describe('img2img strength of each frame; default 0:(0.65)'),
  noise: Schedule.optional().describe('Gaussian noise added to the warped frame (std. dev. as a fraction of full scale); default 0:(0.02)'),
  border: z.enum(['replicate', 'wrap']).default('replicate').describe('Pixels the motion exposes'),
  color_coherence: z.enum(['none', 'lab']).default('none').describe('lab: match each frame\'s LAB colour statistics to frame 0'),
  output_format: AnimationFormat.default('webp').describe('webp (animated), gif, or mp4 (needs ffmpeg on the server)'),
  keep_frames: z.boolean().default(false).describe('Also store every frame as PNG (result.images)'),
  webhook: WebhookSpec.optional(),
  preview: PreviewSpec.optional().describe('Live previews of the frame being rendered'),
  safety: z.boolean().optional(),
  metadata: z.record(z.string().max(128), JsonValue).optional(),
}).superRefine((v, ctx) => {
  const reject = (path: string, code: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message, params: { code } });
  if (v.prompt === undefined && v.prompts === undefined) reject('prompt', 'required', 'give prompt or prompts');
  if (v.prompt !== undefined && v.prompts !== undefined) reject('prompts', 'conflict', 'give prompt or prompts, not both');
  if (v.prompts !== undefined && !Object.hasOwn(v.prompts, '0')) reject('prompts', 'required', 'prompts needs a prompt for frame "0"');
  if (v.prompts !== undefined && Object.keys(v.prompts).length > ANIMATION_LIMITS.promptKeyframes) {
    reject('prompts', 'too_big', `at most ${ANIMATION_LIMITS.promptKeyframes} prompt keyframes`);
  }
  if (v.seed_behavior === 'schedule' && v.seed_schedule === undefined) reject('seed_schedule', 'required', 'seed_behavior "schedule" needs seed_schedule');
  if (v.seed_behavior !== 'schedule' && v.seed_schedule !== undefined) reject('seed_schedule', 'not_allowed', 'seed_schedule needs seed_behavior "schedule"');
  if (v.resize_mode !== undefined && v.init_image === undefined) reject('resize_mode', 'not_allowed_for_type', 'resize_mode applies to init_image');
  if (v.metadata !== undefined && Buffer.byteLength(JSON.stringify(v.metadata)) > LIMITS.metadataBytes) {
    reject('metadata', 'too_big', `metadata must serialise to at most ${LIMITS.metadataBytes} bytes`);
  }
});
export type CreateAnimationRequest = z.output<typeof CreateAnimationRequest>;

/** What an animation job keeps in params.animation (the request's animation settings, normalised). */
export const AnimationParams = z.object({
  frames: z.int(),
  fps: z.int(),
  prompts: z.record(z.string(), z.string()).describe('Prompts by frame, normalised (inline negatives removed)'),
  negative_prompts: z.record(z.string(), z.string()).describe('The negative prompt in force from each prompt keyframe (negative_prompt + that prompt\'s inline negatives)'),
  prompt_interpolation: z.boolean(),
  seed_behavior: z.enum(SEED_BEHAVIORS),
  seed_schedule: z.string().optional(),
  zoom: z.string(),
  angle: z.string(),
  translation_x: z.string(),
  translation_y: z.string(),
  strength: z.string(),
  guidance_scale: z.string(),
  noise: z.string(),
  border: z.enum(['replicate', 'wrap']),
  color_coherence: z.enum(['none', 'lab']),
  output_format: AnimationFormat,
  keep_frames: z.boolean(),
});
export type AnimationParams = z.infer<typeof AnimationParams>;

export const AnimationResult = z.object({
  url: z.string(),
  key: z.string(),
  content_type: z.string(),
  frames: z.int(),
  fps: z.int(),
  width: z.int(),
  height: z.int(),
  bytes: z.int(),
  nsfw: z.boolean().optional().describe('The image safety checker flagged a frame (SAFETY_MODE flag or blur)'),
});
export type AnimationResult = z.infer<typeof AnimationResult>;
