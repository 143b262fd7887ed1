// The job's input images: read back from the object store (the API stored each one, decoded and
// validated, as PNG under params.inputs.*.key), fitted to the output size, mask blurred/inverted.
// inpaint_full_res (A1111's "inpaint only masked"): the image and mask keep their own size, the
// blurred mask's padded box (grown to width:height) is cut out of both and resized to width × height.
import type { JobParams, JobType } from '@sdsvc/contracts';
import type { MaskImage, RgbImage } from '@sdsvc/engine';
import {
  blurMask, cropAndFit, decodeInputImage, decodeMask, fitImage, inpaintCropRegion, type CropRegion, type DecodeLimits,
} from '@sdsvc/images';
import type { ObjectStore } from '@sdsvc/storage';
import { JobFailure, storageFailure } from './job-errors.ts';

/** A1111's default mask blur, in pixels. */
export const DEFAULT_MASK_BLUR = 4;
/** A1111's default "only masked padding", in pixels. */
export const DEFAULT_FULL_RES_PADDING = 32;

export interface PreparedInputs {
  /** img2img/inpaint init image, or a txt2img job's reference image, fitted to width × height. */
  init?: RgbImage;
  /** inpaint: fitted, inverted if asked, blurred; 255 = repaint. Also the overlay's alpha. */
  mask?: MaskImage;
  /**
   * inpaint_full_res: `init` and `mask` are `region` of these, resized to width × height. The
   * generated image goes back into `original` there (job-outputs). Absent when the mask is blank:
   * then the whole image is inpainted, as A1111 does.
   */
  fullRes?: { original: RgbImage; mask: MaskImage; region: CropRegion; padding: number };
}

export async function loadJobInputs(type: JobType, params: JobParams, store: ObjectStore, limits: DecodeLimits): Promise<PreparedInputs> {
  const refs = params.inputs ?? {};
  const initRef = type === 'txt2img' ? refs.reference_image : refs.init_image;
  if ((type === 'img2img' || type === 'inpaint') && !initRef) {
    throw new JobFailure('image_invalid', `${type} job has no stored init image`, { retryable: false });
  }
  if (type === 'inpaint' && !refs.mask_image) {
    throw new JobFailure('image_invalid', 'inpaint job has no stored mask image', { retryable: false });
  }
  const inputs: PreparedInputs = {};
  const mode = params.resize_mode ?? 'resize';
  let decoded: RgbImage | undefined;
  if (initRef) {
    const bytes = await read(store, initRef.key);
    decoded = await asImageError('init_image', () => decodeInputImage(bytes, limits));
  }
  const maskBytes = type === 'inpaint' && refs.mask_image ? await read(store, refs.mask_image.key) : undefined;
  if (params.inpaint_full_res && decoded && maskBytes) {
    const fullRes = await loadFullRes(params, decoded, maskBytes, limits);
    if (fullRes) return fullRes;
  }
  const initSize = decoded && { width: decoded.width, height: decoded.height };
  if (decoded) {
    const image = decoded;
    inputs.init = await asImageError('init_image', () => fitImage(image, params.width, params.height, mode));
  }
  if (maskBytes) {
    const bytes = maskBytes;
    // Fitted with the init image's mode so both stay aligned; sizes must agree before fitting.
    const fitted = await asImageError('mask_image', () => decodeMask(bytes, {
      ...limits, width: params.width, height: params.height, invert: params.mask_invert ?? false,
      resizeMode: mode, imageSize: initSize,
    }));
    inputs.mask = await asImageError('mask_image', () => blurMask(fitted, params.mask_blur ?? DEFAULT_MASK_BLUR));
  }
  return inputs;
}

/**
 * "Inpaint only masked": the mask is decoded and blurred at the image's own size (A1111 blurs
 * before cropping; resize_mode does not apply), then the crop region is cut out of both. Null when
 * the blurred mask is blank.
 */
async function loadFullRes(params: JobParams, original: RgbImage, maskBytes: Uint8Array, limits: DecodeLimits): Promise<PreparedInputs | null> {
  const { width, height } = original;
  const decodedMask = await asImageError('mask_image', () => decodeMask(maskBytes, {
    ...limits, width, height, invert: params.mask_invert ?? false, imageSize: { width, height },
  }));
  const mask = await asImageError('mask_image', () => blurMask(decodedMask, params.mask_blur ?? DEFAULT_MASK_BLUR));
  const padding = params.inpaint_full_res_padding ?? DEFAULT_FULL_RES_PADDING;
  const region = inpaintCropRegion(mask, padding, params.width, params.height);
  if (!region) return null;
  return {
    init: await cropAndFit(original, region, params.width, params.height),
    mask: await cropAndFit(mask, region, params.width, params.height),
    fullRes: { original, mask, region, padding },
  };
}

async function read(store: ObjectStore, key: string): Promise<Buffer> {
  try {
    return await store.get(key);
  } catch (err) {
    throw storageFailure(`reading input ${key}`, err);
  }
}

/** Decoding problems are the input's fault: no retry helps. */
async function asImageError<T>(field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new JobFailure('image_invalid', `${field}: ${(err as Error).message}`, { retryable: false, cause: err });
  }
}
