// An animation job, frame by frame: frame 0 is a txt2img (or an img2img of init_image); every later
// frame is an img2img of the previous one after its 2D motion, colour coherence and noise, with that
// frame's prompt (or prompt blend), seed, strength and guidance. Then the frames become one file.
import type { AnimationResult, JobParams, StoredResultImage } from '@sdsvc/contracts';
import {
  ANIMATION_CONTENT_TYPES, addNoise, encodeAnimation, matchColorsLab, planAnimation, warpFrame, type Frame,
} from '@sdsvc/animation';
import type { EngineHost, GenerateRequest, RgbImage } from '@sdsvc/engine';
import { CONTENT_TYPES, encodeImage, formatParameters } from '@sdsvc/images';
import type { Logger } from '@sdsvc/logging';
import { outputKey, type ObjectStore } from '@sdsvc/storage';
import { storageFailure } from './job-errors.ts';

export interface AnimationRunDeps {
  engine: EngineHost;
  objects: ObjectStore;
  log: Pick<Logger, 'info' | 'warn'>;
  signal: AbortSignal;
  /** Progress of the current frame's denoising. */
  onProgress(frame: number, frames: number, step: number, total: number): void;
}

export interface AnimationOutput {
  images: StoredResultImage[];
  animation: Omit<AnimationResult, 'url'>;
}

const EXTENSIONS = { webp: 'webp', gif: 'gif', mp4: 'mp4' } as const;

/** The keyframe (by frame number) in force at `frame`. */
function keyframeAt(keys: number[], frame: number): number {
  let k = keys[0]!;
  for (const key of keys) if (key <= frame) k = key;
  return k;
}

export async function runAnimation(jobId: string, model: string, params: JobParams, init: RgbImage | undefined, deps: AnimationRunDeps): Promise<AnimationOutput> {
  const a = params.animation;
  if (!a) throw new TypeError(`job ${jobId} has no animation settings`);
  const plan = planAnimation({
    frames: a.frames, seed: params.seed, prompts: a.prompts, promptInterpolation: a.prompt_interpolation, guidanceScale: params.guidance_scale,
    guidanceSchedule: a.guidance_scale, seedBehavior: a.seed_behavior, seedSchedule: a.seed_schedule,
    zoom: a.zoom, angle: a.angle, translationX: a.translation_x, translationY: a.translation_y, strength: a.strength, noise: a.noise,
  });
  const keys = Object.keys(a.prompts).map(Number).sort((x, y) => x - y);
  const frames: Frame[] = [];
  let first: Frame | undefined;
  for (const f of plan) {
    deps.signal.throwIfAborted();
    const key = keyframeAt(keys, f.index);
    let source: RgbImage | undefined;
    if (f.index === 0) {
      source = init;
    } else {
      let prev = warpFrame(frames[f.index - 1]!, f.motion, a.border);
      if (a.color_coherence === 'lab') prev = matchColorsLab(prev, first!);
      source = addNoise(prev, f.noise, f.seed);
    }
    const request: GenerateRequest = {
      mode: source ? 'img2img' : 'txt2img',
      prompt: f.prompt.prompt,
      negativePrompt: a.negative_prompts[String(key)] ?? params.negative_prompt,
      promptSyntax: 'a1111',
      width: params.width,
      height: params.height,
      steps: params.steps,
      guidanceScale: f.guidanceScale,
      seed: f.seed,
      numImages: 1,
      ...(params.scheduler !== 'default' ? { scheduler: params.scheduler } : {}),
      ...(source ? { initImage: source, strength: f.strength } : {}),
    };
    if (f.prompt.blend) {
      const next = keys.find((k) => k > key);
      request.promptBlend = { prompt: f.prompt.blend.prompt, negativePrompt: next !== undefined ? a.negative_prompts[String(next)] : undefined, weight: f.prompt.blend.weight };
    }
    const result = await deps.engine.generate(model, request, {
      signal: deps.signal, onStep: (step, total) => deps.onProgress(f.index, plan.length, step, total),
    });
    const image = result.images[0]!;
    const frame = { data: image.data, width: image.width, height: image.height };
    frames.push(frame);
    first ??= frame;
  }
  deps.signal.throwIfAborted();

  const images: StoredResultImage[] = [];
  if (a.keep_frames) {
    for (const [i, frame] of frames.entries()) {
      const f = plan[i]!;
      const parameters = formatParameters({
        prompt: f.prompt.prompt, negativePrompt: a.negative_prompts[String(keyframeAt(keys, i))] ?? null, steps: params.steps,
        sampler: params.scheduler, cfgScale: f.guidanceScale, seed: f.seed, width: frame.width, height: frame.height, model,
        denoisingStrength: i === 0 && !init ? null : f.strength, extra: { Frame: i },
      });
      const body = await encodeImage(frame, { format: 'png', parameters, provenance: { creatorTool: 'sdsvc', model } });
      const key = outputKey(deps.objects, jobId, i, 'png');
      await put(deps.objects, key, body, CONTENT_TYPES.png);
      images.push({ key, width: frame.width, height: frame.height, seed: f.seed, content_type: CONTENT_TYPES.png, bytes: body.length });
    }
  }
  const file = await encodeAnimation(frames, a.fps, a.output_format);
  const tail = `${jobId}/animation.${EXTENSIONS[a.output_format]}`;
  const key = deps.objects.keyPrefix ? `${deps.objects.keyPrefix}/${tail}` : tail;
  await put(deps.objects, key, file, ANIMATION_CONTENT_TYPES[a.output_format]);
  deps.log.info({ frames: frames.length, bytes: file.length, format: a.output_format }, 'animation encoded');
  return {
    images,
    animation: {
      key, content_type: ANIMATION_CONTENT_TYPES[a.output_format], frames: frames.length, fps: a.fps,
      width: params.width, height: params.height, bytes: file.length,
    },
  };
}

async function put(objects: ObjectStore, key: string, body: Buffer, contentType: string): Promise<void> {
  try {
    await objects.put(key, body, contentType);
  } catch (err) {
    throw storageFailure(`uploading ${key}`, err);
  }
}
