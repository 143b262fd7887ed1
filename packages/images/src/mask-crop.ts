// A1111's "inpaint only masked" (`inpaint_full_res`): the model repaints only the region around
// the mask, at the full generation size, and the result goes back into the original there.
//   1. getCropRegion: bounding box of the (blurred) mask's non-zero pixels, `padding` px wider on
//      every side, clamped to the image (A1111's masking.get_crop_region_v2).
//   2. expandCropRegion: grown to the generation size's aspect ratio (masking.expand_crop_region).
//   3. cropAndFit: the init image and the mask cut to the region and resized to width × height
//      (A1111 uses resize mode 2, "resize and fill").
//   4. pasteRegion: the generated image resized back to the region size (A1111's `uncrop`: resize
//      mode 1, "crop and resize") and pasted into the original, through the mask when the overlay is
//      on. Pixels outside the region are the original's bytes.
import { fitImage } from './fit.ts';
import type { GrayImage, RgbImage } from './types.ts';

/** A rectangle in pixels: left/top inclusive, right/bottom exclusive (PIL's box). */
export interface CropRegion {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** The box around the non-zero pixels, or null when the mask is all 0 (PIL's getbbox). */
export function maskBoundingBox(mask: GrayImage): CropRegion | null {
  const { width, height, data } = mask;
  let x1 = width, y1 = height, x2 = -1, y2 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] === 0) continue;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      y2 = y;
    }
  }
  return x2 < 0 ? null : { x1, y1, x2: x2 + 1, y2: y2 + 1 };
}

/** The mask's bounding box grown by `padding` px on each side and clamped to the mask; null for a blank mask. */
export function getCropRegion(mask: GrayImage, padding: number): CropRegion | null {
  const box = maskBoundingBox(mask);
  if (!box) return null;
  const pad = Math.max(0, Math.floor(padding));
  return {
    x1: Math.max(box.x1 - pad, 0),
    y1: Math.max(box.y1 - pad, 0),
    x2: Math.min(box.x2 + pad, mask.width),
    y2: Math.min(box.y2 + pad, mask.height),
  };
}

/**
 * Grows the region to the aspect ratio of the generation size (a 128×32 region for a 512×512
 * generation becomes 128×128), shifted back inside the image where it would stick out, and cut at
 * the image's edge when the image is too small for it. Same integer arithmetic as A1111's
 * `expand_crop_region` (int() truncation, floor division).
 */
export function expandCropRegion(
  region: CropRegion, processingWidth: number, processingHeight: number, imageWidth: number, imageHeight: number,
): CropRegion {
  let { x1, y1, x2, y2 } = region;
  const ratioRegion = (x2 - x1) / (y2 - y1);
  const ratioProcessing = processingWidth / processingHeight;
  if (ratioRegion > ratioProcessing) {
    const desiredHeight = (x2 - x1) / ratioProcessing;
    const diff = Math.trunc(desiredHeight - (y2 - y1));
    y1 -= Math.floor(diff / 2);
    y2 += diff - Math.floor(diff / 2);
    if (y2 >= imageHeight) {
      const over = y2 - imageHeight;
      y2 -= over;
      y1 -= over;
    }
    if (y1 < 0) {
      y2 -= y1;
      y1 = 0;
    }
    if (y2 >= imageHeight) y2 = imageHeight;
  } else {
    const desiredWidth = (y2 - y1) * ratioProcessing;
    const diff = Math.trunc(desiredWidth - (x2 - x1));
    x1 -= Math.floor(diff / 2);
    x2 += diff - Math.floor(diff / 2);
    if (x2 >= imageWidth) {
      const over = x2 - imageWidth;
      x2 -= over;
      x1 -= over;
    }
    if (x1 < 0) {
      x2 -= x1;
      x1 = 0;
    }
    if (x2 >= imageWidth) x2 = imageWidth;
  }
  return { x1, y1, x2, y2 };
}

/**
 * Where to inpaint for "only masked": the padded mask box grown to width:height, or null when the
 * mask is blank (A1111 then falls back to inpainting the whole image).
 */
export function inpaintCropRegion(mask: GrayImage, padding: number, width: number, height: number): CropRegion | null {
  const region = getCropRegion(mask, padding);
  return region && expandCropRegion(region, width, height, mask.width, mask.height);
}

function checkRegion(img: { width: number; height: number }, r: CropRegion, what: string): void {
  if (!(Number.isInteger(r.x1) && Number.isInteger(r.y1) && Number.isInteger(r.x2) && Number.isInteger(r.y2))
    || r.x1 < 0 || r.y1 < 0 || r.x2 > img.width || r.y2 > img.height || r.x2 <= r.x1 || r.y2 <= r.y1) {
    throw new RangeError(`${what}: region ${JSON.stringify(r)} is not inside the ${img.width}×${img.height} image`);
  }
}

/** The pixels of `region` (1- or 3-channel image), as a new image. */
export function cropImage<T extends RgbImage | GrayImage>(img: T, region: CropRegion): T {
  checkRegion(img, region, 'cropImage');
  const channels = img.data.length / (img.width * img.height);
  const w = region.x2 - region.x1, h = region.y2 - region.y1;
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const from = ((region.y1 + y) * img.width + region.x1) * channels;
    out.set(img.data.subarray(from, from + w * channels), y * w * channels);
  }
  return { ...img, data: out, width: w, height: h };
}

/** `region` of the image, resized to width × height for the engine (A1111: resize mode 2, fill). */
export async function cropAndFit<T extends RgbImage | GrayImage>(img: T, region: CropRegion, width: number, height: number): Promise<T> {
  return fitImage(cropImage(img, region), width, height, 'fill');
}

/**
 * The generated image back into the original: resized to the region's size (A1111's `uncrop`:
 * cover and centre-crop), then pasted at the region through `mask` (the blurred mask at the
 * original's size; 0 = original, 255 = generated, blended in between as `applyOverlay` does), or
 * over the whole region when no mask is given (overlay off). Outside the region every byte is the
 * original's.
 */
export async function pasteRegion(original: RgbImage, generated: RgbImage, region: CropRegion, mask?: GrayImage): Promise<RgbImage> {
  checkRegion(original, region, 'pasteRegion');
  if (mask && (mask.width !== original.width || mask.height !== original.height)) {
    throw new RangeError(`pasteRegion: mask is ${mask.width}×${mask.height}, original is ${original.width}×${original.height}`);
  }
  const w = region.x2 - region.x1, h = region.y2 - region.y1;
  const patch = await fitImage(generated, w, h, 'crop');
  const out = new Uint8Array(original.data);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (region.y1 + y) * original.width + region.x1 + x;
      const m = mask ? mask.data[p] : 255;
      if (m === 0) continue;
      const s = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const o = p * 3 + c;
        out[o] = m === 255 ? patch.data[s + c] : Math.round((original.data[o] * (255 - m) + patch.data[s + c] * m) / 255);
      }
    }
  }
  return { data: out, width: original.width, height: original.height };
}
