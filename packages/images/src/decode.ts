// Decode and validate user images with sharp. The magic bytes are checked before libvips parses
// anything (only PNG, JPEG, WebP and GIF; every other libvips loader is blocked in this process),
// the declared size is checked before any pixel is decoded, and sharp's own `limitInputPixels`
// guards the decoder itself (decompression bombs). Multi-frame inputs (GIF, WebP) give their first
// frame. Decoded pixels carry no metadata: outputs never inherit an input's EXIF or ICC profile.
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';
import { ImageInputError } from './errors.ts';
import { sniffFormat, sniffOtherImageFormat } from './magic.ts';
import type { RgbImage } from './types.ts';

/** libvips loaders we keep; every other one (SVG, TIFF, HEIF, PDF, magick, …) is blocked process-wide. */
export const ALLOWED_LOADERS = ['VipsForeignLoadPng', 'VipsForeignLoadJpeg', 'VipsForeignLoadWebp', 'VipsForeignLoadNsgif'] as const;
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: [...ALLOWED_LOADERS] });

export const SUPPORTED_INPUT_FORMATS = ['png', 'jpeg', 'webp', 'gif'] as const;

export interface DecodeLimits {
  /** Upper bound on width × height of the stored image. */
  maxPixels: number;
  /** Upper bound on the encoded size. */
  maxBytes?: number;
}

export interface OpenedImage {
  pipeline: Sharp;
  hasAlpha: boolean;
}

/**
 * Checks bytes, format and declared size, and returns a sharp pipeline that reads the first frame
 * with EXIF orientation applied. Shared by the image and mask decoders.
 */
export async function openInputImage(buf: Uint8Array, limits: DecodeLimits, what = 'image'): Promise<OpenedImage> {
  if (limits.maxBytes !== undefined && buf.byteLength > limits.maxBytes) {
    throw new ImageInputError('image_too_large', `${what} is ${buf.byteLength} bytes; the limit is ${limits.maxBytes}`);
  }
  if (!sniffFormat(buf)) {
    const other = sniffOtherImageFormat(buf);
    if (other) throw new ImageInputError('image_unsupported_format', `${what} format ${other} is not supported (use ${SUPPORTED_INPUT_FORMATS.join(', ')})`);
    throw new ImageInputError('image_invalid', `${what} is not a PNG, JPEG, WebP or GIF file`);
  }
  const options: SharpOptions = { limitInputPixels: Math.max(1, Math.floor(limits.maxPixels)), pages: 1, failOn: 'error' };
  let meta: Metadata;
  try {
    meta = await sharp(buf, options).metadata();
  } catch (cause) {
    throw decodeError(cause, what);
  }
  const format = meta.format as string | undefined;
  if (!format || !(SUPPORTED_INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new ImageInputError('image_unsupported_format', `${what} format ${format ?? 'unknown'} is not supported (use ${SUPPORTED_INPUT_FORMATS.join(', ')})`);
  }
  const width = meta.width ?? 0;
  // For animated images sharp reports the height of all frames stacked; we read only the first.
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageInputError('image_invalid', `${what} has no pixels`);
  if (width * height > limits.maxPixels) {
    throw new ImageInputError('image_too_large', `${what} is ${width}×${height} = ${width * height} pixels; the limit is ${limits.maxPixels}`);
  }
  return { pipeline: sharp(buf, options).autoOrient(), hasAlpha: meta.hasAlpha === true };
}

/** Runs a pipeline to raw 8-bit pixels, mapping decoder failures to typed errors. */
export async function toRaw(pipeline: Sharp, what: string): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw decodeError(cause, what);
  }
}

// sharp reports its pixel guard as a plain Error; every other failure means unreadable data.
function decodeError(cause: unknown, what: string): ImageInputError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/pixel limit/i.test(message)) {
    return new ImageInputError('image_too_large', `${what} exceeds the pixel limit`, { cause });
  }
  // libvips' own text stays in the cause (logged), not in what the client is told.
  return new ImageInputError('image_invalid', `${what} could not be decoded (corrupt or truncated data)`, { cause });
}

/** Decodes to RGB: first frame, EXIF orientation applied, transparency flattened over white. */
export async function decodeInputImage(buf: Uint8Array, limits: DecodeLimits): Promise<RgbImage> {
  const { pipeline } = await openInputImage(buf, limits, 'image');
  const { data, info } = await toRaw(pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha(), 'image');
  if (info.channels !== 3) throw new ImageInputError('image_invalid', `image decoded to ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
