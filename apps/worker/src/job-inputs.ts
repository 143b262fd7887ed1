// The job's input images: read back from the object store (the API stored each one, decoded and
// validated, as PNG under params.inputs.*.key), fitted to the output size, mask blurred/inverted.
import type { JobParams, JobType } from '@sdsvc/contracts';
import type { MaskImage, RgbImage } from '@sdsvc/engine';
import { blurMask, decodeInputImage, decodeMask, fitImage, type DecodeLimits } from '@sdsvc/images';
import type { ObjectStore } from '@sdsvc/storage';
import { JobFailure, storageFailure } from './job-errors.ts';

/** A1111's default mask blur, in pixels. */
export const DEFAULT_MASK_BLUR = 4;

export interface PreparedInputs {
  /** img2img/inpaint init image, or a txt2img job's reference image, fitted to width × height. */
  init?: RgbImage;
  /** inpaint: fitted, inverted if asked, blurred; 255 = repaint. Also the overlay's alpha. */
  mask?: MaskImage;
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
  let initSize: { width: number; height: number } | undefined;
  if (initRef) {
    const bytes = await read(store, initRef.key);
    const decoded = await asImageError('init_image', () => decodeInputImage(bytes, limits));
    initSize = { width: decoded.width, height: decoded.height };
    inputs.init = await asImageError('init_image', () => fitImage(decoded, params.width, params.height, mode));
  }
  if (type === 'inpaint' && refs.mask_image) {
    const bytes = await read(store, refs.mask_image.key);
    // Fitted with the init image's mode so both stay aligned; sizes must agree before fitting.
    const fitted = await asImageError('mask_image', () => decodeMask(bytes, {
      ...limits, width: params.width, height: params.height, invert: params.mask_invert ?? false,
      resizeMode: mode, imageSize: initSize,
    }));
    inputs.mask = await asImageError('mask_image', () => blurMask(fitted, params.mask_blur ?? DEFAULT_MASK_BLUR));
  }
  return inputs;
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
