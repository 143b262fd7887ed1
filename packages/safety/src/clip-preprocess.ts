// transformers' CLIPImageProcessor as the safety checker's feature extractor runs it on 8-bit RGB:
// resize the short edge (Pillow bicubic), centre crop, rescale in float64 then float32, normalise
// in float32, HWC → CHW. Configured from feature_extractor/preprocessor_config.json.
import { readFile } from 'node:fs/promises';
import { resizeBicubicPil } from './pil-bicubic.ts';

export interface ClipPreprocessConfig {
  shortestEdge: number;
  crop: { width: number; height: number };
  mean: [number, number, number];
  std: [number, number, number];
  rescaleFactor: number;
}

export interface Rgb8 { data: Uint8Array; width: number; height: number }

const PIL_BICUBIC = 3;

/** Reads preprocessor_config.json (both the current and the older integer `size` forms). */
export async function readPreprocessConfig(file: string): Promise<ClipPreprocessConfig> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const size = raw.size as number | { shortest_edge?: number } | undefined;
  const crop = raw.crop_size as number | { width?: number; height?: number } | undefined;
  const shortestEdge = typeof size === 'number' ? size : size?.shortest_edge ?? 224;
  const cropW = typeof crop === 'number' ? crop : crop?.width ?? 224;
  const cropH = typeof crop === 'number' ? crop : crop?.height ?? 224;
  if (raw.resample !== undefined && raw.resample !== PIL_BICUBIC) {
    throw new Error(`${file}: resample ${String(raw.resample)} is not supported (only 3, bicubic)`);
  }
  for (const flag of ['do_resize', 'do_center_crop', 'do_rescale', 'do_normalize'] as const) {
    if (raw[flag] === false) throw new Error(`${file}: ${flag}: false is not supported`);
  }
  const triple = (v: unknown, fallback: [number, number, number]): [number, number, number] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : fallback;
  return {
    shortestEdge,
    crop: { width: cropW, height: cropH },
    mean: triple(raw.image_mean, [0.48145466, 0.4578275, 0.40821073]),
    std: triple(raw.image_std, [0.26862954, 0.26130258, 0.27577711]),
    rescaleFactor: typeof raw.rescale_factor === 'number' ? raw.rescale_factor : 1 / 255,
  };
}

/** Short edge to `edge`, long edge truncated proportionally (transformers' default_to_square=False). */
export function resizedSize(width: number, height: number, edge: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((edge * long) / short);
  return width <= height ? { width: edge, height: newLong } : { width: newLong, height: edge };
}

/** Resize + centre crop: the 8-bit image the model sees (the fixtures' crop_file). */
export function resizeAndCrop(img: Rgb8, cfg: ClipPreprocessConfig): Rgb8 {
  const size = resizedSize(img.width, img.height, cfg.shortestEdge);
  const resized = resizeBicubicPil(img.data, img.width, img.height, 3, size.width, size.height);
  const { width: cw, height: ch } = cfg.crop;
  const top = Math.floor((size.height - ch) / 2);
  const left = Math.floor((size.width - cw) / 2);
  const out = new Uint8Array(cw * ch * 3);
  // A crop larger than the image pads with zeros, as transformers' center_crop does.
  for (let y = 0; y < ch; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= size.height) continue;
    for (let x = 0; x < cw; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= size.width) continue;
      const s = (sy * size.width + sx) * 3;
      const d = (y * cw + x) * 3;
      out[d] = resized[s]!;
      out[d + 1] = resized[s + 1]!;
      out[d + 2] = resized[s + 2]!;
    }
  }
  return { data: out, width: cw, height: ch };
}

/** The model input for one image: float32 [3, H, W]. */
export function clipInput(img: Rgb8, cfg: ClipPreprocessConfig): Float32Array {
  const crop = resizeAndCrop(img, cfg);
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const mean = cfg.mean.map(Math.fround);
  const std = cfg.std.map(Math.fround);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const scaled = Math.fround(crop.data[i * 3 + c]! * cfg.rescaleFactor); // float64 product, then float32
      out[c * plane + i] = Math.fround(Math.fround(scaled - mean[c]!) / std[c]!);
    }
  }
  return out;
}
