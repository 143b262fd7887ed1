// Inpainting masks: white = repaint, black = keep (A1111, diffusers). Grey levels are kept (the
// engine binarises where the model needs it; the overlay uses them as blend weights).
import sharp, { type Sharp } from 'sharp';
import { openInputImage, toRaw } from './decode.ts';
import { ImageInputError } from './errors.ts';
import { fitImage } from './fit.ts';
import type { GrayImage, ResizeMode, RgbImage } from './types.ts';

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
  // Per-pixel work runs in libvips (its thread pool), not on the event loop: a 16-megapixel mask
  // must not stall every other request.
  const raw = () => sharp(data, { raw: { width, height, channels: 4 } });
  let gray = await isAlphaOnlyMask(raw())
    ? raw().extractChannel(3).negate()
    // ITU-R 601 luma as PIL's convert('L'): (19595 r + 38470 g + 7471 b + 32768) >> 16. The +0.5
    // turns libvips' truncating cast into that rounding (the weights sum to 1).
    : raw().removeAlpha().recomb([[19595 / 65536, 38470 / 65536, 7471 / 65536], [0, 0, 0], [0, 0, 0]]).linear(1, 0.5).extractChannel(0);
  if (options.invert) gray = sharp(await gray.raw().toBuffer(), { raw: { width, height, channels: 1 } }).negate().extractChannel(0); // raw 1-channel input is widened to sRGB
  const out = await gray.raw().toBuffer();
  if (out.length !== width * height) throw new ImageInputError('image_invalid', 'mask could not be read as one channel');
  return fitImage({ data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), width, height }, options.width, options.height, options.resizeMode ?? 'resize');
}

/** Some transparency, and every pixel has the same colour: the alpha channel is the only signal. */
async function isAlphaOnlyMask(rgba: Sharp): Promise<boolean> {
  const { channels } = await rgba.stats();
  const [r, g, b, a] = channels;
  return r.min === r.max && g.min === g.max && b.min === b.max && a.min < 255;
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

/** A gray image as RGB (three equal channels), done by libvips. */
export async function grayToRgb(gray: GrayImage): Promise<RgbImage> {
  const data = await sharp(gray.data, { raw: { width: gray.width, height: gray.height, channels: 1 } })
    .toColourspace('srgb').removeAlpha().raw().toBuffer();
  if (data.length !== gray.width * gray.height * 3) throw new RangeError(`grayToRgb: ${data.length} bytes for ${gray.width}×${gray.height}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: gray.width, height: gray.height };
}
