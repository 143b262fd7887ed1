// An animation job's request → its model, size, init image and normalised params. Validation only:
// the shared path stores inputs, records and queues it like any other job.
import {
  CreateAnimationRequest, fieldErrors, fieldProblem, validationProblem,
  type AnimationParams, type JobParams,
} from '@sdsvc/contracts';
import { ffmpegAvailable, PlanError, planOf } from '@sdsvc/animation';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import type { RgbImage } from '@sdsvc/images';
import { processPrompt, PromptSyntaxError, type ProcessedPrompt } from '@sdsvc/prompt';
import type { SubmissionDeps } from './deps.ts';
import { REQUEST_SCHEDULERS } from './model-catalog.ts';
import { chooseSize, randomSeed } from './normalise.ts';

export interface PreparedAnimation {
  request: CreateAnimationRequest;
  model: ModelInfo;
  params: Omit<JobParams, 'inputs'>;
  /** Decoded init_image, when given (stored by the shared path). */
  init?: RgbImage;
}

/** Schedules given as numbers become one-keyframe schedules. */
const asSchedule = (v: number | string | undefined, fallback: string): string =>
  v === undefined ? fallback : typeof v === 'number' ? `0:(${v})` : v;

function processKeyframe(field: string, prompt: string, negative: string | undefined): ProcessedPrompt {
  let p: ProcessedPrompt;
  try {
    p = processPrompt({ prompt, negativePrompt: negative });
  } catch (err) {
    if (err instanceof PromptSyntaxError) throw fieldProblem(400, err.code, field, err.message);
    throw err;
  }
  if (p.referenceImage) throw validationProblem([{ path: field, code: 'not_allowed_for_type', message: 'an {image} tag cannot be used in an animation (use init_image)' }]);
  if (p.loras.length > 0) throw validationProblem([{ path: field, code: 'not_allowed_for_type', message: 'LoRA tags are not supported in animation jobs yet' }]);
  return p;
}

export async function prepareAnimation(
  deps: Pick<SubmissionDeps, 'config' | 'catalog' | 'promptPolicy'>,
  body: Record<string, unknown>,
  model: ModelInfo,
  decodeInit: (value: string) => Promise<RgbImage>,
): Promise<PreparedAnimation> {
  const parsed = CreateAnimationRequest.safeParse(body);
  if (!parsed.success) throw validationProblem(fieldErrors(parsed.error, body));
  const req = parsed.data;
  if (req.frames > deps.config.maxAnimationFrames) {
    throw validationProblem([{ path: 'frames', code: 'too_big', message: `at most ${deps.config.maxAnimationFrames} frames (MAX_ANIMATION_FRAMES)` }]);
  }
  if (req.output_format === 'mp4' && !ffmpegAvailable()) {
    throw fieldProblem(400, 'format_unavailable', 'output_format', 'mp4 output needs ffmpeg, which this server does not have; use webp or gif');
  }
  const needs = req.init_image === undefined ? ['txt2img', 'img2img'] as const : ['img2img'] as const;
  for (const capability of needs) {
    if (!model.capabilities.includes(capability)) {
      throw fieldProblem(400, 'unsupported_job_type', 'type', `model ${model.id} cannot run animation jobs (they need ${needs.join(' and ')}; it supports ${model.capabilities.join(', ')})`);
    }
  }
  if (req.scheduler !== undefined && req.scheduler !== 'default' && !REQUEST_SCHEDULERS.includes(req.scheduler)) {
    throw fieldProblem(400, 'unknown_scheduler', 'scheduler', `unknown scheduler "${req.scheduler}"; valid schedulers: default, ${REQUEST_SCHEDULERS.join(', ')}`);
  }

  const raw = req.prompts ?? { 0: req.prompt! };
  const prompts: Record<string, string> = {};
  const negatives: Record<string, string> = {};
  const processed: Record<string, ProcessedPrompt> = {};
  for (const [frame, text] of Object.entries(raw)) {
    const field = req.prompts ? `prompts.${frame}` : 'prompt';
    const p = processKeyframe(field, text, req.negative_prompt);
    if (deps.promptPolicy?.blocks(p.prompt)) throw fieldProblem(400, 'prompt_blocked', field, 'the prompt is not allowed by this server\'s content policy');
    processed[frame] = p;
    prompts[frame] = p.prompt;
    negatives[frame] = p.negativePrompt;
  }

  const seed = req.seed ?? randomSeed();
  const animation: AnimationParams = {
    frames: req.frames,
    fps: req.fps,
    prompts,
    negative_prompts: negatives,
    prompt_interpolation: req.prompt_interpolation ?? false,
    seed_behavior: req.seed_behavior,
    ...(req.seed_schedule !== undefined ? { seed_schedule: req.seed_schedule } : {}),
    zoom: req.zoom ?? '0:(1.0)',
    angle: req.angle ?? '0:(0)',
    translation_x: req.translation_x ?? '0:(0)',
    translation_y: req.translation_y ?? '0:(0)',
    strength: asSchedule(req.strength, '0:(0.65)'),
    guidance_scale: asSchedule(req.guidance_scale, '0:(7.5)'),
    noise: req.noise ?? '0:(0.02)',
    border: req.border,
    color_coherence: req.color_coherence,
    output_format: req.output_format,
    keep_frames: req.keep_frames,
  };
  // Every schedule evaluated once now: a bad one is a 400 naming its field, not a failed job.
  let firstGuidance: number;
  try {
    firstGuidance = planOf(animation, seed)[0]!.guidanceScale;
  } catch (err) {
    if (err instanceof PlanError) throw fieldProblem(400, 'invalid_schedule', err.field, err.message);
    throw err;
  }

  const init = req.init_image !== undefined ? await decodeInit(req.init_image) : undefined;
  const size = chooseSize({ width: req.width, height: req.height } as Parameters<typeof chooseSize>[0], model, init);
  const first = processed['0']!;
  const frag = (f: readonly [string, number]) => ({ text: f[0], weight: f[1] });
  const params: PreparedAnimation['params'] = {
    prompt: first.prompt,
    prompt_raw: raw['0']!,
    negative_prompt: first.negativePrompt,
    weights: { prompt: first.weights.positive.map(frag), negative_prompt: first.weights.negative.map(frag) },
    width: size.width,
    height: size.height,
    steps: req.steps,
    guidance_scale: firstGuidance,
    scheduler: req.scheduler ?? 'default',
    seed,
    num_images: 1,
    output_format: 'png',
    animation,
    ...(init ? { resize_mode: req.resize_mode ?? 'resize' } : {}),
    ...(req.safety === false ? { safety: false as const } : {}),
    ...(req.preview ? { preview: req.preview } : {}),
  };
  return { request: req, model, params, ...(init ? { init } : {}) };
}
