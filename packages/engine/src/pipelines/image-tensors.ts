/**
 * Pixels ↔ tensors as diffusers' VaeImageProcessor does it (float32 throughout): RGB → NCHW in
 * [-1, 1]; mask → binary {0, 1} at 0.5; decoded NCHW → clamp(x/2 + 0.5) → round(×255) HWC bytes.
 */
import type { MaskImage, RgbImage } from './types.ts';

const f = Math.fround;
/** pixel/255*2-1 in float32 steps, per byte value. */
const PIXEL_TO_UNIT = Float32Array.from({ length: 256 }, (_, p) => f(f(f(p / 255) * 2) - 1));

/** HWC RGB bytes → [1, 3, H, W] float32 in [-1, 1]. */
export function rgbToTensor(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const src = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = PIXEL_TO_UNIT[src[j]!]!;
    out[n + i] = PIXEL_TO_UNIT[src[j + 1]!]!;
    out[2 * n + i] = PIXEL_TO_UNIT[src[j + 2]!]!;
  }
  return out;
}

/** Gray bytes → binary mask [H, W] (1 = repaint): pixel/255 ≥ 0.5. */
export function binaryMask(mask: MaskImage): Uint8Array {
  const out = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < out.length; i++) out[i] = f(mask.data[i]! / 255) < 0.5 ? 0 : 1;
  return out;
}

/** init × (mask < 0.5): the masked image the inpaint pipeline encodes. */
export function maskedImage(image: Float32Array, mask: Uint8Array): Float32Array {
  const n = mask.length;
  const out = new Float32Array(image.length);
  for (let c = 0; c < 3; c++) {
    const o = c * n;
    for (let i = 0; i < n; i++) out[o + i] = mask[i] ? 0 : image[o + i]!;
  }
  return out;
}

/** torch.nn.functional.interpolate(mode='nearest') of a [H, W] mask to [h, w], as float 0/1. */
export function downsampleMask(mask: Uint8Array, width: number, height: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  const sy = height / h;
  const sx = width / w;
  for (let y = 0; y < h; y++) {
    const srcY = Math.min(Math.floor(y * sy), height - 1);
    for (let x = 0; x < w; x++) out[y * w + x] = mask[srcY * width + Math.min(Math.floor(x * sx), width - 1)]!;
  }
  return out;
}

/** numpy's round-half-to-even of a non-negative value. */
function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) ? r - 1 : r;
}

/** Decoded [B, 3, H, W] → B images of HWC bytes: round(clamp(x/2+0.5, 0, 1) × 255). */
export function tensorToImages(data: Float32Array, batch: number, width: number, height: number): RgbImage[] {
  const n = width * height;
  const images: RgbImage[] = [];
  for (let b = 0; b < batch; b++) {
    const out = new Uint8Array(3 * n);
    const base = b * 3 * n;
    for (let c = 0; c < 3; c++) {
      const o = base + c * n;
      for (let i = 0; i < n; i++) {
        let v = f(f(data[o + i]! / 2) + 0.5);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        out[3 * i + c] = roundEven(f(v * 255));
      }
    }
    images.push({ data: out, width, height });
  }
  return images;
}

/** Same postprocess to float [B, H, W, 3] in [0, 1] (diffusers' output_type "np"), for tests. */
export function tensorToUnitHwc(data: Float32Array, batch: number, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(batch * 3 * n);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < 3; c++) {
      const o = b * 3 * n + c * n;
      for (let i = 0; i < n; i++) {
        const v = f(f(data[o + i]! / 2) + 0.5);
        out[b * 3 * n + 3 * i + c] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}
