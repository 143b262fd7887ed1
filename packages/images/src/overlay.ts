// A1111's inpainting overlay: the original is pasted back over the generated image through the
// (blurred) mask, so pixels the mask keeps (0) are the original's bytes exactly.
import type { GrayImage, RgbImage } from './types.ts';

export function applyOverlay(generated: RgbImage, original: RgbImage, mask: GrayImage): RgbImage {
  const { width, height } = generated;
  for (const [name, img] of [['original', original], ['mask', mask]] as const) {
    if (img.width !== width || img.height !== height) {
      throw new RangeError(`applyOverlay: ${name} is ${img.width}×${img.height}, generated is ${width}×${height}`);
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const m = mask.data[i];
    for (let c = 0; c < 3; c++) {
      const o = i * 3 + c;
      // m = 0 → original, m = 255 → generated, in between a rounded blend.
      out[o] = m === 0 ? original.data[o] : m === 255 ? generated.data[o] : Math.round((original.data[o] * (255 - m) + generated.data[o] * m) / 255);
    }
  }
  return { data: out, width, height };
}
