// An animation job on this worker: the frame loop (@sdsvc/animation's renderAnimation) on the engine
// thread, then the frames as one file (and, with keep_frames, each as a PNG) in the object store.
import type { AnimationResult, JobParams, StoredResultImage } from '@sdsvc/contracts';
import { ANIMATION_CONTENT_TYPES, encodeAnimation, keyframeAt, renderAnimation } from '@sdsvc/animation';
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

export async function runAnimation(jobId: string, model: string, params: JobParams, init: RgbImage | undefined, deps: AnimationRunDeps): Promise<AnimationOutput> {
  const a = params.animation;
  if (!a) throw new TypeError(`job ${jobId} has no animation settings`);
  const { frames, plan } = await renderAnimation(a, params.seed, init, async (f) => {
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
    });
    return result.images[0]!;
  }, deps.signal);

  const images: StoredResultImage[] = [];
  if (a.keep_frames) {
    for (const [i, frame] of frames.entries()) {
      const f = plan[i]!;
      const parameters = formatParameters({
        prompt: f.prompt.prompt, negativePrompt: a.negative_prompts[String(keyframeAt(a, i))] ?? null, steps: params.steps,
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
