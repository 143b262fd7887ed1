// Generated images → encoded files (PNG with the A1111 `parameters` text) → object store under
// `<prefix>/<job id>/<index>.<ext>` → what the record keeps about each.
import type { JobParams, StoredResultImage } from '@sdsvc/contracts';
import type { GenerateResult, MaskImage, RgbImage } from '@sdsvc/engine';
import {
  applyOverlay, CONTENT_TYPES, embedWatermark, encodeImage, formatParameters, pasteRegion, type CropRegion, type GenerationParameters,
} from '@sdsvc/images';
import { outputKey, type ObjectStore } from '@sdsvc/storage';
import { storageFailure } from './job-errors.ts';
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
}

export async function storeOutputs(result: GenerateResult, ctx: OutputContext, store: ObjectStore): Promise<StoredResultImage[]> {
  const format = ctx.params.output_format;
  const stored: StoredResultImage[] = [];
  for (const [index, generated] of result.images.entries()) {
    const image = ctx.fullRes ? await pasteRegion(ctx.fullRes.original, generated, ctx.fullRes.region, ctx.fullRes.mask)
      : ctx.overlay ? applyOverlay(generated, ctx.overlay.original, ctx.overlay.mask) : generated;
    const marked = ctx.watermark ? watermarked(image, ctx.watermark) : image;
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
      content_type: CONTENT_TYPES[format], bytes: body.length,
    });
  }
  return stored;
}

/** The image with the invisible watermark; an image too small for the payload stays unmarked. */
function watermarked<T extends RgbImage>(image: T, bits: readonly number[]): T {
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
