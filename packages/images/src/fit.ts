// Fit an image to the generation size. Modes follow A1111's `resize_mode`:
// - resize: stretch to width × height (aspect ratio not kept);
// - crop:   scale to cover, then centre-crop;
// - fill:   scale to fit inside, centre, and fill the bands by stretching the image's edge pixels
//           outward (what A1111's "resize and fill" does; sharp's extendWith 'copy').
import sharp, { type Sharp } from 'sharp';
import type { GrayImage, ResizeMode, RgbImage } from './types.ts';

type Raw = RgbImage | GrayImage;

function channelsOf(img: Raw): 1 | 3 {
  const c = img.data.length / (img.width * img.height);
  if (c !== 1 && c !== 3) throw new RangeError(`image data has ${c} channels per pixel; expected 1 or 3`);
  return c;
}

export async function fitImage<T extends Raw>(img: T, width: number, height: number, mode: ResizeMode): Promise<T> {
  const channels = channelsOf(img);
  if (img.width === width && img.height === height) return { ...img, data: new Uint8Array(img.data) };
  const input = sharp(img.data, { raw: { width: img.width, height: img.height, channels } });
  let pipeline: Sharp;
  if (mode === 'resize') {
    pipeline = input.resize(width, height, { fit: 'fill' });
  } else if (mode === 'crop') {
    pipeline = input.resize(width, height, { fit: 'cover', position: 'centre' });
  } else {
    // Same integer arithmetic as A1111 for the inner size and its placement.
    const ratio = width / height;
    const srcRatio = img.width / img.height;
    const innerW = Math.max(1, ratio < srcRatio ? width : Math.floor((img.width * height) / img.height));
    const innerH = Math.max(1, ratio >= srcRatio ? height : Math.floor((img.height * width) / img.width));
    const top = Math.floor(height / 2) - Math.floor(innerH / 2);
    const left = Math.floor(width / 2) - Math.floor(innerW / 2);
    let innerPipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels } })
      .resize(innerW, innerH, { fit: 'fill' });
    // sharp widens one-channel raw input to sRGB: keep the mask single-channel for the next step.
    if (channels === 1) innerPipeline = innerPipeline.extractChannel(0);
    const inner = await innerPipeline.raw().toBuffer();
    pipeline = sharp(inner, { raw: { width: innerW, height: innerH, channels } }).extend({
      top,
      left,
      bottom: height - innerH - top,
      right: width - innerW - left,
      extendWith: 'copy',
    });
  }
  // sharp turns one-channel input into sRGB on some paths; keep masks single-channel.
  if (channels === 1) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== channels) {
    throw new Error(`fitImage produced ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×${channels}`);
  }
  return { ...img, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/**
 * Generation size for an init image when the request gives none: each side rounded down to a
 * multiple of `step` (8 = the VAE factor, or the model's size step), as diffusers' image processor
 * does, but never below one step.
 */
export function defaultSizeFor(img: { width: number; height: number }, step = 8): { width: number; height: number } {
  const round = (v: number) => Math.max(step, Math.floor(v / step) * step);
  return { width: round(img.width), height: round(img.height) };
}
