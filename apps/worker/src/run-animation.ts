// An animation job on this worker: the frame loop (@sdsvc/animation's renderAnimation) on the engine
// thread, then — once the attempt is known to still own the job — the frames as one file (and, with
// keep_frames, each as a PNG) in the object store.
import type { AnimationResult, JobParams, StoredResultImage } from '@sdsvc/contracts';
import { ANIMATION_CONTENT_TYPES, encodeAnimation, keyframeAt, renderAnimation, type Frame, type FramePlan } from '@sdsvc/animation';
import type { EngineHost, GenerateRequest, HostGenerateOptions, RgbImage } from '@sdsvc/engine';
import { CONTENT_TYPES, encodeImage, formatParameters } from '@sdsvc/images';
import type { ImageSafety } from './image-safety.ts';
import { watermarked } from './job-outputs.ts';
import type { Logger } from '@sdsvc/logging';
import { outputKey, type ObjectStore } from '@sdsvc/storage';
import { JobFailure, storageFailure } from './job-errors.ts';

export interface AnimationRunDeps {
  engine: EngineHost;
  objects: ObjectStore;
  log: Pick<Logger, 'info' | 'warn'>;
  signal: AbortSignal;
  /** Progress of the current frame's denoising. */
  onProgress(frame: number, frames: number, step: number, total: number): void;
  /** Live previews of each frame as it is denoised (params.preview). */
  preview?: HostGenerateOptions['preview'];
}

export interface AnimationOutput {
  images: StoredResultImage[];
  animation: Omit<AnimationResult, 'url'>;
}

const EXTENSIONS = { webp: 'webp', gif: 'gif', mp4: 'mp4' } as const;

export interface RenderedAnimation { frames: Frame[]; plan: FramePlan[] }

/** The frames, on the engine thread (no side effects: nothing is stored yet). */
export async function renderJobAnimation(model: string, params: JobParams, init: RgbImage | undefined, deps: Omit<AnimationRunDeps, 'objects'>): Promise<RenderedAnimation> {
  const a = params.animation;
  if (!a) throw new TypeError('the job has no animation settings');
  return await renderAnimation(a, params.seed, init, async (f) => {
    const request: GenerateRequest = {
      mode: f.initImage ? 'img2img' : 'txt2img',
      prompt: f.prompt, negativePrompt: f.negativePrompt, promptSyntax: 'a1111',
      width: params.width, height: params.height, steps: params.steps, guidanceScale: f.guidanceScale, seed: f.seed, numImages: 1,
      ...(params.scheduler !== 'default' ? { scheduler: params.scheduler } : {}),
      ...(f.initImage ? { initImage: f.initImage, strength: f.strength } : {}),
      ...(f.blend ? { promptBlend: f.blend } : {}),
    };
    const result = await deps.engine.generate(model, request, {
      signal: deps.signal, onStep: (step, total) => deps.onProgress(f.index, f.frames, step, total),
      ...(deps.preview ? { preview: deps.preview } : {}),
    });
    return result.images[0]!;
  }, deps.signal);
}

export interface StoreAnimationOptions {
  /** SAFETY_MODE: every frame is checked; a flagged frame is blurred (blur) or fails the job (block). */
  safety?: ImageSafety;
  watermark?: readonly number[];
}

/** The frames as one file (and, with keep_frames, each as a PNG) in the object store. */
export async function storeJobAnimation(jobId: string, model: string, params: JobParams, rendered: RenderedAnimation, hasInit: boolean,
  objects: ObjectStore, opts: StoreAnimationOptions = {}): Promise<AnimationOutput> {
  const a = params.animation!;
  const { plan } = rendered;
  let nsfw = false;
  const frames: Frame[] = [];
  for (const frame of rendered.frames) {
    const review = opts.safety ? await opts.safety.review(model, frame, { skip: params.safety === false }) : null;
    if (review?.action === 'block') throw new JobFailure('content_blocked', 'a frame was blocked by the image safety checker', { retryable: false });
    nsfw ||= review?.nsfw ?? false;
    const shown = review?.action === 'replace' ? { ...frame, data: review.image.data } : frame;
    frames.push(opts.watermark ? watermarked(shown, opts.watermark) : shown);
  }
  const images: StoredResultImage[] = [];
  if (a.keep_frames) {
    for (const [i, frame] of frames.entries()) {
      const f = plan[i]!;
      const parameters = formatParameters({
        prompt: f.prompt.prompt, negativePrompt: a.negative_prompts[String(keyframeAt(a, i))] ?? null, steps: params.steps,
        sampler: params.scheduler, cfgScale: f.guidanceScale, seed: f.seed, width: frame.width, height: frame.height, model,
        denoisingStrength: i === 0 && !hasInit ? null : f.strength, extra: { Frame: i },
      });
      const body = await encodeImage(frame, { format: 'png', parameters, provenance: { creatorTool: 'sdsvc', model } });
      const key = outputKey(objects, jobId, i, 'png');
      await put(objects, key, body, CONTENT_TYPES.png);
      images.push({ key, width: frame.width, height: frame.height, seed: f.seed, content_type: CONTENT_TYPES.png, bytes: body.length, ...(nsfw ? { nsfw } : {}) });
    }
  }
  const file = await encodeAnimation(frames, a.fps, a.output_format);
  const tail = `${jobId}/animation.${EXTENSIONS[a.output_format]}`;
  const key = objects.keyPrefix ? `${objects.keyPrefix}/${tail}` : tail;
  await put(objects, key, file, ANIMATION_CONTENT_TYPES[a.output_format]);
  return {
    images,
    animation: {
      key, content_type: ANIMATION_CONTENT_TYPES[a.output_format], frames: frames.length, fps: a.fps,
      width: params.width, height: params.height, bytes: file.length, ...(nsfw ? { nsfw } : {}),
    },
  };
}

/** Render and store in one go (tests, tools). */
export async function runAnimation(jobId: string, model: string, params: JobParams, init: RgbImage | undefined, deps: AnimationRunDeps, opts: StoreAnimationOptions = {}): Promise<AnimationOutput> {
  const rendered = await renderJobAnimation(model, params, init, deps);
  const out = await storeJobAnimation(jobId, model, params, rendered, init !== undefined, deps.objects, opts);
  deps.log.info({ frames: rendered.frames.length, bytes: out.animation.bytes, format: params.animation!.output_format }, 'animation encoded');
  return out;
}

async function put(objects: ObjectStore, key: string, body: Buffer, contentType: string): Promise<void> {
  try {
    await objects.put(key, body, contentType);
  } catch (err) {
    throw storageFailure(`uploading ${key}`, err);
  }
}
