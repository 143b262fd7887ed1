// Generated images → encoded files (PNG with the A1111 `parameters` text) → object store under
// `<prefix>/<job id>/<index>.<ext>` → what the record keeps about each.
import type { JobParams, StoredResultImage } from '@sdsvc/contracts';
import type { GenerateResult, MaskImage, RgbImage } from '@sdsvc/engine';
import {
  applyOverlay, CONTENT_TYPES, embedWatermark, encodeImage, formatParameters, pasteRegion, type CropRegion, type GenerationParameters,
} from '@sdsvc/images';
import { outputKey, type ObjectStore } from '@sdsvc/storage';
import type { ImageSafety } from './image-safety.ts';
import { JobFailure, storageFailure } from './job-errors.ts';
import { DEFAULT_MASK_BLUR } from './job-inputs.ts';

const EXTENSIONS = { png: 'png', webp: 'webp', jpeg: 'jpg' } as const;

export interface OutputContext {
  jobId: string;
  model: string;
  params: JobParams;
  /** inpaint with overlay: original pixels are pasted back through the mask. */
  overlay?: { original: RgbImage; mask: MaskImage };
  /**
   * inpaint_full_res: each generated image is `region` of `original` at width × height; it is
   * resized back and pasted there, through `mask` (overlay on) or over the whole region (overlay
   * off). The stored image has the original's size.
   */
  fullRes?: { original: RgbImage; region: CropRegion; mask?: MaskImage; padding: number };
  /** WATERMARK: the payload bits embedded in every image large enough to carry them. */
  watermark?: readonly number[];
  /** SAFETY_MODE with its checkers; absent = no check. */
  safety?: ImageSafety;
}

export async function storeOutputs(result: GenerateResult, ctx: OutputContext, store: ObjectStore): Promise<StoredResultImage[]> {
  const format = ctx.params.output_format;
  const stored: StoredResultImage[] = [];
  for (const [index, generated] of result.images.entries()) {
    const image = ctx.fullRes ? await pasteRegion(ctx.fullRes.original, generated, ctx.fullRes.region, ctx.fullRes.mask)
      : ctx.overlay ? applyOverlay(generated, ctx.overlay.original, ctx.overlay.mask) : generated;
    // The checker sees the image as it would be stored; `safety: false` (an exempt key) skips it.
    const review = ctx.safety ? await ctx.safety.review(ctx.model, image, { skip: ctx.params.safety === false }) : null;
    if (review?.action === 'block') {
      stored.push({ key: null, width: image.width, height: image.height, seed: generated.seed, content_type: CONTENT_TYPES[format], bytes: 0, nsfw: true, blocked: true });
      continue;
    }
    const shown = review?.action === 'replace' ? { ...image, data: review.image.data } : image;
    const marked = ctx.watermark ? watermarked(shown, ctx.watermark) : shown;
    const parameters = formatParameters(parametersOf(ctx, generated.seed));
    const body = await encodeImage(marked, { format, quality: ctx.params.output_quality, parameters, provenance: { creatorTool: 'sdsvc', model: ctx.model } });
    const key = outputKey(store, ctx.jobId, index, EXTENSIONS[format]);
    try {
      await store.put(key, body, CONTENT_TYPES[format]);
    } catch (err) {
      throw storageFailure(`uploading ${key}`, err);
    }
    stored.push({
      key, width: image.width, height: image.height, seed: generated.seed,
      content_type: CONTENT_TYPES[format], bytes: body.length, ...(review?.nsfw ? { nsfw: true } : {}),
    });
  }
  if (stored.length > 0 && stored.every((s) => s.blocked)) {
    throw new JobFailure('content_blocked', 'every image was blocked by the image safety checker', { retryable: false });
  }
  return stored;
}

/** The image with the invisible watermark; an image too small for the payload stays unmarked. */
export function watermarked<T extends RgbImage>(image: T, bits: readonly number[]): T {
  try {
    return embedWatermark(image, bits);
  } catch (err) {
    if (err instanceof RangeError) return image;
    throw err;
  }
}

/** The A1111 `parameters` text: the prompt as written, and what the model actually ran with. */
function parametersOf(ctx: OutputContext, seed: number): GenerationParameters {
  const p = ctx.params;
  return {
    prompt: p.prompt_raw,
    negativePrompt: p.negative_prompt,
    steps: p.steps,
    sampler: p.scheduler,
    cfgScale: p.guidance_scale,
    seed,
    width: p.width,
    height: p.height,
    model: ctx.model,
    denoisingStrength: p.strength ?? (p.inputs?.reference_image ? p.reference_strength : undefined),
    maskBlur: p.inputs?.mask_image ? (p.mask_blur ?? DEFAULT_MASK_BLUR) : undefined,
    extra: {
      'Resize mode': p.inputs?.init_image || p.inputs?.reference_image ? p.resize_mode : undefined,
      'Mask invert': p.mask_invert || undefined,
      'Overlay': p.inputs?.mask_image && p.overlay === false ? false : undefined,
      // A1111's names; only when the crop was applied (a blank mask inpaints the whole image).
      'Inpaint area': ctx.fullRes ? 'Only masked' : undefined,
      'Masked area padding': ctx.fullRes?.padding,
    },
  };
}
