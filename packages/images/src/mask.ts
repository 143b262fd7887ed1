// Inpainting masks: white = repaint, black = keep (A1111, diffusers). Grey levels are kept (the
// engine binarises where the model needs it; the overlay uses them as blend weights).
import sharp from 'sharp';
import { openInputImage, toRaw } from './decode.ts';
import { ImageInputError } from './errors.ts';
import { fitImage } from './fit.ts';
import type { GrayImage, ResizeMode } from './types.ts';

export interface DecodeMaskOptions {
  /** Generation size the mask is fitted to (same mode as the init image, so they stay aligned). */
  width: number;
  height: number;
  invert?: boolean;
  resizeMode?: ResizeMode;
  maxPixels: number;
  maxBytes?: number;
  /** Decoded (oriented) size of the init image: the mask must have exactly this size. */
  imageSize?: { width: number; height: number };
}

/**
 * Reads a mask. If it has transparency and a single colour everywhere (an alpha-only mask, the
 * OpenAI convention), transparent = repaint: value = 255 − alpha. Otherwise the colour channels'
 * luma is used (ITU-R 601, as PIL's convert('L')) and alpha is ignored. `invert` flips the result.
 */
export async function decodeMask(buf: Uint8Array, options: DecodeMaskOptions): Promise<GrayImage> {
  const { pipeline } = await openInputImage(buf, options, 'mask');
  const { data, info } = await toRaw(pipeline.toColourspace('srgb').ensureAlpha(), 'mask');
  if (info.channels !== 4) throw new ImageInputError('image_invalid', `mask decoded to ${info.channels} channels`);
  const { width, height } = info;
  if (options.imageSize && (options.imageSize.width !== width || options.imageSize.height !== height)) {
    throw new ImageInputError(
      'mask_size_mismatch',
      `mask is ${width}×${height} but the image is ${options.imageSize.width}×${options.imageSize.height}; they must be the same size`,
    );
  }

  const pixels = width * height;
  const gray = new Uint8Array(pixels);
  if (isAlphaOnlyMask(data, pixels)) {
    for (let i = 0; i < pixels; i++) gray[i] = 255 - data[i * 4 + 3];
  } else {
    for (let i = 0; i < pixels; i++) {
      const r = data[i * 4], g = data[i * 4 + 1], b = data[i * 4 + 2];
      gray[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }
  }
  if (options.invert) for (let i = 0; i < pixels; i++) gray[i] = 255 - gray[i];
  return fitImage({ data: gray, width, height }, options.width, options.height, options.resizeMode ?? 'resize');
}

/** Some transparency, and every pixel has the same colour: the alpha channel is the only signal. */
function isAlphaOnlyMask(rgba: Uint8Array, pixels: number): boolean {
  const r = rgba[0], g = rgba[1], b = rgba[2];
  let translucent = false;
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    if (rgba[o] !== r || rgba[o + 1] !== g || rgba[o + 2] !== b) return false;
    if (rgba[o + 3] !== 255) translucent = true;
  }
  return translucent;
}

/**
 * Gaussian blur of the mask for `mask_blur` (pixels): `radius` is the standard deviation, as in
 * A1111 (PIL's GaussianBlur / cv2 sigma). 0 returns an unchanged copy.
 */
export async function blurMask(mask: GrayImage, radius: number): Promise<GrayImage> {
  if (!(radius > 0)) return { ...mask, data: new Uint8Array(mask.data) };
  const data = await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .blur(Math.max(0.3, radius))
    .extractChannel(0) // sharp widens 1-channel raw input to sRGB; keep the mask single-channel
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: mask.width, height: mask.height };
}
