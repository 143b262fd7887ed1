// Colour coherence against drift: each frame's colours are matched to frame 0's in CIE LAB by
// histogram matching per channel, as Deforum does (skimage's match_histograms on LAB images).
import type { Frame } from './frame.ts';

// sRGB (D65) ↔ CIE LAB, float64.
const XN = 0.95047, YN = 1.0, ZN = 1.08883;
const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const fromLinear = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const fInv = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));

export function rgbToLab(frame: Frame): Float64Array {
  const n = frame.width * frame.height;
  const lab = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = toLinear(frame.data[i * 3]! / 255), g = toLinear(frame.data[i * 3 + 1]! / 255), b = toLinear(frame.data[i * 3 + 2]! / 255);
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / XN;
    const y = (0.2126729 * r + 0.7151522 * g + 0.072175 * b) / YN;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / ZN;
    const fx = f(x), fy = f(y), fz = f(z);
    lab[i * 3] = 116 * fy - 16;
    lab[i * 3 + 1] = 500 * (fx - fy);
    lab[i * 3 + 2] = 200 * (fy - fz);
  }
  return lab;
}

export function labToRgb(lab: Float64Array, width: number, height: number): Frame {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const fy = (lab[i * 3]! + 16) / 116;
    const fx = fy + lab[i * 3 + 1]! / 500;
    const fz = fy - lab[i * 3 + 2]! / 200;
    const x = fInv(fx) * XN, y = fInv(fy) * YN, z = fInv(fz) * ZN;
    const rgb = [
      3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
      -0.969266 * x + 1.8760108 * y + 0.041556 * z,
      0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    ];
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.min(255, Math.max(0, Math.round(fromLinear(Math.min(1, Math.max(0, rgb[c]!))) * 255)));
  }
  return { width, height, data };
}

/** skimage's _match_cumulative_cdf for one channel (values strided by 3 from `offset`). */
function matchChannel(src: Float64Array, ref: Float64Array, offset: number, out: Float64Array): void {
  const n = src.length / 3;
  const m = ref.length / 3;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => src[a * 3 + offset]! - src[b * 3 + offset]!);
  const refSorted = Float64Array.from({ length: m }, (_, i) => ref[i * 3 + offset]!).sort();
  // Unique template values and their cumulative quantiles.
  const tv: number[] = [];
  const tq: number[] = [];
  for (let i = 0; i < m; i++) {
    if (i + 1 < m && refSorted[i + 1] === refSorted[i]) continue;
    tv.push(refSorted[i]!);
    tq.push((i + 1) / m);
  }
  const interp = (q: number): number => {
    if (q <= tq[0]!) return tv[0]!;
    let lo = 0, hi = tq.length - 1;
    if (q >= tq[hi]!) return tv[hi]!;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (tq[mid]! <= q) lo = mid; else hi = mid; }
    return tv[lo]! + ((tv[hi]! - tv[lo]!) * (q - tq[lo]!)) / (tq[hi]! - tq[lo]!);
  };
  // Each unique source value maps through its cumulative quantile.
  let i = 0;
  while (i < n) {
    let j = i;
    const v = src[order[i]! * 3 + offset]!;
    while (j + 1 < n && src[order[j + 1]! * 3 + offset] === v) j++;
    const mapped = interp((j + 1) / n);
    for (let k = i; k <= j; k++) out[order[k]! * 3 + offset] = mapped;
    i = j + 1;
  }
}

/** `frame`'s colours matched to `reference`'s in LAB. */
export function matchColorsLab(frame: Frame, reference: Frame): Frame {
  const src = rgbToLab(frame);
  const ref = rgbToLab(reference);
  const out = new Float64Array(src.length);
  for (let c = 0; c < 3; c++) matchChannel(src, ref, c, out);
  return labToRgb(out, frame.width, frame.height);
}
