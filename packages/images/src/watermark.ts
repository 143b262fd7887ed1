// Invisible watermark: the DWT-DCT scheme of the `invisible-watermark` library that the Stable
// Diffusion reference scripts use. In each marked YUV plane (its per-plane `scales`), a one-level Haar DWT's
// approximation band is cut into 4×4 blocks; in each block's DCT the largest AC coefficient is
// moved to ¼ (bit 0) or ¾ (bit 1) of a `scale` step. The payload repeats over the blocks; reading
// votes across the repeats, which is what lets it survive JPEG compression.

export interface WatermarkOptions {
  /** Quantisation steps per YUV plane, 0 = plane unused (the library's default: [0, 36, 36]). */
  scales?: readonly [number, number, number];
}

/**
 * Luma at the library's step. The library marks U and V ([0, 36, 36]), but 4:2:0 JPEG at quality
 * 75 destroys chroma marks (15 of 32 bits wrong in our tests) while a luma mark survives with no
 * bit wrong and a mean change under 1.1 levels. Pass [0, 36, 36] to match the library's decoder.
 */
export const DEFAULT_WATERMARK_SCALES = [36, 0, 0] as const;
const PLANES = ['y', 'u', 'v'] as const;

const BLOCK = 4;
const DELTA = 128;

/** A text payload: its UTF-8 bytes, most significant bit first (numpy.unpackbits). */
export function textBits(text: string): number[] {
  return [...Buffer.from(text, 'utf8')].flatMap((byte) => Array.from({ length: 8 }, (_, i) => (byte >> (7 - i)) & 1));
}
/** A 32-bit payload, most significant bit first. */
export function uint32Bits(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('watermark number must be a 32-bit unsigned integer');
  return Array.from({ length: 32 }, (_, i) => Math.floor(n / 2 ** (31 - i)) & 1);
}
export function bitsToText(bits: number[]): string {
  const bytes = Buffer.alloc(Math.floor(bits.length / 8));
  for (let b = 0; b < bytes.length; b++) for (let i = 0; i < 8; i++) bytes[b] = (bytes[b]! << 1) | bits[b * 8 + i]!;
  return bytes.toString('utf8');
}
export function bitsToUint32(bits: number[]): number {
  return bits.slice(0, 32).reduce((n, bit) => n * 2 + bit, 0);
}

// Orthonormal 4-point DCT-II (OpenCV's cv2.dct on a 4×4 block = this along rows and columns).
const DCT = Array.from({ length: BLOCK }, (_, k) => Array.from({ length: BLOCK }, (_, n) =>
  (k === 0 ? Math.sqrt(1 / BLOCK) : Math.sqrt(2 / BLOCK)) * Math.cos((Math.PI * (2 * n + 1) * k) / (2 * BLOCK))));

function dct2(b: Float64Array, inverse: boolean): Float64Array {
  const tmp = new Float64Array(16);
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) for (let k = 0; k < 4; k++) {
    let s = 0;
    for (let n = 0; n < 4; n++) s += (inverse ? DCT[n]![k]! : DCT[k]![n]!) * b[r * 4 + n]!;
    tmp[r * 4 + k] = s;
  }
  for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) {
    let s = 0;
    for (let n = 0; n < 4; n++) s += (inverse ? DCT[n]![k]! : DCT[k]![n]!) * tmp[n * 4 + c]!;
    out[k * 4 + c] = s;
  }
  return out;
}

/** Index (1…15) of the largest |AC| coefficient. */
function strongestAc(d: Float64Array): number {
  let best = 1;
  for (let i = 2; i < 16; i++) if (Math.abs(d[i]!) > Math.abs(d[best]!)) best = i;
  return best;
}

interface Planes { y: Float64Array; u: Float64Array; v: Float64Array }

function toYuv(rgb: Uint8Array, n: number): Planes {
  const y = new Float64Array(n), u = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rgb[i * 3]!, g = rgb[i * 3 + 1]!, b = rgb[i * 3 + 2]!;
    const yy = 0.299 * r + 0.587 * g + 0.114 * b;
    y[i] = yy;
    u[i] = 0.492 * (b - yy) + DELTA;
    v[i] = 0.877 * (r - yy) + DELTA;
  }
  return { y, u, v };
}

function fromYuv(p: Planes, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  const clamp = (x: number) => Math.min(255, Math.max(0, Math.round(x)));
  for (let i = 0; i < n; i++) {
    const yy = p.y[i]!, uu = p.u[i]! - DELTA, vv = p.v[i]! - DELTA;
    out[i * 3] = clamp(yy + 1.14 * vv);
    out[i * 3 + 1] = clamp(yy - 0.395 * uu - 0.581 * vv);
    out[i * 3 + 2] = clamp(yy + 2.032 * uu);
  }
  return out;
}

/** Visits each 4×4 block of the Haar approximation band of `plane` (w × h, both multiples of 8). */
function eachBlock(plane: Float64Array, w: number, h: number, visit: (coeffs: Float64Array, index: number) => Float64Array | void): void {
  const aw = w / 2, ah = h / 2;
  // Haar dwt2: approximation a = (p00 + p01 + p10 + p11) / 2; the detail bands stay as they are.
  const approx = new Float64Array(aw * ah);
  for (let y = 0; y < ah; y++) for (let x = 0; x < aw; x++) {
    const i = 2 * y * w + 2 * x;
    approx[y * aw + x] = (plane[i]! + plane[i + 1]! + plane[i + w]! + plane[i + w + 1]!) / 2;
  }
  let index = 0;
  for (let by = 0; by < ah / BLOCK; by++) for (let bx = 0; bx < aw / BLOCK; bx++) {
    const block = new Float64Array(16);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) block[r * 4 + c] = approx[(by * 4 + r) * aw + bx * 4 + c]!;
    const changed = visit(dct2(block, false), index++);
    if (!changed) continue;
    const back = dct2(changed, true);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) {
      // A change δ of the approximation coefficient moves each of its four pixels by δ/2.
      const ax = bx * 4 + c, ay = by * 4 + r;
      const delta = (back[r * 4 + c]! - approx[ay * aw + ax]!) / 2;
      const i = 2 * ay * w + 2 * ax;
      plane[i] = plane[i]! + delta; plane[i + 1] = plane[i + 1]! + delta;
      plane[i + w] = plane[i + w]! + delta; plane[i + w + 1] = plane[i + w + 1]! + delta;
    }
  }
}

interface Img { data: Uint8Array; width: number; height: number }

function region(img: Img): { w: number; h: number } {
  return { w: Math.floor(img.width / 8) * 8, h: Math.floor(img.height / 8) * 8 };
}

/** Copies `w × h` of channel plane from a full-size plane (top-left region). */
function crop(plane: Float64Array, stride: number, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) out.set(plane.subarray(y * stride, y * stride + w), y * w);
  return out;
}
function paste(dst: Float64Array, stride: number, src: Float64Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) dst.set(src.subarray(y * w, y * w + w), y * stride);
}

/** The image with `bits` embedded (a copy). */
export function embedWatermark<T extends Img>(img: T, bits: readonly number[], opts: WatermarkOptions = {}): T {
  if (bits.length === 0) throw new RangeError('empty watermark');
  const scales = opts.scales ?? DEFAULT_WATERMARK_SCALES;
  const { w, h } = region(img);
  const capacity = (w / 8) * (h / 8);
  if (capacity < bits.length) throw new RangeError(`image too small for a ${bits.length}-bit watermark (${capacity} blocks)`);
  const n = img.width * img.height;
  const planes = toYuv(img.data, n);
  for (const [p, name] of PLANES.entries()) {
    const scale = scales[p];
    if (scale <= 0) continue;
    const plane = crop(planes[name], img.width, w, h);
    eachBlock(plane, w, h, (d, index) => {
      const bit = bits[index % bits.length]!;
      const pos = strongestAc(d);
      const val = Math.abs(d[pos]!);
      const marked = (Math.floor(val / scale) + 0.25 + 0.5 * bit) * scale;
      d[pos] = d[pos]! >= 0 ? marked : -marked;
      return d;
    });
    paste(planes[name], img.width, plane, w, h);
  }
  return { ...img, data: fromYuv(planes, n) };
}

/** Reads `length` bits by majority over every repeat in both planes. */
export function detectWatermark(img: Img, length: number, opts: WatermarkOptions = {}): number[] {
  const scales = opts.scales ?? DEFAULT_WATERMARK_SCALES;
  const { w, h } = region(img);
  const votes = new Float64Array(length);
  const counts = new Float64Array(length);
  const planes = toYuv(img.data, img.width * img.height);
  for (const [p, name] of PLANES.entries()) {
    const scale = scales[p];
    if (scale <= 0) continue;
    eachBlock(crop(planes[name], img.width, w, h), w, h, (d, index) => {
      const val = Math.abs(d[strongestAc(d)]!);
      votes[index % length] += val % scale > 0.5 * scale ? 1 : 0;
      counts[index % length]! += 1;
    });
  }
  return Array.from(votes, (v, i) => (counts[i]! > 0 && v / counts[i]! > 0.5 ? 1 : 0));
}
